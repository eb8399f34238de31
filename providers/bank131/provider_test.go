package bank131

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131/sandbox"
)

func TestOutcome(t *testing.T) {
	ref := providers.Ref{PayoutID: "po_ours"}
	card := &PaymentMethod{Type: "card", Card: &MaskedCard{Brand: "visa", Last4: "4242", BIN: "424242"}}
	amount := &AmountDetails{Amount: 10000, Currency: "rub"}
	payment := func(status string, e *APIError) []Payment {
		return []Payment{{ID: "po_2018", Status: status, PaymentMethod: card, AmountDetails: amount,
			Metadata: json.RawMessage(`"po_ours"`), Error: e}}
	}
	declined := &APIError{Code: "declined_by_issuer_bank", Description: "Declined by issuer bank"}
	byPartner := &APIError{Code: "session_cancelled_by_partner", Description: "Session cancelled by partner"}

	tests := []struct {
		name    string
		session Session
		state   providers.State
		code    string
	}{
		{"a created session without payout is created",
			Session{ID: "ps_1", Status: "created"}, providers.StateCreated, ""},
		{"a session in progress without payout is pending",
			Session{ID: "ps_1", Status: "in_progress"}, providers.StatePending, ""},
		{"a cancelled session without payout is cancelled",
			Session{ID: "ps_1", Status: "cancelled", Error: byPartner}, providers.StateCancelled, byPartner.Code},
		{"a session in error without payout is pending: error is not final",
			Session{ID: "ps_1", Status: "error", Error: declined}, providers.StatePending, ""},
		{"a payout in progress is pending",
			Session{ID: "ps_1", Status: "in_progress", Payments: payment("in_progress", nil)}, providers.StatePending, ""},
		{"a pending payout awaits confirmation",
			Session{ID: "ps_1", Status: "in_progress", NextAction: "confirm", Payments: payment("pending", nil)},
			providers.StateAwaitingConfirm, ""},
		{"next_action confirm awaits confirmation",
			Session{ID: "ps_1", Status: "in_progress", NextAction: "confirm", Payments: payment("in_progress", nil)},
			providers.StateAwaitingConfirm, ""},
		{"a succeeded payout in an accepted session succeeded",
			Session{ID: "ps_1", Status: "accepted", Payments: payment("succeeded", nil)}, providers.StateSucceeded, ""},
		{"a succeeded payout succeeded whatever the session says",
			Session{ID: "ps_1", Status: "error", Payments: payment("succeeded", nil)}, providers.StateSucceeded, ""},
		{"a failed payout failed, with the payout's error",
			Session{ID: "ps_1", Status: "error", Error: &APIError{Code: "other"}, Payments: payment("failed", declined)},
			providers.StateFailed, declined.Code},
		{"a failed payout without its own error takes the session's",
			Session{ID: "ps_1", Status: "error", Error: declined, Payments: payment("failed", nil)},
			providers.StateFailed, declined.Code},
		{"a payout in a session in error is pending: error is not final",
			Session{ID: "ps_1", Status: "error", Payments: payment("in_progress", nil)}, providers.StatePending, ""},
		{"a cancelled session is cancelled",
			Session{ID: "ps_1", Status: "cancelled", Error: byPartner, Payments: payment("failed", byPartner)},
			providers.StateCancelled, byPartner.Code},
		{"a payout failed by the partner's cancel is cancelled",
			Session{ID: "ps_1", Status: "in_progress", Payments: payment("failed", byPartner)},
			providers.StateCancelled, byPartner.Code},
		{"an unknown payout status is pending",
			Session{ID: "ps_1", Status: "in_progress", Payments: payment("reversing", nil)}, providers.StatePending, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := outcome(ref, tt.session)

			require.Equal(t, tt.state, o.State)
			require.Equal(t, tt.code, o.ErrorCode)
			require.Equal(t, "po_ours", o.Ref.PayoutID)
			require.Equal(t, "ps_1", o.Ref.SessionID)
			if len(tt.session.Payments) == 0 {
				require.Empty(t, o.Ref.PaymentID)
				require.Nil(t, o.Card)
				require.Nil(t, o.Amount)
				return
			}
			require.Equal(t, "po_2018", o.Ref.PaymentID)
			require.Equal(t, &payout.MaskedCard{Brand: "visa", Last4: "4242"}, o.Card)
			require.Equal(t, &payout.Amount{Value: 10000, Currency: "RUB"}, o.Amount)
		})
	}
}

func TestProvider_Name(t *testing.T) {
	require.Equal(t, "bank131", NewProvider(nil).Name())
}

func TestProvider_OpenKeepsAnExistingSession(t *testing.T) {
	srv, requests := fakeBank(t, http.StatusOK, okSession)
	p := NewProvider(newTestClient(t, srv.URL))
	ref := providers.Ref{PayoutID: "po_1", SessionID: "ps_9"}

	got, err := p.Open(context.Background(), ref)

	require.NoError(t, err)
	require.Equal(t, ref, got)
	require.Empty(t, requests())
}

func TestProvider_RefusesCallsItCannotMake(t *testing.T) {
	srv, requests := fakeBank(t, http.StatusOK, okSession)
	p := NewProvider(newTestClient(t, srv.URL))
	ctx := context.Background()
	noSession := providers.Ref{PayoutID: "po_1"}
	withSession := providers.Ref{PayoutID: "po_1", SessionID: "ps_1"}
	nowhere := cardRequest("")
	nowhere.Destination.Card = nil
	nominal := cardRequest("")
	nominal.Destination.Card = &payout.Card{Token: sandbox.SandboxTokenSucceeds}
	nominal.SourceAccount = payout.SourceNominal
	unknownAccount := cardRequest(sandbox.SandboxCardSucceeds)
	unknownAccount.SourceAccount = "savings"

	calls := map[string]func() error{
		"submit without session":  func() error { _, err := p.Submit(ctx, noSession, cardRequest(sandbox.SandboxCardSucceeds)); return err },
		"confirm without session": func() error { _, err := p.Confirm(ctx, noSession); return err },
		"cancel without session":  func() error { _, err := p.Cancel(ctx, noSession); return err },
		"status without session":  func() error { _, err := p.Status(ctx, noSession); return err },
		"submit to nowhere":       func() error { _, err := p.Submit(ctx, withSession, nowhere); return err },
		"submit from a source account into an opened session": func() error {
			_, err := p.Submit(ctx, withSession, nominal)
			return err
		},
		"submit from an unknown source account": func() error {
			_, err := p.Submit(ctx, noSession, unknownAccount)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			requireProviderError(t, call(), providers.Known, "")
		})
	}
	require.Empty(t, requests(), "nothing may be sent")
}

func TestProvider_SendsPayoutIDAsMetadataAndIdempotencyKeys(t *testing.T) {
	srv, requests := fakeBank(t, http.StatusOK, okSession)
	p := NewProvider(newTestClient(t, srv.URL))
	ctx := context.Background()
	ref := providers.Ref{PayoutID: "po_abc", SessionID: "ps_1"}

	_, err := p.Open(ctx, providers.Ref{PayoutID: "po_abc"})
	require.NoError(t, err)
	_, err = p.Submit(ctx, ref, cardRequest(sandbox.SandboxCardSucceeds))
	require.NoError(t, err)
	_, err = p.Confirm(ctx, ref)
	require.NoError(t, err)
	_, err = p.Cancel(ctx, ref)
	require.NoError(t, err)

	reqs := requests()
	require.Len(t, reqs, 4)
	require.JSONEq(t, `{"metadata":"po_abc"}`, string(reqs[0].Body))
	require.Empty(t, reqs[0].Header.Get(headerIdempotencyKey))
	var start struct {
		Metadata string `json:"metadata"`
	}
	require.NoError(t, json.Unmarshal(reqs[1].Body, &start))
	require.Equal(t, "po_abc", start.Metadata)
	require.Equal(t, "po_abc:start", reqs[1].Header.Get(headerIdempotencyKey))
	require.Equal(t, "po_abc:confirm", reqs[2].Header.Get(headerIdempotencyKey))
	require.Equal(t, "po_abc:cancel", reqs[3].Header.Get(headerIdempotencyKey))
}
