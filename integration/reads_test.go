package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	pfclient "github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/payout"
)

func TestRead_PayoutIsReadableAndDecidableWithTheWorkerDown(t *testing.T) {
	cfg := st.cfg
	cfg.TaskQueue = "payouts-worker-down"
	w := app.NewWorker(st.client, cfg.TaskQueue, st.codecKeys, st.providers...)
	require.NoError(t, w.Start())
	base := newServer(t, st.newAPI(cfg))

	id := createNew(t, base, t.Name(), cardPayout(cardSucceeds))
	backend := apiClient(base, "backend")
	ctx := context.Background()
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := backend.Wait(waitCtx, id, pfclient.StatusAwaitingApproval)
	require.NoError(t, err)
	w.Stop()

	start := time.Now()
	got, err := backend.Get(ctx, id)
	elapsed := time.Since(start)
	require.NoError(t, err)
	s := asState(t, got)
	require.Equal(t, payout.StatusAwaitingApproval, s.Status, "the state its workflow last published")
	require.NotEmpty(t, s.ProviderRefs["session_id"])
	// Not a timing of the read (make bench has those): a read must not wait for a worker that may be gone for hours.
	require.Less(t, elapsed, 5*time.Second, "a read without a worker does not wait for one")
	require.Equal(t, "published", got.Response.Header.Get("Payout-State-Source"))
	asOf, err := time.Parse(time.RFC3339Nano, got.Response.Header.Get("Payout-State-As-Of"))
	require.NoError(t, err, "the answer says how fresh it is")
	require.WithinDuration(t, s.UpdatedAt, asOf, time.Millisecond)

	mustDecide(t, base, "alice", id, "confirm", "approved while the worker was down")
	require.Empty(t, ledgerFor(id), "nothing moves until a worker is back")

	w = app.NewWorker(st.client, cfg.TaskQueue, st.codecKeys, st.providers...)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	done := waitFor(t, id, payout.StatusSucceeded)
	require.Equal(t, "approved while the worker was down", done.Approval.Reason)
	require.Len(t, ledgerFor(id), 1)
	// A worker that has just replayed the payout may answer slower than the live read waits on a loaded machine.
	require.Eventually(t, func() bool {
		p, err := backend.Get(ctx, id)
		return err == nil && p.Response.Header.Get("Payout-State-Source") == "live"
	}, 30*time.Second, 100*time.Millisecond, "with a worker back, reads are answered by the workflow")
}
