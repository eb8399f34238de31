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
	return filepath.Join(t.TempDir(), "bank131-sandbox.json")
}

func TestSandbox_StateSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	file := stateFile(t)
	h := newHarness(t, withStateFile(file))
	ref := h.awaitingConfirm(t, "po_reopen", SandboxCardSucceeds)
	h.awaitSent(t, ref.SessionID, hookReadyToConfirm)
	h.kill(t)

	h = newHarness(t, withStateFile(file))
	s, err := h.client.Confirm(ctx, ref.SessionID, "po_reopen:confirm")
	require.NoError(t, err)
	require.Equal(t, "in_progress", s.Status)
	finished := h.nextEvent(t)
	require.Equal(t, providers.EventPaymentFinished, finished.Kind, "ready_to_confirm was delivered: not sent again")
	require.Equal(t, ref, finished.Outcome.Ref)
	require.Equal(t, providers.StateSucceeded, finished.Outcome.State)
	ledger := h.sandbox.Ledger()
	require.Len(t, ledger, 1)
	require.Equal(t, ref.PaymentID, ledger[0].PaymentID)
	require.Equal(t, "po_reopen", ledger[0].Metadata)
	h.awaitSent(t, ref.SessionID, hookPaymentFinished)
	h.stop()

	h = newHarness(t, withStateFile(file))
	require.Equal(t, ledger, h.sandbox.Ledger())
	st, err := h.provider.Status(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateSucceeded, st.State)
	_, err = h.client.Confirm(ctx, ref.SessionID, "po_reopen:confirm")
	requireProviderError(t, err, providers.Unknown, "idempotency_key_already_exists")
	next, err := h.client.CreateSession(ctx, "po_next")
	require.NoError(t, err)
	require.NotEqual(t, ref.SessionID, next.ID)
	h.noEvent(t)
}

func TestSandbox_ResumesOfferAfterRestart(t *testing.T) {
	file := stateFile(t)
	h := newHarness(t, withStateFile(file), withDelay(time.Hour)) // stopped before ready_to_confirm
	ref := h.submitted(t, "po_offer", SandboxCardSucceeds)
	h.kill(t)

	h = newHarness(t, withStateFile(file))
	e := h.nextEvent(t)

	require.Equal(t, providers.EventReadyToConfirm, e.Kind)
	require.Equal(t, ref, e.Outcome.Ref)
}

func TestSandbox_ResendsUndeliveredReadyToConfirmAfterRestart(t *testing.T) {
	ctx := context.Background()
	file := stateFile(t)
	h := newHarness(t, withStateFile(file))
	h.refuseWebhooks()
	ref := h.submitted(t, "po_ready", SandboxCardSucceeds)
	require.Eventually(t, func() bool { return len(h.receivedHooks()) >= 1 }, 5*time.Second, time.Millisecond,
		"ready_to_confirm is refused at least once")
	h.kill(t)

	h = newHarness(t, withStateFile(file))
	e := h.nextEvent(t)

	require.Equal(t, providers.EventReadyToConfirm, e.Kind)
	require.Equal(t, ref, e.Outcome.Ref)
	_, err := h.provider.Confirm(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.EventPaymentFinished, h.nextEvent(t).Kind)
	require.Len(t, h.sandbox.Ledger(), 1)
}

func TestSandbox_ResumesExecutionAfterRestartWithoutPayingTwice(t *testing.T) {
	ctx := context.Background()
	file := stateFile(t)
	h := newHarness(t, withStateFile(file))
	ref := h.awaitingConfirm(t, "po_resume", SandboxCardSucceeds)
	h.awaitSent(t, ref.SessionID, hookReadyToConfirm)
	h.kill(t)

	h = newHarness(t, withStateFile(file), withDelay(time.Hour)) // killed between confirm and execution
	_, err := h.provider.Confirm(ctx, ref)
	require.NoError(t, err)
	h.kill(t)
	require.Empty(t, h.sandbox.Ledger())

	h = newHarness(t, withStateFile(file))
	e := h.nextEvent(t)
	require.Equal(t, providers.EventPaymentFinished, e.Kind)
	require.Equal(t, providers.StateSucceeded, e.Outcome.State)
	require.Len(t, h.sandbox.Ledger(), 1)
	h.awaitSent(t, ref.SessionID, hookPaymentFinished)
	h.stop()

	h = newHarness(t, withStateFile(file))
	h.noEvent(t)
	require.Len(t, h.sandbox.Ledger(), 1)
}

func TestSandbox_ResendsUndeliveredPaymentFinishedAfterRestartWithoutPayingTwice(t *testing.T) {
	file := stateFile(t)
	h := newHarness(t, withStateFile(file))
	ref := h.awaitingConfirm(t, "po_resend", SandboxCardSucceeds)
	h.refuseWebhooks()
	_, err := h.provider.Confirm(context.Background(), ref)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(h.receivedHooks()) >= 2 }, 5*time.Second, time.Millisecond,
		"payment_finished is refused at least once")
	h.kill(t)
	require.Len(t, h.sandbox.Ledger(), 1)

	h = newHarness(t, withStateFile(file))
	e := h.nextEvent(t)

	require.Equal(t, providers.EventPaymentFinished, e.Kind)
	require.Equal(t, providers.StateSucceeded, e.Outcome.State)
	h.noEvent(t)
	require.Len(t, h.sandbox.Ledger(), 1)
}

func TestSandbox_ALastChangeCutShortByAKillIsIgnored(t *testing.T) {
	ctx := context.Background()
	file := stateFile(t)
	h := newHarness(t, withStateFile(file))
	ref := h.awaitingConfirm(t, "po_torn", SandboxCardSucceeds)
	h.awaitSent(t, ref.SessionID, hookReadyToConfirm)
	h.kill(t)
	providertest.TearLastAppend(t, file, `{"version":1,"last_id":99,"sessions":[{"id":"`+ref.SessionID+`","status":"acc`)
	var logs providertest.Logs

	h = newHarness(t, withStateFile(file), withLogger(logs.Logger()))

	providertest.RequireTornRecordIgnored(t, file, &logs)
	_, err := h.provider.Confirm(ctx, ref)
	require.NoError(t, err)
	e := h.nextEvent(t)
	require.Equal(t, providers.EventPaymentFinished, e.Kind)
	require.Equal(t, providers.StateSucceeded, e.Outcome.State)
	require.Len(t, h.sandbox.Ledger(), 1)
}

func TestSandbox_StateFileHoldsNoCardNumber(t *testing.T) {
	file := stateFile(t)
	h := newHarness(t, withStateFile(file))
	ref := h.awaitingConfirm(t, "po_pan", SandboxCardSucceeds)
	_, err := h.provider.Confirm(context.Background(), ref)
	require.NoError(t, err)
	h.nextEvent(t)
	h.awaitSent(t, ref.SessionID, hookPaymentFinished)
	changes, err := os.ReadFile(file)
	require.NoError(t, err)
	h.stop()

	whole, err := os.ReadFile(file)
	require.NoError(t, err)
	for _, data := range [][]byte{changes, whole} { // the changes appended, and the whole state written on Close
		require.Contains(t, string(data), `"last4":"4242"`, "the file holds the payout")
		require.NotContains(t, string(data), SandboxCardSucceeds)
	}
	require.Equal(t, 1, bytes.Count(whole, []byte("\n")), "Close leaves the whole state as one record")
	providertest.RequirePrivateAndAlone(t, file)
}

func TestSandbox_CorruptStateFileIsMovedAsideAndSandboxStartsEmpty(t *testing.T) {
	file := stateFile(t)
	bad := []byte(`{"version":1,"sessions":[{"id":`)
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
	require.Empty(t, st.Sessions)
}

func TestSandbox_OpenFailsWhenTheStateFileCannotBeWritten(t *testing.T) {
	_, err := OpenSandbox(SandboxConfig{StateFile: filepath.Join(t.TempDir(), "missing", "sandbox.json")})

	require.Error(t, err)
}
