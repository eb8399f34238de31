package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/faults"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131"
)

// submitted opens and submits a payout to card and returns its ref.
func (h *harness) submitted(t *testing.T, payoutID, card string) providers.Ref {
	t.Helper()
	ctx := context.Background()
	ref, err := h.provider.Open(ctx, providers.Ref{PayoutID: payoutID})
	require.NoError(t, err)
	out, err := h.provider.Submit(ctx, ref, cardRequest(card))
	require.NoError(t, err)
	return out.Ref
}

// awaitingConfirm submits a payout and waits for its ready_to_confirm.
func (h *harness) awaitingConfirm(t *testing.T, payoutID, card string) providers.Ref {
	t.Helper()
	ref := h.submitted(t, payoutID, card)
	e := h.nextEvent(t)
	require.Equal(t, providers.EventReadyToConfirm, e.Kind)
	require.Equal(t, ref, e.Outcome.Ref)
	require.Equal(t, providers.StateAwaitingConfirm, e.Outcome.State)
	return ref
}

func TestSandbox_CardPayoutSucceedsAfterConfirm(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()

	ref, err := h.provider.Open(ctx, providers.Ref{PayoutID: "po_ok"})
	require.NoError(t, err)
	require.Regexp(t, `^ps_\d+$`, ref.SessionID)
	st, err := h.provider.Status(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateCreated, st.State)

	submitted, err := h.provider.Submit(ctx, ref, cardRequest(SandboxCardSucceeds))
	require.NoError(t, err)
	require.Equal(t, providers.StatePending, submitted.State)
	require.Regexp(t, `^po_\d+$`, submitted.Ref.PaymentID)
	require.Equal(t, &payout.MaskedCard{Brand: "visa", Last4: "4242"}, submitted.Card)
	require.Equal(t, &payout.Amount{Value: 10000, Currency: "RUB"}, submitted.Amount)
	ref = submitted.Ref

	ready := h.nextEvent(t)
	require.Equal(t, providers.Event{Kind: providers.EventReadyToConfirm, Provider: "bank131", Outcome: providers.Outcome{
		Ref: ref, State: providers.StateAwaitingConfirm, Card: submitted.Card, Amount: submitted.Amount,
	}}, ready)
	require.Empty(t, h.sandbox.Ledger(), "no money moves before confirm")

	confirmed, err := h.provider.Confirm(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StatePending, confirmed.State)

	finished := h.nextEvent(t)
	require.Equal(t, providers.EventPaymentFinished, finished.Kind)
	require.Equal(t, ref, finished.Outcome.Ref)
	require.Equal(t, providers.StateSucceeded, finished.Outcome.State)

	st, err = h.provider.Status(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateSucceeded, st.State)
	ledger := h.sandbox.Ledger()
	require.Len(t, ledger, 1)
	require.Equal(t, ref.SessionID, ledger[0].SessionID)
	require.Equal(t, ref.PaymentID, ledger[0].PaymentID)
	require.Equal(t, "po_ok", ledger[0].Metadata)
	require.Equal(t, int64(10000), ledger[0].Amount)
	require.Equal(t, "rub", ledger[0].Currency)
	require.Equal(t, "4242", ledger[0].CardLast4)
	require.WithinDuration(t, time.Now(), ledger[0].ExecutedAt, 5*time.Second)

	s, err := h.client.Status(ctx, ref.SessionID)
	require.NoError(t, err)
	require.Equal(t, "accepted", s.Status)
	require.False(t, s.FinishedAt.IsZero())
	require.False(t, s.Payments[0].FinishedAt.IsZero())
	h.noEvent(t)
}

func TestSandbox_ServesTheLedgerOverHTTP(t *testing.T) {
	h := newHarness(t)
	ref := h.awaitingConfirm(t, "po_ledger", SandboxCardSucceeds)
	_, err := h.provider.Confirm(context.Background(), ref)
	require.NoError(t, err)
	h.nextEvent(t)

	resp, err := http.Get(h.api.URL + "/_sandbox/ledger")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var ledger []LedgerEntry
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ledger))
	require.Equal(t, h.sandbox.Ledger(), ledger)
}

func TestSandbox_EmptyLedgerIsAnEmptyArray(t *testing.T) {
	h := newHarness(t)
	rec := httptest.NewRecorder()

	h.sandbox.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_sandbox/ledger", nil))

	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "[]", rec.Body.String())
}

func TestSandbox_DeclinedCardFailsWithoutConfirm(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ref := h.submitted(t, "po_declined", SandboxCardDeclined)

	e := h.nextEvent(t)

	require.Equal(t, providers.EventPaymentFinished, e.Kind, "no ready_to_confirm for a declined card")
	require.Equal(t, ref, e.Outcome.Ref)
	require.Equal(t, providers.StateFailed, e.Outcome.State)
	require.Equal(t, "declined_by_issuer_bank", e.Outcome.ErrorCode)
	require.Equal(t, "Declined by issuer bank", e.Outcome.ErrorDescription)
	s, err := h.client.Status(ctx, ref.SessionID)
	require.NoError(t, err)
	require.Equal(t, "error", s.Status)
	require.Equal(t, "failed", s.Payments[0].Status)
	_, err = h.provider.Confirm(ctx, ref)
	requireProviderError(t, err, providers.Known, "session_wrong_state")
	require.Empty(t, h.sandbox.Ledger())
}

func TestSandbox_CardThatFailsLaterFailsAfterConfirm(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ref := h.awaitingConfirm(t, "po_later", SandboxCardFailsLater)

	_, err := h.provider.Confirm(ctx, ref)
	require.NoError(t, err)
	e := h.nextEvent(t)

	require.Equal(t, providers.EventPaymentFinished, e.Kind)
	require.Equal(t, providers.StateFailed, e.Outcome.State)
	require.Equal(t, "provider_issuer_unavailable", e.Outcome.ErrorCode)
	require.Equal(t, "Issuer unavailable", e.Outcome.ErrorDescription)
	st, err := h.provider.Status(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateFailed, st.State)
	require.Empty(t, h.sandbox.Ledger())
}

func TestSandbox_CancelWhileAwaitingConfirmMovesNoMoney(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ref := h.awaitingConfirm(t, "po_cancel", SandboxCardSucceeds)

	out, err := h.provider.Cancel(ctx, ref)

	require.NoError(t, err)
	require.Equal(t, providers.StateCancelled, out.State)
	require.Equal(t, "session_cancelled_by_partner", out.ErrorCode)
	h.noEvent(t)
	_, err = h.provider.Confirm(ctx, ref)
	requireProviderError(t, err, providers.Known, "session_wrong_state")
	st, err := h.provider.Status(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateCancelled, st.State)
	require.Empty(t, h.sandbox.Ledger())
}

func TestSandbox_CancelOfACreatedSession(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ref, err := h.provider.Open(ctx, providers.Ref{PayoutID: "po_early"})
	require.NoError(t, err)

	out, err := h.provider.Cancel(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateCancelled, out.State)

	_, err = h.provider.Submit(ctx, ref, cardRequest(SandboxCardSucceeds))
	requireProviderError(t, err, providers.Known, "session_wrong_state")
}

func TestSandbox_CancelOrConfirmWhileInProgressIsWrongState(t *testing.T) {
	h := newHarness(t, withDelay(time.Hour)) // the payout stays in progress
	ctx := context.Background()
	ref := h.submitted(t, "po_busy", SandboxCardSucceeds)

	_, err := h.provider.Confirm(ctx, ref)
	requireProviderError(t, err, providers.Known, "session_wrong_state")
	_, err = h.provider.Cancel(ctx, ref)
	requireProviderError(t, err, providers.Known, "session_wrong_state")
}

func TestSandbox_StartTwiceIsWrongState(t *testing.T) {
	h := newHarness(t)
	ref := h.submitted(t, "po_twice", SandboxCardSucceeds)

	_, err := h.client.StartPayout(context.Background(), bank131.StartPayout{SessionID: ref.SessionID,
		CardNumber: SandboxCardSucceeds, RecipientName: "Ivanov Ivan", Amount: 100, Currency: "rub"})

	requireProviderError(t, err, providers.Known, "session_wrong_state")
}

func TestSandbox_RejectsUnsignedRequest(t *testing.T) {
	h := newHarness(t)
	body := []byte(`{"metadata":"po_1"}`)
	otherBody, err := Sign(h.partner, []byte(`{}`))
	require.NoError(t, err)
	tests := []struct {
		name   string
		header map[string]string
	}{
		{"no signature", nil},
		{"signature of another body", map[string]string{headerSign: otherBody}},
		{"signature not base64", map[string]string{headerSign: "a4f1698616d6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, env, _ := h.post(t, nil, testProject, "session/create", body, tt.header)

			require.Equal(t, http.StatusUnauthorized, status)
			require.Equal(t, "error", env.Status)
			require.Equal(t, "authentication_error", env.Error.Code)
		})
	}
}

func TestSandbox_RejectsRequestSignedWithAnotherKey(t *testing.T) {
	h := newHarness(t)
	forger := h.newClient(t, h.bank) // a valid signature, by the wrong key

	_, err := forger.CreateSession(context.Background(), "po_1")

	pe := requireProviderError(t, err, providers.Known, "authentication_error")
	require.Equal(t, http.StatusUnauthorized, pe.HTTPStatus)
}

func TestSandbox_RejectsUnknownProject(t *testing.T) {
	h := newHarness(t)
	for _, project := range []string{"", "someone-else"} {
		t.Run(fmt.Sprintf("project %q", project), func(t *testing.T) {
			status, env, _ := h.post(t, h.partner, project, "session/create", []byte(`{}`), nil)

			require.Equal(t, http.StatusForbidden, status)
			require.Equal(t, "identification_error", env.Error.Code)
		})
	}
}

func TestSandbox_AcceptsAnyProjectWhenNoneIsSet(t *testing.T) {
	partner, bank := testKeys(t)
	sb := NewSandbox(SandboxConfig{PartnerPublicKey: &partner.PublicKey, BankPrivateKey: bank})
	t.Cleanup(sb.Close)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	c, err := bank131.NewClient(bank131.Config{BaseURL: srv.URL, Project: "any", PrivateKey: partner})
	require.NoError(t, err)

	_, err = c.CreateSession(context.Background(), nil)

	require.NoError(t, err)
}

func TestSandbox_RejectsUnknownMethod(t *testing.T) {
	h := newHarness(t)

	status, env, _ := h.post(t, h.partner, testProject, "session/init/payment", []byte(`{}`), nil)

	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, "invalid_request", env.Error.Code)
	require.Contains(t, env.Error.Description, "session/init/payment")
}

func TestSandbox_RejectsInvalidStartPayout(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ref, err := h.provider.Open(ctx, providers.Ref{PayoutID: "po_invalid"})
	require.NoError(t, err)
	valid := bank131.StartPayout{SessionID: ref.SessionID, CardNumber: SandboxCardSucceeds, RecipientName: "Ivanov Ivan",
		Amount: 10000, Currency: "rub"}
	tests := []struct {
		name   string
		change func(*bank131.StartPayout)
		field  string
	}{
		{"no session", func(p *bank131.StartPayout) { p.SessionID = "" }, "session_id"},
		{"unknown session", func(p *bank131.StartPayout) { p.SessionID = "ps_0" }, "session_id"},
		{"no card number", func(p *bank131.StartPayout) { p.CardNumber = "" }, "payment_method.card.bank_card.number"},
		{"card failing Luhn", func(p *bank131.StartPayout) { p.CardNumber = "4242424242424241" }, "payment_method.card.bank_card.number"},
		{"card too short", func(p *bank131.StartPayout) { p.CardNumber = "4242424242424" }, "payment_method.card.bank_card.number"},
		{"card with spaces", func(p *bank131.StartPayout) { p.CardNumber = "4242 4242 4242 4242" }, "payment_method.card.bank_card.number"},
		{"no recipient name", func(p *bank131.StartPayout) { p.RecipientName = " " }, "participant_details.recipient.full_name"},
		{"zero amount", func(p *bank131.StartPayout) { p.Amount = 0 }, "amount_details.amount"},
		{"negative amount", func(p *bank131.StartPayout) { p.Amount = -1 }, "amount_details.amount"},
		{"not roubles", func(p *bank131.StartPayout) { p.Currency = "usd" }, "amount_details.currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid
			tt.change(&p)

			_, err := h.client.StartPayout(ctx, p)

			pe := requireProviderError(t, err, providers.Known, "invalid_request")
			require.Equal(t, http.StatusBadRequest, pe.HTTPStatus)
			require.Contains(t, pe.Description, tt.field)
			require.NotContains(t, strings.ReplaceAll(err.Error(), " ", ""), "424242424242")
		})
	}
	st, err := h.provider.Status(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateCreated, st.State, "a refused start changes nothing")
}

func TestSandbox_RejectsBodiesOfTheWrongShape(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, method, body, field string
	}{
		{"not JSON", "session/create", `not json`, "JSON"},
		{"amount as a string", "session/start/payout",
			`{"session_id":"ps_1","amount_details":{"amount":"100","currency":"rub"}}`, "amount_details.amount"},
		{"card number as a number", "session/start/payout",
			`{"session_id":"ps_1","payment_method":{"type":"card","card":{"type":"bank_card","bank_card":{"number":4242424242424242}}}}`,
			"payment_method.card.bank_card.number"},
		{"session_id missing", "session/status", `{}`, "session_id"},
		{"wrong payment method", "session/start/payout", `{"session_id":"%s","payment_method":{"type":"wallet"}}`,
			"payment_method.type"},
	}
	ref, err := h.provider.Open(context.Background(), providers.Ref{PayoutID: "po_shape"})
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.ReplaceAll(tt.body, "%s", ref.SessionID)

			status, env, raw := h.post(t, h.partner, testProject, tt.method, []byte(body), nil)

			require.Equal(t, http.StatusBadRequest, status)
			require.Equal(t, "invalid_request", env.Error.Code)
			require.Contains(t, env.Error.Description, tt.field)
			require.NotContains(t, string(raw), "4242424242424242")
		})
	}
}

func TestSandbox_RepeatedIdempotencyKeyIsRefused(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ref := h.awaitingConfirm(t, "po_idem", SandboxCardSucceeds)

	_, err := h.client.Confirm(ctx, ref.SessionID, "po_idem:confirm")
	require.NoError(t, err)
	_, err = h.client.Confirm(ctx, ref.SessionID, "po_idem:confirm")

	pe := requireProviderError(t, err, providers.Unknown, "idempotency_key_already_exists")
	require.Equal(t, http.StatusBadRequest, pe.HTTPStatus)
	require.Equal(t, "already in progress or processed", pe.Description)
	require.Equal(t, providers.StateSucceeded, h.nextEvent(t).Outcome.State)
	require.Len(t, h.sandbox.Ledger(), 1)

	// A key is scoped to its method, and a repeat of start changes nothing either.
	_, err = h.client.Cancel(ctx, ref.SessionID, "po_idem:confirm")
	requireProviderError(t, err, providers.Known, "session_wrong_state")
	_, err = h.client.StartPayout(ctx, bank131.StartPayout{SessionID: ref.SessionID, CardNumber: SandboxCardSucceeds,
		RecipientName: "Ivanov Ivan", Amount: 100, Currency: "rub", IdempotencyKey: "po_idem:start"})
	requireProviderError(t, err, providers.Unknown, "idempotency_key_already_exists")
}

func TestSandbox_RefusedRequestDoesNotSpendItsIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ref, err := h.provider.Open(ctx, providers.Ref{PayoutID: "po_retry"})
	require.NoError(t, err)
	p := bank131.StartPayout{SessionID: ref.SessionID, CardNumber: SandboxCardSucceeds, RecipientName: "",
		Amount: 100, Currency: "rub", IdempotencyKey: "po_retry:start"}

	_, err = h.client.StartPayout(ctx, p)
	requireProviderError(t, err, providers.Known, "invalid_request")
	p.RecipientName = "Ivanov Ivan"
	_, err = h.client.StartPayout(ctx, p)

	require.NoError(t, err)
}

func TestSandbox_ConcurrentConfirmsExecuteOnce(t *testing.T) {
	h := newHarness(t)
	ref := h.awaitingConfirm(t, "po_race", SandboxCardSucceeds)

	errs := make([]error, 10)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = h.client.Confirm(context.Background(), ref.SessionID, "")
		})
	}
	wg.Wait()

	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		requireProviderError(t, err, providers.Known, "session_wrong_state")
	}
	require.Equal(t, 1, ok)
	require.Equal(t, providers.StateSucceeded, h.nextEvent(t).Outcome.State)
	h.noEvent(t)
	require.Len(t, h.sandbox.Ledger(), 1)
}

func TestSandbox_RetriesWebhookUntilAnswered200AndKeepsOrder(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.receiver.Refuse(3) // ready_to_confirm is refused three times: 50+100+200 ms of retries
	ref := h.submitted(t, "po_retry", SandboxCardSucceeds)

	// Confirm as soon as the status says so, before the webhook got through.
	require.Eventually(t, func() bool {
		st, err := h.provider.Status(ctx, ref)
		return err == nil && st.State == providers.StateAwaitingConfirm
	}, 5*time.Second, 5*time.Millisecond)
	_, err := h.provider.Confirm(ctx, ref)
	require.NoError(t, err)

	require.Equal(t, providers.EventReadyToConfirm, h.nextEvent(t).Kind)
	require.Equal(t, providers.EventPaymentFinished, h.nextEvent(t).Kind)
	var types []string
	for _, b := range h.receivedHooks() {
		var hook webhook
		require.NoError(t, json.Unmarshal(b, &hook))
		types = append(types, hook.Type)
	}
	require.Equal(t, []string{"ready_to_confirm", "ready_to_confirm", "ready_to_confirm", "ready_to_confirm",
		"payment_finished"}, types)
}

func TestSandbox_WebhooksWaitForAURL(t *testing.T) {
	partner, bank := testKeys(t)
	sb := NewSandbox(SandboxConfig{PartnerPublicKey: &partner.PublicKey, BankPrivateKey: bank,
		WebhookDelay: time.Millisecond})
	t.Cleanup(sb.Close)
	api := httptest.NewServer(sb)
	t.Cleanup(api.Close)
	c, err := bank131.NewClient(bank131.Config{BaseURL: api.URL, Project: testProject, PrivateKey: partner})
	require.NoError(t, err)
	p := bank131.NewProvider(c)
	ref, err := p.Open(context.Background(), providers.Ref{PayoutID: "po_later_url"})
	require.NoError(t, err)
	_, err = p.Submit(context.Background(), ref, cardRequest(SandboxCardSucceeds))
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // a few attempts fail: no URL yet

	got := make(chan []byte, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
	}))
	t.Cleanup(receiver.Close)
	sb.SetWebhookURL(receiver.URL)

	select {
	case b := <-got:
		require.Contains(t, string(b), `"ready_to_confirm"`)
	case <-time.After(5 * time.Second):
		t.Fatal("the webhook never arrived")
	}
}

func TestSandbox_CloseStopsPendingDeliveries(t *testing.T) {
	h := newHarness(t)
	h.receiver.Refuse(1 << 30) // the receiver never accepts
	h.submitted(t, "po_close", SandboxCardSucceeds)
	require.Eventually(t, func() bool { return len(h.receivedHooks()) >= 2 }, 5*time.Second, 5*time.Millisecond)

	start := time.Now()
	h.sandbox.Close()

	require.Less(t, time.Since(start), time.Second, "Close must not wait for the retries")
	n := len(h.receivedHooks())
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, n, len(h.receivedHooks()), "no delivery after Close")
}

func TestSandbox_AnswersInTheBanksFormat(t *testing.T) {
	h := newHarness(t)
	ref := h.awaitingConfirm(t, "po_format", SandboxCardSucceeds)

	status, env, raw := h.post(t, h.partner, testProject, "session/status",
		[]byte(`{"session_id":"`+ref.SessionID+`"}`), nil)

	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "ok", env.Status)
	stamp := `"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"`
	require.Regexp(t, `"created_at":`+stamp, string(raw))
	require.Regexp(t, `"updated_at":`+stamp, string(raw))
	require.Contains(t, string(raw), `"payments":[`)
	require.Contains(t, string(raw), `"payment_method":{"type":"card","card":{"brand":"visa","last4":"4242"}}`)
	require.Contains(t, string(raw), `"amount_details":{"amount":10000,"currency":"rub"}`)
	require.Contains(t, string(raw), `"metadata":"po_format"`)
	require.Contains(t, string(raw), `"next_action":"confirm"`)
	require.NotContains(t, string(raw), "finished_at", "an unfinished session has no finished_at")
	for _, b := range h.receivedHooks() {
		require.Regexp(t, `"created_at":`+stamp, string(b))
	}
}

func TestSandbox_KeepsNoCardNumber(t *testing.T) {
	h := newHarness(t)
	ref := h.awaitingConfirm(t, "po_pan", SandboxCardSucceeds)
	_, err := h.provider.Confirm(context.Background(), ref)
	require.NoError(t, err)
	h.nextEvent(t)

	h.sandbox.mu.Lock()
	state := fmt.Sprintf("%#v", h.sandbox.sessions[ref.SessionID]) + fmt.Sprintf("%#v", *h.sandbox.sessions[ref.SessionID].payment)
	h.sandbox.mu.Unlock()
	ledger, err := json.Marshal(h.sandbox.Ledger())
	require.NoError(t, err)
	for _, text := range append(h.receivedHooks(), []byte(state), ledger) {
		require.NotContains(t, string(text), SandboxCardSucceeds)
	}
}

func TestSandbox_WithoutPartnerKeyRefusesEverything(t *testing.T) {
	sb := NewSandbox(SandboxConfig{})
	t.Cleanup(sb.Close)
	partner, _ := testKeys(t)
	body := []byte(`{}`)
	sig, err := Sign(partner, body)
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/session/create", strings.NewReader(string(body)))
	req.Header.Set(headerProject, testProject)
	req.Header.Set(headerSign, sig)
	rec := httptest.NewRecorder()

	sb.ServeHTTP(rec, req)

	require.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestSandbox_RefusesOtherHTTPMethods(t *testing.T) {
	h := newHarness(t)
	rec := httptest.NewRecorder()

	h.sandbox.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/session/status", nil))

	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}

func TestSandbox_MagicCardsAreValidCardNumbers(t *testing.T) {
	for _, card := range []string{SandboxCardSucceeds, SandboxCardDeclined, SandboxCardFailsLater} {
		require.NoError(t, payout.CheckCardNumber(card), card)
		require.True(t, validCardNumber(card), card)
	}
}

func TestSandbox_LaggingStatusDoesNotSeeWhatTheBankDidWithinTheLag(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	in := faults.New(faults.Config{Lag: faults.Rate{P: 1, D: time.Minute}})
	lagging := httptest.NewServer(in.Handler(h.sandbox, func(*http.Request) bool { return true }))
	t.Cleanup(lagging.Close)
	c, err := bank131.NewClient(bank131.Config{BaseURL: lagging.URL, Project: testProject, PrivateKey: h.partner})
	require.NoError(t, err)
	late := bank131.NewProvider(c)
	backdate := func(id string, f func(*sandboxSession)) {
		h.sandbox.mu.Lock()
		defer h.sandbox.mu.Unlock()
		f(h.sandbox.sessions[id])
	}
	longAgo := time.Now().Add(-time.Hour)

	ref, err := h.provider.Open(ctx, providers.Ref{PayoutID: "po_lag"})
	require.NoError(t, err)
	_, err = late.Status(ctx, ref)
	var pe *providers.Error
	require.ErrorAs(t, err, &pe, "a session made within the lag does not exist yet")
	require.Equal(t, "invalid_request", pe.Code)
	backdate(ref.SessionID, func(s *sandboxSession) { s.createdAt = longAgo })

	submitted, err := h.provider.Submit(ctx, ref, cardRequest(SandboxCardSucceeds))
	require.NoError(t, err)
	ref = submitted.Ref
	require.Equal(t, providers.EventReadyToConfirm, h.nextEvent(t).Kind)
	st, err := late.Status(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateCreated, st.State, "a payout started within the lag is not in the session yet")
	backdate(ref.SessionID, func(s *sandboxSession) { s.payment.createdAt = longAgo })
	st, err = late.Status(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateAwaitingConfirm, st.State)

	_, err = h.provider.Confirm(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateSucceeded, h.nextEvent(t).Outcome.State)
	require.Len(t, h.sandbox.Ledger(), 1, "the ledger has what the bank did, lag or not")
	st, err = late.Status(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StatePending, st.State, "a payout paid within the lag is still in progress")
	st, err = h.provider.Status(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateSucceeded, st.State, "a status call without the fault sees it")
	backdate(ref.SessionID, func(s *sandboxSession) { s.payment.finishedAt, s.finishedAt = longAgo, longAgo })
	st, err = late.Status(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateSucceeded, st.State)

	cancelled := h.awaitingConfirm(t, "po_lag_cancel", SandboxCardSucceeds)
	backdate(cancelled.SessionID, func(s *sandboxSession) { s.createdAt, s.payment.createdAt = longAgo, longAgo })
	_, err = h.provider.Cancel(ctx, cancelled)
	require.NoError(t, err)
	st, err = late.Status(ctx, cancelled)
	require.NoError(t, err)
	require.Equal(t, providers.StateAwaitingConfirm, st.State, "a cancel within the lag is not seen yet")
	require.Equal(t, int64(4), in.Stats().Lagged)
}
