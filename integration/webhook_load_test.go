package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/payoutflow/payoutflow/internal/stacktest"
	"github.com/payoutflow/payoutflow/payout"
)

// TestWebhookReceiver_BurstOfValidForgedMalformedAndOversized sends a few thousand webhooks at once for many
// payouts: every valid one must reach its payout's workflow exactly once, every bad one must be refused with its
// status, and the receiver must stay up with its memory bounded.
func TestWebhookReceiver_BurstOfValidForgedMalformedAndOversized(t *testing.T) {
	const payouts, perPayout = 40, 50 // 2000 webhooks
	type target struct{ id, body, sig string }
	targets := make([]target, payouts)
	for i := range targets {
		id := createID(t, st.api.URL, fmt.Sprintf("%s-%d", t.Name(), i), cardPayout(cardSucceeds))
		targets[i].id = id
	}
	for i := range targets {
		w := waitFor(t, targets[i].id, payout.StatusAwaitingApproval)
		body := `{"type":"ready_to_confirm","session":{"id":"` + w.ProviderRefs["session_id"] + `","status":"in_progress",` +
			`"next_action":"confirm","payments":[{"id":"` + w.ProviderRefs["payment_id"] + `","status":"pending","metadata":"` +
			w.ID + `","amount_details":{"amount":10000,"currency":"rub"}}]}}`
		targets[i].body, targets[i].sig = body, st.bankSign(t, body)
	}
	before := make([]int, payouts) // the sandbox's own ready_to_confirm
	for i, tg := range targets {
		before[i] = signalsOf(t, tg.id)
	}

	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)

	oversized := strings.Repeat("x", 2<<20)
	type shot struct {
		payout int
		kind   string
	}
	var shots []shot
	for i := range payouts * perPayout {
		kind := "valid"
		switch i % 20 {
		case 1:
			kind = "forged"
		case 2:
			kind = "malformed"
		case 3:
			if i%60 == 3 {
				kind = "oversized"
			}
		}
		shots = append(shots, shot{payout: i % payouts, kind: kind})
	}
	var delivered [payouts]atomic.Int64
	var wrong atomic.Int64
	client := &http.Client{Transport: stacktest.ContractTransport(t, &http.Transport{MaxIdleConnsPerHost: 64})}
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for _, s := range shots {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			tg := targets[s.payout]
			body, sig, want := tg.body, tg.sig, http.StatusOK
			switch s.kind {
			case "forged":
				body, want = strings.Replace(tg.body, `"pending"`, `"succeeded"`, 1), http.StatusUnauthorized
			case "malformed":
				body, sig, want = `{"type": "ready_to_confirm", "session": `, "bm90IGEgc2lnbmF0dXJl", http.StatusUnauthorized
			case "oversized":
				body, want = oversized, http.StatusRequestEntityTooLarge
			}
			req, _ := http.NewRequest(http.MethodPost, st.api.URL+"/webhooks/bank131", bytes.NewBufferString(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-PARTNER-SIGN", sig)
			resp, err := client.Do(req)
			if err != nil {
				wrong.Add(1)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				wrong.Add(1)
				t.Errorf("%s webhook answered %d, want %d", s.kind, resp.StatusCode, want)
				return
			}
			if s.kind == "valid" {
				delivered[s.payout].Add(1)
			}
		}()
	}
	wg.Wait()
	require.Zero(t, wrong.Load())

	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	growth := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	t.Logf("heap %d MiB before, %d MiB after the burst", m0.HeapAlloc>>20, m1.HeapAlloc>>20)
	require.Less(t, growth, int64(64<<20), "the receiver's memory stays bounded")
	require.Equal(t, http.StatusOK, do(t, st.api.URL, http.MethodGet, "/healthz", nil, "").Status, "still up")

	// Every valid webhook reached its workflow exactly once: one signal each, no more, no less. Signals that came
	// while a workflow task ran are written to the history when it completes: they are waited for, not counted short.
	for i, tg := range targets {
		want := before[i] + int(delivered[i].Load())
		require.Eventually(t, func() bool { return signalsOf(t, tg.id) >= want }, 10*time.Second, 100*time.Millisecond,
			"payout %d: %d webhooks delivered, fewer signals in its history", i, want)
		require.Equal(t, want, signalsOf(t, tg.id), "payout %d", i)
		require.Equal(t, payout.StatusAwaitingApproval, get(t, tg.id).Status, "nothing forged was believed")
	}
}

// signalsOf counts the ready_to_confirm signals in a payout's history.
func signalsOf(t *testing.T, id string) int {
	t.Helper()
	n := 0
	it := st.raw.GetWorkflowHistory(context.Background(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetWorkflowExecutionSignaledEventAttributes(); a != nil && a.GetSignalName() == "ready_to_confirm" {
			n++
		}
	}
	return n
}
