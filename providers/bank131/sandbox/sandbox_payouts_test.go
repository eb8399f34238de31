package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131"
)

// submitReq opens the payout unless it is single-request, submits it and returns the outcome.
func (h *harness) submitReq(t *testing.T, payoutID string, req payout.Request) providers.Outcome {
	t.Helper()
	ctx := context.Background()
	ref := providers.Ref{PayoutID: payoutID}
	if !bank131.SingleRequest(req) {
		var err error
		ref, err = h.provider.Open(ctx, ref)
		require.NoError(t, err)
	}
	out, err := h.provider.Submit(ctx, ref, req)
	require.NoError(t, err)
	require.NotEmpty(t, out.Ref.SessionID)
	return out
}

// confirmAndFinish confirms a payout that waits for confirmation and returns its payment_finished event.
func (h *harness) confirmAndFinish(t *testing.T, ref providers.Ref) providers.Event {
	t.Helper()
	ready := h.nextEvent(t)
	require.Equal(t, providers.EventReadyToConfirm, ready.Kind)
	require.Equal(t, ref, ready.Outcome.Ref)
	_, err := h.provider.Confirm(context.Background(), ref)
	require.NoError(t, err)
	finished := h.nextEvent(t)
	require.Equal(t, providers.EventPaymentFinished, finished.Kind)
	require.Equal(t, ref, finished.Outcome.Ref)
	return finished
}

func TestSandbox_PayoutsThatSucceed(t *testing.T) {
	single := func(r payout.Request) payout.Request { r.SingleRequest = true; return r }
	from := func(account string, r payout.Request) payout.Request { r.SourceAccount = account; return r }
	tests := []struct {
		name   string
		req    payout.Request
		card   *payout.MaskedCard
		ledger LedgerEntry
	}{
		{"card number, session first", cardRequest(SandboxCardSucceeds), &payout.MaskedCard{Brand: "visa", Last4: "4242"},
			LedgerEntry{Method: "card", CardLast4: "4242"}},
		{"card number, single request", single(cardRequest("5555555555554444")),
			&payout.MaskedCard{Brand: "mastercard", Last4: "4444"}, LedgerEntry{Method: "card", CardLast4: "4444"}},
		{"token, session first", tokenRequest(SandboxTokenSucceeds),
			&payout.MaskedCard{Brand: "visa", Last4: "4242", Tokenized: true}, LedgerEntry{Method: "token", CardLast4: "4242"}},
		{"token, single request", single(tokenRequest(SandboxTokenSucceeds)),
			&payout.MaskedCard{Brand: "visa", Last4: "4242", Tokenized: true}, LedgerEntry{Method: "token", CardLast4: "4242"}},
		{"token from the nominal account", from(payout.SourceNominal, tokenRequest(SandboxTokenSucceeds)),
			&payout.MaskedCard{Brand: "visa", Last4: "4242", Tokenized: true},
			LedgerEntry{Method: "token", SourceAccount: "nominal", CardLast4: "4242"}},
		{"token from the settlement account", from(payout.SourceSettlement, tokenRequest(SandboxTokenSucceeds)),
			&payout.MaskedCard{Brand: "visa", Last4: "4242", Tokenized: true},
			LedgerEntry{Method: "token", SourceAccount: "settlement", CardLast4: "4242"}},
		{"SBP, session first", sbpRequest(SandboxPhoneSucceeds), nil,
			LedgerEntry{Method: "sbp", PhoneLast4: "0001", BankID: SandboxBankID}},
		{"SBP to any other phone, single request", single(sbpRequest("+79169876543")), nil,
			LedgerEntry{Method: "sbp", PhoneLast4: "6543", BankID: SandboxBankID}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			payoutID := fmt.Sprintf("po_ok%d", i)

			out := h.submitReq(t, payoutID, tt.req)
			require.Equal(t, providers.StatePending, out.State)
			require.Equal(t, tt.card, out.Card)
			finished := h.confirmAndFinish(t, out.Ref)

			require.Equal(t, providers.StateSucceeded, finished.Outcome.State)
			st, err := h.provider.Status(context.Background(), out.Ref)
			require.NoError(t, err)
			require.Equal(t, providers.StateSucceeded, st.State)
			require.Equal(t, "accepted", st.Details[bank131.DetailSessionStatus])
			ledger := h.sandbox.Ledger()
			require.Len(t, ledger, 1)
			want := tt.ledger
			want.SessionID, want.PaymentID, want.Metadata = out.Ref.SessionID, out.Ref.PaymentID, payoutID
			want.Amount, want.Currency, want.ExecutedAt = 10000, "rub", ledger[0].ExecutedAt
			require.Equal(t, want, ledger[0])
			h.noEvent(t)
		})
	}
}

func TestSandbox_PayoutsRefusedAtTheBank(t *testing.T) {
	tests := []struct {
		name string
		req  payout.Request
		code string
	}{
		{"a declined token", tokenRequest(SandboxTokenDeclined), "declined_by_issuer_bank"},
		{"a phone the recipient's bank refuses", sbpRequest(SandboxPhoneRejected), "account_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			out := h.submitReq(t, "po_refused", tt.req)

			e := h.nextEvent(t)

			require.Equal(t, providers.EventPaymentFinished, e.Kind, "no ready_to_confirm")
			require.Equal(t, providers.StateFailed, e.Outcome.State)
			require.Equal(t, tt.code, e.Outcome.ErrorCode)
			require.Equal(t, out.Ref, e.Outcome.Ref)
			require.Empty(t, h.sandbox.Ledger())
		})
	}
}

func TestSandbox_UnknownTokenIsRefusedAndNothingSubmitted(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ref, err := h.provider.Open(ctx, providers.Ref{PayoutID: "po_tok"})
	require.NoError(t, err)

	_, err = h.provider.Submit(ctx, ref, tokenRequest(SandboxTokenUnknown))

	pe := requireProviderError(t, err, providers.Known, "invalid_token")
	require.Equal(t, "token/info", pe.Op)
	require.Contains(t, pe.Description, "invalid_request")
	st, err := h.provider.Status(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateCreated, st.State, "nothing submitted")

	// The bank's own words for it, by token/info and by a start that skips it.
	_, err = h.client.TokenInfo(ctx, SandboxTokenUnknown)
	requireProviderError(t, err, providers.Known, "invalid_request")
	_, err = h.client.StartPayout(ctx, bank131.StartPayout{SessionID: ref.SessionID, CardToken: SandboxTokenUnknown,
		RecipientName: "Ivanov Ivan", Amount: 100, Currency: "rub"})
	pe = requireProviderError(t, err, providers.Known, "invalid_request")
	require.Contains(t, pe.Description, "tokenized_card.token")
}

func TestSandbox_TokenInfoTellsTheMagicTokens(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		token        string
		brand, last4 string
	}{
		{SandboxTokenSucceeds, "visa", "4242"},
		{SandboxTokenDeclined, "mastercard", "4444"},
	}
	for _, tt := range tests {
		t.Run(tt.brand, func(t *testing.T) {
			info, err := h.client.TokenInfo(context.Background(), tt.token)

			require.NoError(t, err)
			require.Equal(t, bank131.TokenInfo{Token: tt.token, Brand: tt.brand, Last4: tt.last4, Type: "card"}, info)
		})
	}
}

func TestSandbox_ListsSBPBanks(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()

	banks, err := h.client.FPSBanks(ctx)
	require.NoError(t, err)
	require.Len(t, banks, len(SandboxBanks()))
	for i, b := range SandboxBanks() {
		require.Equal(t, bank131.SBPBank{ID: b.ID, Name: b.Name, RuName: b.RuName}, banks[i])
	}

	all, err := h.provider.SBPBanks(ctx, "")
	require.NoError(t, err)
	require.Len(t, all, len(banks))
	sber, err := h.provider.SBPBanks(ctx, "сбер")
	require.NoError(t, err)
	require.Equal(t, []providers.Bank{{ID: SandboxBankID, Name: "Sberbank"}}, sber)
	none, err := h.provider.SBPBanks(ctx, "no such bank")
	require.NoError(t, err)
	require.Empty(t, none)

	status, env, _ := h.post(t, h.partner, testProject, "fps/banks", []byte(`{}`), nil)
	require.Equal(t, http.StatusMethodNotAllowed, status, "fps/banks is a GET")
	require.Equal(t, "invalid_request", env.Error.Code)
}

func TestSandbox_RejectsInvalidSBPPayouts(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	valid := bank131.StartPayout{SBP: &bank131.SBPPayout{Phone: SandboxPhoneSucceeds, BankID: SandboxBankID, Description: "Payout"},
		Amount: 10000, Currency: "rub"}
	tests := []struct {
		name   string
		change func(*bank131.StartPayout)
		field  string
	}{
		{"a description of 141 characters", func(p *bank131.StartPayout) { p.SBP.Description = strings.Repeat("я", 141) },
			"faster_payment_system.description"},
		{"no description", func(p *bank131.StartPayout) { p.SBP.Description = "" }, "faster_payment_system.description"},
		{"dollars", func(p *bank131.StartPayout) { p.Currency = "usd" }, "amount_details.currency"},
		{"a short phone", func(p *bank131.StartPayout) { p.SBP.Phone = "+7900131000" }, "faster_payment_system.phone"},
		{"a phone not Russian", func(p *bank131.StartPayout) { p.SBP.Phone = "+49001310001" }, "faster_payment_system.phone"},
		{"an unknown bank", func(p *bank131.StartPayout) { p.SBP.BankID = "100000000999" }, "faster_payment_system.bank_id"},
		{"no bank", func(p *bank131.StartPayout) { p.SBP.BankID = "" }, "faster_payment_system.bank_id"},
		{"no amount", func(p *bank131.StartPayout) { p.Amount = 0 }, "amount_details.amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid
			sbp := *valid.SBP
			p.SBP = &sbp
			tt.change(&p)

			_, err := h.client.InitPayout(ctx, "", p)

			pe := requireProviderError(t, err, providers.Known, "invalid_request")
			require.Contains(t, pe.Description, tt.field)
		})
	}
	p := valid
	p.SBP = &bank131.SBPPayout{Phone: SandboxPhoneSucceeds, BankID: SandboxBankID, Description: strings.Repeat("я", 140)}
	_, err := h.client.InitPayout(ctx, "", p)
	require.NoError(t, err, "140 characters are allowed")
}

func TestSandbox_SBPPhoneGoesAsDigits(t *testing.T) {
	h := newHarness(t)

	status, env, _ := h.post(t, h.partner, testProject, "session/init/payout", []byte(`{
		"payment_method": {"type": "bank_account", "bank_account": {"system_type": "faster_payment_system",
			"faster_payment_system": {"phone": "+79001310001", "bank_id": "`+SandboxBankID+`", "description": "x"}}},
		"amount_details": {"amount": 100, "currency": "rub"}}`), nil)

	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, env.Error.Description, "phone must be 7 followed by 10 digits")
}

func TestSandbox_InitTakesNoSessionAndKeepsItsIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	p := bank131.StartPayout{CardNumber: SandboxCardSucceeds, RecipientName: "Ivanov Ivan", Amount: 100, Currency: "rub",
		Metadata: "po_idem", IdempotencyKey: "po_idem:init"}

	s, err := h.client.InitPayout(ctx, "", p)
	require.NoError(t, err)
	require.Equal(t, "in_progress", s.Status)
	_, err = h.client.InitPayout(ctx, "", p)
	pe := requireProviderError(t, err, providers.Unknown, "idempotency_key_already_exists")
	require.True(t, pe.Exists)

	// The same key for another method is another request.
	_, err = h.client.InitPayout(ctx, payout.SourceSettlement, p)
	require.NoError(t, err)

	status, env, _ := h.post(t, h.partner, testProject, "session/init/payout",
		[]byte(`{"session_id":"`+s.ID+`","payment_method":{"type":"card","card":{"type":"bank_card","bank_card":{"number":"4242424242424242"}}}}`), nil)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, env.Error.Description, "session_id")
}

func TestSandbox_ErrorModeKeepsTheSessionInErrorForAWhile(t *testing.T) {
	for _, req := range []payout.Request{cardRequest(SandboxCardErrorThenSucceeds), sbpRequest(SandboxPhoneErrorThenSucceeds)} {
		t.Run(req.Method(), func(t *testing.T) {
			h := newHarness(t, withErrorHold(600*time.Millisecond))
			ctx := context.Background()
			out := h.submitReq(t, "po_err", req)
			require.Equal(t, providers.EventReadyToConfirm, h.nextEvent(t).Kind)
			_, err := h.provider.Confirm(ctx, out.Ref)
			require.NoError(t, err)

			require.Eventually(t, func() bool {
				st, err := h.provider.Status(ctx, out.Ref)
				return err == nil && st.Details[bank131.DetailSessionStatus] == "error"
			}, 5*time.Second, 2*time.Millisecond)
			st, err := h.provider.Status(ctx, out.Ref)
			require.NoError(t, err)
			require.Equal(t, providers.StatePending, st.State, "error is not final")
			require.Empty(t, h.sandbox.Ledger())
			h.noEvent(t)

			e := h.nextEvent(t)
			require.Equal(t, providers.EventPaymentFinished, e.Kind)
			require.Equal(t, providers.StateSucceeded, e.Outcome.State)
			st, err = h.provider.Status(ctx, out.Ref)
			require.NoError(t, err)
			require.Equal(t, "accepted", st.Details[bank131.DetailSessionStatus])
			require.Len(t, h.sandbox.Ledger(), 1)
		})
	}
}

func TestSandbox_ErrorModeResumesAfterRestart(t *testing.T) {
	ctx := context.Background()
	file := stateFile(t)
	h := newHarness(t, withStateFile(file), withErrorHold(time.Hour))
	out := h.submitReq(t, "po_err_restart", cardRequest(SandboxCardErrorThenSucceeds))
	require.Equal(t, providers.EventReadyToConfirm, h.nextEvent(t).Kind)
	_, err := h.provider.Confirm(ctx, out.Ref)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := h.provider.Status(ctx, out.Ref)
		return err == nil && st.Details[bank131.DetailSessionStatus] == "error"
	}, 5*time.Second, 2*time.Millisecond)
	h.kill(t)

	h = newHarness(t, withStateFile(file), withErrorHold(time.Hour))
	st, err := h.provider.Status(ctx, out.Ref)
	require.NoError(t, err)
	require.Equal(t, "error", st.Details[bank131.DetailSessionStatus], "the hold is kept across a restart")
	h.noEvent(t)
	require.Empty(t, h.sandbox.Ledger())
}

func TestSandbox_WithoutWebhooksThePayoutIsPolled(t *testing.T) {
	h := newHarness(t, withNoWebhooks())
	ctx := context.Background()
	out := h.submitReq(t, "po_poll", tokenRequest(SandboxTokenSucceeds))

	require.Eventually(t, func() bool {
		st, err := h.provider.Status(ctx, out.Ref)
		return err == nil && st.State == providers.StateAwaitingConfirm
	}, 5*time.Second, 2*time.Millisecond)
	_, err := h.provider.Confirm(ctx, out.Ref)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := h.provider.Status(ctx, out.Ref)
		return err == nil && st.State == providers.StateSucceeded
	}, 5*time.Second, 2*time.Millisecond)
	require.Len(t, h.sandbox.Ledger(), 1)
	require.Empty(t, h.receivedHooks(), "no webhook at all")

	h.sandbox.SetNoWebhooks(false)
	out = h.submitReq(t, "po_hooks_again", cardRequest(SandboxCardSucceeds))
	require.Equal(t, providers.StateSucceeded, h.confirmAndFinish(t, out.Ref).Outcome.State)
}

func TestSandbox_TokenAndSBPPayoutsAnswerInTheBanksFormat(t *testing.T) {
	h := newHarness(t)
	token := h.submitReq(t, "po_fmt_token", tokenRequest(SandboxTokenSucceeds))
	sbp := h.submitReq(t, "po_fmt_sbp", sbpRequest(SandboxPhoneSucceeds))

	_, _, raw := h.post(t, h.partner, testProject, "session/status", []byte(`{"session_id":"`+token.Ref.SessionID+`"}`), nil)
	require.Contains(t, string(raw), `"payment_method":{"type":"card","card":{"type":"tokenized_card","tokenized_card":{"token":"`+
		SandboxTokenSucceeds+`"}}}`)
	_, _, raw = h.post(t, h.partner, testProject, "session/status", []byte(`{"session_id":"`+sbp.Ref.SessionID+`"}`), nil)
	require.Contains(t, string(raw), `"payment_method":{"type":"bank_account","bank_account":{"system_type":"faster_payment_system",`+
		`"faster_payment_system":{"phone":"79001310001","bank_id":"`+SandboxBankID+`","description":"Payout for order 123"}}}`)
	var env envelope
	require.NoError(t, json.Unmarshal(raw, &env))
	require.Equal(t, "in_progress", env.Session.Status)
}

func TestSandbox_PayoutStateSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	file := stateFile(t)
	h := newHarness(t, withStateFile(file))
	req := sbpRequest(SandboxPhoneSucceeds)
	req.SingleRequest = true
	sbp := h.submitReq(t, "po_sbp_reopen", req)
	require.Equal(t, providers.EventReadyToConfirm, h.nextEvent(t).Kind)
	h.awaitSent(t, sbp.Ref.SessionID, hookReadyToConfirm)
	h.kill(t)

	h = newHarness(t, withStateFile(file))
	_, err := h.provider.Confirm(ctx, sbp.Ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateSucceeded, h.nextEvent(t).Outcome.State)
	ledger := h.sandbox.Ledger()
	require.Len(t, ledger, 1)
	require.Equal(t, "sbp", ledger[0].Method)
	require.Equal(t, "0001", ledger[0].PhoneLast4)
	h.stop()

	h = newHarness(t, withStateFile(file))
	require.Equal(t, ledger, h.sandbox.Ledger())
}
