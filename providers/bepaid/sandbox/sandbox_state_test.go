package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
)

func stateFile(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "bepaid-sandbox.json")
}

func TestSandbox_StateSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	file := stateFile(t)
	h := newHarness(t, withStateFile(file))
	out := h.submit(t, "po_reopen", cardRequest(SandboxCardSucceeds))
	require.Equal(t, providers.StateSucceeded, h.nextEvent(t).Outcome.State)
	h.awaitNotified(t, out.Ref.SessionID)
	ledger := h.sandbox.Ledger()
	h.kill(t)

	h = newHarness(t, withStateFile(file), withReceiver(h.recv))
	require.Equal(t, ledger, h.sandbox.Ledger())
	st, err := h.provider.Status(ctx, out.Ref)
	require.NoError(t, err)
	require.Equal(t, out, st)
	st, err = h.provider.Status(ctx, providers.Ref{PayoutID: "po_reopen"})
	require.NoError(t, err)
	require.Equal(t, out, st)
	h.noEvent(t) // answered 200 before: not sent again

	// duplicate_check's memory is not kept: the same card and amount is a new payout, with a new uid.
	again := h.submit(t, "po_reopen_next", cardRequest(SandboxCardSucceeds))
	require.NotEqual(t, out.Ref.SessionID, again.Ref.SessionID)
	require.Len(t, h.sandbox.Ledger(), 2)
}

func TestSandbox_ResumesAPendingPayoutAfterRestartWithoutPayingTwice(t *testing.T) {
	file := stateFile(t)
	h := newHarness(t, withStateFile(file), withVerification(), withDelay(time.Hour)) // stopped while pending
	out := h.submit(t, "po_resume", cardRequest(SandboxCardPending))
	require.Equal(t, providers.StatePending, out.State)
	h.kill(t)
	require.Empty(t, h.sandbox.Ledger())
	require.Empty(t, h.recv.asked(), "not asked yet: the payout was still waiting")

	h = newHarness(t, withStateFile(file), withReceiver(h.recv))
	e := h.nextEvent(t)
	require.Equal(t, providers.StateSucceeded, e.Outcome.State)
	require.Equal(t, out.Ref, e.Outcome.Ref)
	require.Len(t, h.recv.asked(), 1, "the saved verification_url is asked before the payout")
	require.Len(t, h.sandbox.Ledger(), 1)
	h.awaitNotified(t, out.Ref.SessionID)
	h.stop()

	h = newHarness(t, withStateFile(file), withReceiver(h.recv))
	h.noEvent(t)
	require.Len(t, h.sandbox.Ledger(), 1)
}

func TestSandbox_ResendsAnUndeliveredNotificationAfterRestartWithoutPayingTwice(t *testing.T) {
	file := stateFile(t)
	h := newHarness(t, withStateFile(file))
	h.recv.notes.Refuse(1 << 30)
	out := h.submit(t, "po_resend", cardRequest(SandboxCardSucceeds))
	require.Eventually(t, func() bool { return len(h.recv.received()) >= 1 }, 5*time.Second, time.Millisecond,
		"the notification is refused at least once")
	h.kill(t)
	require.Len(t, h.sandbox.Ledger(), 1)

	h.recv.notes.Refuse(0)
	h = newHarness(t, withStateFile(file), withReceiver(h.recv))
	e := h.nextEvent(t)

	require.Equal(t, providers.StateSucceeded, e.Outcome.State)
	require.Equal(t, out.Ref, e.Outcome.Ref)
	h.awaitNotified(t, out.Ref.SessionID)
	h.noEvent(t)
	require.Len(t, h.sandbox.Ledger(), 1)
}

func TestSandbox_ALastChangeCutShortByAKillIsIgnored(t *testing.T) {
	file := stateFile(t)
	h := newHarness(t, withStateFile(file), withDelay(time.Hour)) // killed while pending
	out := h.submit(t, "po_torn", cardRequest(SandboxCardPending))
	require.Equal(t, providers.StatePending, out.State)
	h.kill(t)
	providertest.TearLastAppend(t, file, `{"version":1,"last_id":99,"transactions":[{"uid":"`+out.Ref.SessionID+`","st`)
	var logs providertest.Logs

	h = newHarness(t, withStateFile(file), withReceiver(h.recv), withLogger(logs.Logger()))

	providertest.RequireTornRecordIgnored(t, file, &logs)
	e := h.nextEvent(t)
	require.Equal(t, providers.StateSucceeded, e.Outcome.State)
	require.Equal(t, out.Ref, e.Outcome.Ref)
	require.Len(t, h.sandbox.Ledger(), 1)
}

func TestSandbox_StateFileHoldsNoCardNumber(t *testing.T) {
	file := stateFile(t)
	h := newHarness(t, withStateFile(file))
	out := h.submit(t, "po_pan", cardRequest(SandboxCardSucceeds))
	h.nextEvent(t)
	h.awaitNotified(t, out.Ref.SessionID)
	h.stop()

	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Contains(t, string(data), `"last_4":"0000"`, "the file holds the payout")
	require.Contains(t, string(data), out.Ref.SessionID)
	require.NotContains(t, string(data), SandboxCardSucceeds)
	var st sandboxState
	require.NoError(t, json.Unmarshal(data, &st))
	require.Len(t, st.Transactions, 1)
	require.True(t, st.Transactions[0].Notified)
	require.True(t, st.Transactions[0].Executed)
	providertest.RequirePrivateAndAlone(t, file)
}

func TestSandbox_CorruptStateFileIsMovedAsideAndSandboxStartsEmpty(t *testing.T) {
	file := stateFile(t)
	bad := []byte(`{"version":1,"transactions":[{"uid":`)
	require.NoError(t, os.WriteFile(file, bad, 0o600))
	var logs bytes.Buffer

	sb, err := OpenSandbox(SandboxConfig{StateFile: file, Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	require.NoError(t, err)
	t.Cleanup(sb.Close)
	require.Empty(t, sb.Ledger())
	require.Contains(t, logs.String(), "level=ERROR")
	providertest.RequireMovedAside(t, file, bad)
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var st sandboxState
	require.NoError(t, json.Unmarshal(data, &st), "a fresh state file replaces the corrupt one")
	require.Empty(t, st.Transactions)
}

func TestSandbox_StateFileOfAnotherVersionIsMovedAside(t *testing.T) {
	file := stateFile(t)
	other := []byte(`{"version":99}`)
	require.NoError(t, os.WriteFile(file, other, 0o600))

	sb, err := OpenSandbox(SandboxConfig{StateFile: file})

	require.NoError(t, err)
	t.Cleanup(sb.Close)
	providertest.RequireMovedAside(t, file, other)
}

func TestSandbox_OpenFailsWhenTheStateFileCannotBeWritten(t *testing.T) {
	_, err := OpenSandbox(SandboxConfig{StateFile: filepath.Join(t.TempDir(), "missing", "sandbox.json")})

	require.Error(t, err)
}
