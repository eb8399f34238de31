package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/faults"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bepaid"
)

func TestSandbox_MagicCardsAndTokens(t *testing.T) {
	tests := []struct {
		name      string
		req       payout.Request
		submitted providers.State
		final     providers.State
		code      string
		desc      string
		card      payout.MaskedCard
		paid      bool
	}{
		{"the successful card pays out at once", cardRequest(SandboxCardSucceeds),
			providers.StateSucceeded, providers.StateSucceeded, "", "",
			payout.MaskedCard{Brand: "visa", Last4: "0000"}, true},
		{"any other valid card pays out at once", cardRequest("5555555555554444"),
			providers.StateSucceeded, providers.StateSucceeded, "", "",
			payout.MaskedCard{Brand: "mastercard", Last4: "4444"}, true},
		{"the declined card fails at once", cardRequest(SandboxCardDeclined),
			providers.StateFailed, providers.StateFailed, "05", "Payout was declined",
			payout.MaskedCard{Brand: "visa", Last4: "0019"}, false},
		{"the pending card pays out later", cardRequest(SandboxCardPending),
			providers.StatePending, providers.StateSucceeded, "", "",
			payout.MaskedCard{Brand: "visa", Last4: "1881"}, true},
		{"the successful token pays out at once", tokenRequest(SandboxTokenSucceeds),
			providers.StateSucceeded, providers.StateSucceeded, "", "",
			payout.MaskedCard{Brand: "mastercard", Last4: "4444"}, true},
		{"the declined token fails at once", tokenRequest(SandboxTokenDeclined),
			providers.StateFailed, providers.StateFailed, "05", "Payout was declined",
			payout.MaskedCard{Brand: "visa", Last4: "0019"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()

			out := h.submit(t, "po_magic", tt.req)

			require.Equal(t, tt.submitted, out.State)
			require.Regexp(t, `^\d+-[0-9a-f]{10}$`, out.Ref.SessionID)
			ref := providers.Ref{PayoutID: "po_magic", SessionID: out.Ref.SessionID}
			require.Equal(t, ref, out.Ref)
			require.Equal(t, &tt.card, out.Card)
			require.Equal(t, &payout.Amount{Value: 10000, Currency: "BYN"}, out.Amount)
			if tt.submitted.Final() {
				require.Equal(t, tt.code, out.ErrorCode)
				require.Equal(t, tt.desc, out.ErrorDescription)
			}

			e := h.nextEvent(t)
			if tt.paid {
				require.NotEmpty(t, e.Outcome.Details["rrn"], "the bank's references travel with the outcome")
				require.NotEmpty(t, e.Outcome.Details["ref_id"])
			}
			require.Equal(t, providers.Event{Kind: providers.EventPaymentFinished, Provider: "bepaid",
				Outcome: providers.Outcome{Ref: ref, State: tt.final, Card: &tt.card, Amount: out.Amount,
					ErrorCode: tt.code, ErrorDescription: tt.desc, Details: e.Outcome.Details}}, e)
			st, err := h.provider.Status(ctx, ref)
			require.NoError(t, err)
			require.Equal(t, e.Outcome, st)
			byTracking, err := h.provider.Status(ctx, providers.Ref{PayoutID: "po_magic"})
			require.NoError(t, err)
			require.Equal(t, e.Outcome, byTracking)

			ledger := h.sandbox.Ledger()
			if !tt.paid {
				require.Empty(t, ledger)
				return
			}
			require.Len(t, ledger, 1)
			require.Equal(t, ref.SessionID, ledger[0].UID)
			require.Equal(t, "po_magic", ledger[0].TrackingID)
			require.Equal(t, int64(10000), ledger[0].Amount)
			require.Equal(t, "BYN", ledger[0].Currency)
			require.Equal(t, tt.card.Last4, ledger[0].CardLast4)
			require.WithinDuration(t, time.Now(), ledger[0].ExecutedAt, 5*time.Second)
			h.noEvent(t)
		})
	}
}

func TestSandbox_PendingPayoutStaysPendingUntilTheDelay(t *testing.T) {
	h := newHarness(t, withDelay(time.Hour))
	ctx := context.Background()

	out := h.submit(t, "po_wait", cardRequest(SandboxCardPending))

	require.Equal(t, providers.StatePending, out.State)
	st, err := h.provider.Status(ctx, providers.Ref{PayoutID: "po_wait"})
	require.NoError(t, err)
	require.Equal(t, providers.StatePending, st.State)
	require.Equal(t, out.Ref, st.Ref)
	tx, err := h.client.Transaction(ctx, out.Ref.SessionID)
	require.NoError(t, err)
	require.Equal(t, "pending", tx.Status)
	require.Empty(t, tx.PaidAt)
	require.Nil(t, tx.PayoutDetails())
	require.Empty(t, h.sandbox.Ledger())
	h.noEvent(t)
}

func TestSandbox_VerificationApprovedLetsThePayoutGoOn(t *testing.T) {
	for _, card := range []string{SandboxCardSucceeds, SandboxCardPending} {
		t.Run(card, func(t *testing.T) {
			h := newHarness(t, withVerification())

			out := h.submit(t, "po_verified", cardRequest(card))

			e := h.nextEvent(t)
			require.Equal(t, providers.StateSucceeded, e.Outcome.State)
			asked := h.recv.asked()
			require.Len(t, asked, 1, "asked once, before the payout")
			require.Equal(t, providers.Verification{
				Provider:      "bepaid",
				PayoutID:      "po_verified",
				TransactionID: out.Ref.SessionID,
				Amount:        payout.Amount{Value: 10000, Currency: "BYN"},
				CreatedAt:     asked[0].CreatedAt,
			}, asked[0])
			require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, asked[0].CreatedAt)
			require.Len(t, h.sandbox.Ledger(), 1)
		})
	}
}

func TestSandbox_VerificationDeclinedFailsThePayout(t *testing.T) {
	tests := []struct {
		name    string
		card    string
		receive func(rc *receiver)
		timeout time.Duration
		desc    string
	}{
		{"declined with a message", SandboxCardSucceeds, func(rc *receiver) {
			rc.decide = func(providers.Verification) providers.VerificationAnswer {
				return providers.VerificationAnswer{Message: "IP validation failed"}
			}
		}, 0, "IP validation failed"},
		{"declined later for a pending payout", SandboxCardPending, func(rc *receiver) {
			rc.decide = func(providers.Verification) providers.VerificationAnswer {
				return providers.VerificationAnswer{Message: "Amount mismatch"}
			}
		}, 0, "Amount mismatch"},
		{"answered 500", SandboxCardSucceeds, func(rc *receiver) { rc.verifyStatus = http.StatusInternalServerError },
			0, "Verification declined"},
		{"not answered in time", SandboxCardSucceeds, func(rc *receiver) { rc.verifyDelay = time.Second },
			50 * time.Millisecond, "Verification declined"},
		{"the declined card is declined by verification first", SandboxCardDeclined, func(rc *receiver) {
			rc.decide = func(providers.Verification) providers.VerificationAnswer {
				return providers.VerificationAnswer{Message: "Not this one"}
			}
		}, 0, "Not this one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []harnessOption{withVerification()}
			if tt.timeout > 0 {
				opts = append(opts, withVerificationTimeout(tt.timeout))
			}
			h := newHarness(t, opts...)
			h.recv.set(tt.receive)

			out := h.submit(t, "po_declined", cardRequest(tt.card))

			e := h.nextEvent(t)
			require.Equal(t, providers.StateFailed, e.Outcome.State)
			require.Equal(t, "declined", e.Outcome.ErrorCode)
			require.Equal(t, tt.desc, e.Outcome.ErrorDescription)
			require.Equal(t, out.Ref.SessionID, e.Outcome.Ref.SessionID)
			if tt.card != SandboxCardPending {
				require.Equal(t, e.Outcome, out, "decided before the answer")
			}
			require.Empty(t, h.sandbox.Ledger())
		})
	}
}

func TestSandbox_UnsignedVerificationIsRefusedByTheReceiverSoThePayoutFails(t *testing.T) {
	h := newHarness(t, withVerification(), withSigningKey(otherKey()))

	out := h.submit(t, "po_forged", cardRequest(SandboxCardSucceeds))

	require.Equal(t, providers.StateFailed, out.State)
	require.Equal(t, "Verification declined", out.ErrorDescription)
	require.Empty(t, h.recv.asked(), "the receiver believed nothing")
	require.Empty(t, h.sandbox.Ledger())
}

func TestSandbox_NotificationsSignedWithAnotherKeyAreRefused(t *testing.T) {
	h := newHarness(t, withSigningKey(otherKey()))

	h.submit(t, "po_forged", cardRequest(SandboxCardSucceeds))

	require.Eventually(t, func() bool { return len(h.recv.received()) >= 2 }, 5*time.Second, time.Millisecond,
		"refused, and retried")
	h.noEvent(t)
}

func TestSandbox_DuplicateCheckRefusalIsUnknownAndChangesNothing(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	first := h.submit(t, "po_dup", cardRequest(SandboxCardSucceeds))
	require.Equal(t, providers.StateSucceeded, first.State)
	h.nextEvent(t)

	out, err := h.provider.Submit(ctx, providers.Ref{PayoutID: "po_dup_again"}, cardRequest(SandboxCardSucceeds))

	pe := requireProviderError(t, err, providers.Unknown, bepaid.CodeDuplicate)
	require.Equal(t, http.StatusUnprocessableEntity, pe.HTTPStatus)
	require.Contains(t, pe.Description, "Duplicate transaction")
	require.True(t, pe.Exists, "a duplicate_check refusal means a payout like it exists: look it up, never send again")
	require.Equal(t, providers.Ref{PayoutID: "po_dup_again"}, out.Ref)
	require.Len(t, h.sandbox.Ledger(), 1)
	none, err := h.client.ByTrackingID(ctx, "po_dup_again")
	require.NoError(t, err)
	require.Empty(t, none, "nothing was created")
	h.noEvent(t)

	// Another amount, or duplicate_check off, goes through.
	other := cardRequest(SandboxCardSucceeds)
	other.Amount.Value++
	h.submit(t, "po_other_amount", other)
	off := false
	req := payoutRequest("po_unchecked", "")
	req.DuplicateCheck = &off
	tx, err := h.client.CreatePayout(ctx, req)
	require.NoError(t, err)
	require.Equal(t, StatusSuccessful, tx.Status)
	require.Len(t, h.sandbox.Ledger(), 3)
}

func TestSandbox_DuplicateCheckAppliesToTokens(t *testing.T) {
	h := newHarness(t)
	h.submit(t, "po_tok", tokenRequest(SandboxTokenSucceeds))

	_, err := h.provider.Submit(context.Background(), providers.Ref{PayoutID: "po_tok2"},
		tokenRequest(SandboxTokenSucceeds))

	requireProviderError(t, err, providers.Unknown, bepaid.CodeDuplicate)
	require.Len(t, h.sandbox.Ledger(), 1)
}

func TestSandbox_AnswerLostAfterExecutionIsUnknownAndFoundByTrackingID(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.sandbox.FailNext(1)

	_, err := h.provider.Submit(ctx, providers.Ref{PayoutID: "po_lost"}, cardRequest(SandboxCardSucceeds))

	pe := requireProviderError(t, err, providers.Unknown, "")
	require.Equal(t, http.StatusGatewayTimeout, pe.HTTPStatus)
	ledger := h.sandbox.Ledger()
	require.Len(t, ledger, 1, "the payout was executed")
	txs, err := h.client.ByTrackingID(ctx, "po_lost")
	require.NoError(t, err)
	require.Len(t, txs, 1)
	require.Equal(t, ledger[0].UID, txs[0].UID)
	require.Equal(t, StatusSuccessful, txs[0].Status)

	st, err := h.provider.Status(ctx, providers.Ref{PayoutID: "po_lost"})
	require.NoError(t, err)
	require.Equal(t, providers.StateSucceeded, st.State)
	require.Equal(t, providers.Ref{PayoutID: "po_lost", SessionID: ledger[0].UID}, st.Ref)
	require.Equal(t, st, h.nextEvent(t).Outcome, "the notification went out as usual")

	// A blind resend within 30 s is refused as a duplicate: also unknown, so the payout is looked up again.
	_, err = h.provider.Submit(ctx, providers.Ref{PayoutID: "po_lost"}, cardRequest(SandboxCardSucceeds))
	requireProviderError(t, err, providers.Unknown, bepaid.CodeDuplicate)
	require.Len(t, h.sandbox.Ledger(), 1)

	// FailNext(1) lost one answer only.
	next := cardRequest(SandboxCardSucceeds)
	next.Amount.Value = 1
	require.Equal(t, providers.StateSucceeded, h.submit(t, "po_next", next).State)
}

func TestSandbox_FailNextDoesNotCountRefusedRequests(t *testing.T) {
	h := newHarness(t)
	h.sandbox.FailNext(1)
	bad := cardRequest("4200000000000001") // fails the Luhn check

	_, err := h.provider.Submit(context.Background(), providers.Ref{PayoutID: "po_bad"}, bad)
	requireProviderError(t, err, providers.Known, bepaid.CodeValidation)
	_, err = h.provider.Submit(context.Background(), providers.Ref{PayoutID: "po_good"}, cardRequest(SandboxCardSucceeds))

	requireProviderError(t, err, providers.Unknown, "")
}

func TestSandbox_RefusesWrongCredentials(t *testing.T) {
	h := newHarness(t)
	tests := []struct{ name, shop, secret string }{
		{"wrong secret", testShopID, "guess"},
		{"wrong shop", "362", testSecretKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.newClient(t, tt.shop, tt.secret)

			_, err := bepaid.NewProvider(c, bepaid.ProviderOptions{}).Submit(context.Background(), providers.Ref{PayoutID: "po_1"},
				cardRequest(SandboxCardSucceeds))
			pe := requireProviderError(t, err, providers.Known, bepaid.CodeUnauthorized)
			require.Equal(t, http.StatusUnauthorized, pe.HTTPStatus)
			_, err = c.ByTrackingID(context.Background(), "po_1")
			requireProviderError(t, err, providers.Known, bepaid.CodeUnauthorized)
		})
	}
	for _, path := range []string{"/transactions/payouts", "/transactions/1-a", "/v2/transactions/tracking_id/po_1"} {
		t.Run("no credentials: "+path, func(t *testing.T) {
			status, raw := h.do(t, http.MethodGet, path, nil, false)

			require.Equal(t, http.StatusUnauthorized, status)
			require.JSONEq(t, `{"message":"Unauthorized","errors":{}}`, string(raw))
		})
	}
	require.Empty(t, h.sandbox.Ledger())
}

func TestSandbox_WithoutCredentialsConfiguredRefusesEverything(t *testing.T) {
	sb := NewSandbox(SandboxConfig{})
	t.Cleanup(sb.Close)
	req := httptest.NewRequest(http.MethodGet, "/transactions/1-a", nil)
	req.SetBasicAuth("", "")
	rec := httptest.NewRecorder()

	sb.ServeHTTP(rec, req)

	require.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestSandbox_ValidatesPayoutRequests(t *testing.T) {
	h := newHarness(t)
	valid := func() bepaid.PayoutRequest { return payoutRequest("po_invalid", "https://us/n") }
	tests := []struct {
		name   string
		change func(*bepaid.PayoutRequest)
		field  string
	}{
		{"zero amount", func(p *bepaid.PayoutRequest) { p.Amount = 0 }, "amount"},
		{"negative amount", func(p *bepaid.PayoutRequest) { p.Amount = -1 }, "amount"},
		{"no currency", func(p *bepaid.PayoutRequest) { p.Currency = "" }, "currency"},
		{"lower-case currency", func(p *bepaid.PayoutRequest) { p.Currency = "byn" }, "currency"},
		{"a four-letter currency", func(p *bepaid.PayoutRequest) { p.Currency = "BYNR" }, "currency"},
		{"no description", func(p *bepaid.PayoutRequest) { p.Description = " " }, "description"},
		{"a long description", func(p *bepaid.PayoutRequest) { p.Description = strings.Repeat("ü", 256) }, "description"},
		{"a long tracking_id", func(p *bepaid.PayoutRequest) { p.TrackingID = strings.Repeat("x", 256) }, "tracking_id"},
		{"an unknown language", func(p *bepaid.PayoutRequest) { p.Language = "xx" }, "language"},
		{"a relative notification_url", func(p *bepaid.PayoutRequest) { p.NotificationURL = "/notify" }, "notification_url"},
		{"a verification_url that is not http", func(p *bepaid.PayoutRequest) { p.VerificationURL = "ftp://x/y" }, "verification_url"},
		{"no card", func(p *bepaid.PayoutRequest) { p.Card = nil }, "recipient_credit_card.number"},
		{"a card failing Luhn", func(p *bepaid.PayoutRequest) { p.Card.Number = "4200000000000001" }, "recipient_credit_card.number"},
		{"a card too short", func(p *bepaid.PayoutRequest) { p.Card.Number = "42000000000" }, "recipient_credit_card.number"},
		{"a card too long", func(p *bepaid.PayoutRequest) { p.Card.Number = "42000000000000000000" }, "recipient_credit_card.number"},
		{"a card with spaces", func(p *bepaid.PayoutRequest) { p.Card.Number = "4200 0000 0000 0000" }, "recipient_credit_card.number"},
		{"no holder", func(p *bepaid.PayoutRequest) { p.Card.Holder = "" }, "recipient_credit_card.holder"},
		{"a long holder", func(p *bepaid.PayoutRequest) { p.Card.Holder = strings.Repeat("A", 33) }, "recipient_credit_card.holder"},
		{"no exp_month", func(p *bepaid.PayoutRequest) { p.Card.ExpMonth = "" }, "recipient_credit_card.exp_month"},
		{"exp_month 13", func(p *bepaid.PayoutRequest) { p.Card.ExpMonth = "13" }, "recipient_credit_card.exp_month"},
		{"no exp_year", func(p *bepaid.PayoutRequest) { p.Card.ExpYear = 0 }, "recipient_credit_card.exp_year"},
		{"a two-digit exp_year", func(p *bepaid.PayoutRequest) { p.Card.ExpYear = 30 }, "recipient_credit_card.exp_year"},
		{"an expired card", func(p *bepaid.PayoutRequest) { p.Card.ExpYear = 2020 }, "recipient_credit_card.exp_year"},
		{"an unknown token", func(p *bepaid.PayoutRequest) { p.Card = &bepaid.RecipientCard{Token: "tok_nope"} }, "recipient_credit_card.token"},
		{"a number and a token", func(p *bepaid.PayoutRequest) { p.Card.Token = SandboxTokenSucceeds }, "recipient_credit_card.token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.change(&p)

			_, err := h.client.CreatePayout(context.Background(), p)

			pe := requireProviderError(t, err, providers.Known, bepaid.CodeValidation)
			require.Equal(t, http.StatusUnprocessableEntity, pe.HTTPStatus)
			require.Contains(t, pe.Description, strings.NewReplacer("_", " ", ".", " ").Replace(tt.field)[1:])
			require.NotContains(t, strings.ReplaceAll(err.Error(), " ", ""), "420000000000")

			body, err := json.Marshal(map[string]any{"request": p})
			require.NoError(t, err)
			status, raw := h.do(t, http.MethodPost, "/transactions/payouts", body, true)
			require.Equal(t, http.StatusUnprocessableEntity, status)
			apiErr := apiError(raw)
			require.NotNil(t, apiErr, "the documented error shape: %s", raw)
			require.NotEmpty(t, apiErr.Fields()[tt.field], "errors name %s: %s", tt.field, raw)
			require.NotContains(t, string(raw), "4200000000")
		})
	}
	require.Empty(t, h.sandbox.Ledger())
	txs, err := h.client.ByTrackingID(context.Background(), "po_invalid")
	require.NoError(t, err)
	require.Empty(t, txs, "a refused request creates nothing")
}

func TestSandbox_AcceptsExpiryAsNumbers(t *testing.T) {
	h := newHarness(t)
	body := `{"request":{"amount":100,"currency":"BYN","description":"d","tracking_id":"po_num",
		"recipient_credit_card":{"number":"4200000000000000","holder":"JOHN DOE","exp_month":1,"exp_year":2031}}}`

	status, raw := h.do(t, http.MethodPost, "/transactions/payouts", []byte(body), true)

	require.Equal(t, http.StatusOK, status, "%s", raw)
	require.Contains(t, string(raw), `"status":"successful"`)
}

// seedRequest is seed 003's payout request, as written there: exp_month "12" a string, exp_year 2022 an integer.
const seedRequest = `{"request": {
	"amount": 100, "currency": "RUB", "description": "Test transaction ütf", "tracking_id": "tracking_id_000",
	"recipient": {"ip": "127.0.0.1", "email": "john@example.com", "birth_date": "1990-10-20"},
	"sender": {"ip": "127.0.0.1", "email": "john@example.com", "birth_date": "1990-10-20"},
	"recipient_billing_address": {"first_name": "John", "last_name": "Doe", "country": "US", "city": "Denver",
		"state": "CO", "zip": "96002", "address": "1st Street", "phone": "375444444444"},
	"sender_billing_address": {"first_name": "John", "last_name": "Doe", "country": "US", "city": "Denver",
		"state": "CO", "zip": "96002", "address": "1st Street", "phone": "375444444444"},
	"recipient_credit_card": {"number": "5555555555554444", "holder": "John Doe", "exp_month": "12", "exp_year": 2022},
	"additional_data": {"document": {"type": "PASSPORT", "issuer": "Organization name", "series": "MP",
		"number": "1234567890", "issued_at": "2010-03-12", "valid_until": "2025-03-12"}}
}}`

func TestSandbox_AcceptsTheSeedsCardAsWritten(t *testing.T) {
	var in payoutEnvelope
	require.NoError(t, json.Unmarshal([]byte(seedRequest), &in))
	// The seed's transaction was made on 2021-07-01, when its card (12/2022) was valid.
	at := time.Date(2021, 7, 1, 13, 44, 56, 0, time.UTC)

	card, _, errs := validatePayout(in.Request, at)

	require.Empty(t, errs)
	require.Equal(t, "4444", card.Last4)
}

func TestSandbox_RefusesExpiryOfTheWrongType(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, card, field string
	}{
		// Seed 003: exp_year is an integer of four digits (its examples send 2022).
		{"exp_year as a string", `"exp_month":"12","exp_year":"2031"`, "recipient_credit_card.exp_year"},
		{"exp_year with two digits", `"exp_month":"12","exp_year":31`, "recipient_credit_card.exp_year"},
		{"exp_year as a fraction", `"exp_month":"12","exp_year":2031.5`, "recipient_credit_card.exp_year"},
		// exp_month: an integer (the table) or the two-digit string of the example.
		{"exp_month with one digit as a string", `"exp_month":"1","exp_year":2031`, "recipient_credit_card.exp_month"},
		{"exp_month 0", `"exp_month":0,"exp_year":2031`, "recipient_credit_card.exp_month"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A new amount each time, so that no refusal is bePaid's duplicate check.
			body := fmt.Sprintf(`{"request":{"amount":%d,"currency":"BYN","description":"d","tracking_id":"po_types",
				"recipient_credit_card":{"number":"4200000000000000","holder":"JOHN DOE",%s}}}`, 100+i, tt.card)

			status, raw := h.do(t, http.MethodPost, "/transactions/payouts", []byte(body), true)

			require.Equal(t, http.StatusUnprocessableEntity, status, "%s", raw)
			apiErr := apiError(raw)
			require.NotNil(t, apiErr, "the documented error shape: %s", raw)
			require.NotEmpty(t, apiErr.Fields()[tt.field], "errors name %s: %s", tt.field, raw)
			require.NotContains(t, string(raw), "4200000000")
		})
	}
	require.Empty(t, h.sandbox.Ledger())
}

func TestSandbox_RefusesBodiesOfTheWrongShape(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, body string
		status     int
		field      string
	}{
		{"not JSON", `not json`, http.StatusBadRequest, ""},
		{"no request object", `{"amount":100}`, http.StatusUnprocessableEntity, "request"},
		{"amount as a string", `{"request":{"amount":"100"}}`, http.StatusUnprocessableEntity, "amount"},
		{"card number as a number", `{"request":{"recipient_credit_card":{"number":4200000000000000}}}`,
			http.StatusUnprocessableEntity, "recipient_credit_card.number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := h.do(t, http.MethodPost, "/transactions/payouts", []byte(tt.body), true)

			require.Equal(t, tt.status, status, "%s", raw)
			apiErr := apiError(raw)
			require.NotNil(t, apiErr, "%s", raw)
			if tt.field != "" {
				require.NotEmpty(t, apiErr.Fields()[tt.field], "%s", raw)
			}
			require.NotContains(t, string(raw), "4200000000000000")
		})
	}
}

func TestSandbox_UnknownTransactionIsNotFound(t *testing.T) {
	h := newHarness(t)

	_, err := h.client.Transaction(context.Background(), "1-0000000000")

	pe := requireProviderError(t, err, providers.Known, bepaid.CodeNotFound)
	require.Equal(t, http.StatusNotFound, pe.HTTPStatus)
	_, err = h.provider.Status(context.Background(), providers.Ref{PayoutID: "po_1", SessionID: "1-0000000000"})
	requireProviderError(t, err, providers.Known, bepaid.CodeNotFound)
}

func TestSandbox_UnknownPathsAndMethods(t *testing.T) {
	h := newHarness(t)
	tests := []struct{ method, path string }{
		{http.MethodGet, "/transactions/payouts"},
		{http.MethodPost, "/transactions/1-a"},
		{http.MethodGet, "/transactions/a/b"},
		{http.MethodGet, "/v2/transactions/tracking_id/"},
		{http.MethodGet, "/beyag/payments/1"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			status, raw := h.do(t, tt.method, tt.path, nil, true)

			require.Contains(t, []int{http.StatusNotFound, http.StatusMethodNotAllowed}, status)
			require.NotNil(t, apiError(raw), "%s", raw)
		})
	}
}

func TestSandbox_ListsByTrackingIDNewestFirstUpToTen(t *testing.T) {
	h := newHarness(t)
	var uids []string
	for i := range 12 {
		req := cardRequest(SandboxCardSucceeds)
		req.Amount.Value = int64(100 + i) // not duplicates
		uids = append(uids, h.submit(t, "po_many", req).Ref.SessionID)
	}

	txs, err := h.client.ByTrackingID(context.Background(), "po_many")

	require.NoError(t, err)
	require.Len(t, txs, 10)
	for i, tx := range txs {
		require.Equal(t, uids[11-i], tx.UID, "newest first")
		require.Equal(t, "po_many", tx.TrackingID)
	}
}

func TestSandbox_RetriesNotificationsUntilAnswered200(t *testing.T) {
	h := newHarness(t)
	h.recv.notes.Refuse(3) // 50+100+200 ms of retries

	out := h.submit(t, "po_retry", cardRequest(SandboxCardSucceeds))

	e := h.nextEvent(t)
	require.Equal(t, providers.StateSucceeded, e.Outcome.State)
	h.awaitNotified(t, out.Ref.SessionID)
	notes := h.recv.received()
	require.Len(t, notes, 4)
	for _, n := range notes[1:] {
		require.Equal(t, notes[0], n, "the same notification each time")
	}
	h.noEvent(t)
	require.Len(t, h.sandbox.Ledger(), 1)
}

func TestSandbox_CloseStopsPendingDeliveries(t *testing.T) {
	h := newHarness(t)
	h.recv.notes.Refuse(1 << 30)
	h.submit(t, "po_close", cardRequest(SandboxCardSucceeds))
	require.Eventually(t, func() bool { return len(h.recv.received()) >= 2 }, 5*time.Second, 5*time.Millisecond)

	start := time.Now()
	h.sandbox.Close()

	require.Less(t, time.Since(start), time.Second, "Close must not wait for the retries")
	n := len(h.recv.received())
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, n, len(h.recv.received()), "no delivery after Close")
}

func TestSandbox_CloseDuringVerificationLeavesThePayoutUndecided(t *testing.T) {
	h := newHarness(t, withVerification())
	h.recv.set(func(rc *receiver) { rc.verifyDelay = 5 * time.Second })
	done := make(chan providers.Outcome, 1)
	go func() {
		out, _ := h.provider.Submit(context.Background(), providers.Ref{PayoutID: "po_cut"},
			cardRequest(SandboxCardSucceeds))
		done <- out
	}()
	require.Eventually(t, func() bool { return len(h.recv.asked()) == 1 }, 5*time.Second, time.Millisecond)

	h.sandbox.Close()

	out := <-done
	require.Equal(t, providers.StatePending, out.State, "not declined because the sandbox stopped")
	require.Empty(t, h.sandbox.Ledger())
}

func TestSandbox_ServesTheLedgerOverHTTP(t *testing.T) {
	h := newHarness(t)
	h.submit(t, "po_ledger", cardRequest(SandboxCardSucceeds))

	status, raw := h.do(t, http.MethodGet, "/_sandbox/ledger", nil, false)

	require.Equal(t, http.StatusOK, status)
	var ledger []LedgerEntry
	require.NoError(t, json.Unmarshal(raw, &ledger))
	require.Equal(t, h.sandbox.Ledger(), ledger)
	require.Len(t, ledger, 1)
}

func TestSandbox_EmptyLedgerIsAnEmptyArray(t *testing.T) {
	h := newHarness(t)
	rec := httptest.NewRecorder()

	h.sandbox.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_sandbox/ledger", nil))

	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "[]", rec.Body.String())
}

func TestSandbox_AnswersInTheSeedsShape(t *testing.T) {
	h := newHarness(t)
	out := h.submit(t, "po_shape", cardRequest(SandboxCardSucceeds))

	status, raw := h.do(t, http.MethodGet, "/transactions/"+out.Ref.SessionID, nil, true)

	require.Equal(t, http.StatusOK, status)
	stamp := `"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"`
	body := string(raw)
	require.Regexp(t, `^\{"transaction":\{"uid":"`+out.Ref.SessionID+`","status":"successful"`, body)
	require.Regexp(t, `"created_at":`+stamp, body)
	require.Regexp(t, `"paid_at":`+stamp, body)
	require.Contains(t, body, `"amount":10000,"currency":"BYN","description":"Payout po_shape","type":"payout"`)
	require.Contains(t, body, `"tracking_id":"po_shape","message":"Successfully processed","test":true,"language":"ru"`)
	require.Regexp(t, `"recipient_credit_card":\{"holder":"IVAN IVANOV","stamp":"[0-9a-f]{64}","brand":"visa","last_4":"0000","first_1":"4","bin":"420000"\}`, body)
	require.Regexp(t, `"additional_data":\{"payout":\{"status":"successful","message":"Successfully processed","ref_id":"\d+","rrn":"\d{12}","auth_code":"\d{6}","bank_code":"00"\}\}`, body)
	for _, n := range h.recv.received() {
		require.Regexp(t, `^\{"transaction":\{"uid":"`+out.Ref.SessionID+`"`, string(n))
	}
}

func TestSandbox_SameCardHasTheSameStamp(t *testing.T) {
	h := newHarness(t)
	a := h.submit(t, "po_a", cardRequest(SandboxCardSucceeds))
	other := cardRequest(SandboxCardSucceeds)
	other.Amount.Value = 1
	b := h.submit(t, "po_b", other)
	c := h.submit(t, "po_c", cardRequest("5555555555554444"))
	stamp := func(uid string) string {
		tx, err := h.client.Transaction(context.Background(), uid)
		require.NoError(t, err)
		return tx.Card().Stamp
	}

	require.Equal(t, stamp(a.Ref.SessionID), stamp(b.Ref.SessionID))
	require.NotEqual(t, stamp(a.Ref.SessionID), stamp(c.Ref.SessionID))
}

func TestSandbox_KeepsNoCardNumber(t *testing.T) {
	h := newHarness(t, withVerification())
	out := h.submit(t, "po_pan", cardRequest(SandboxCardSucceeds))
	h.nextEvent(t)

	h.sandbox.mu.Lock()
	state := fmt.Sprintf("%#v %#v", *h.sandbox.txs[out.Ref.SessionID], h.sandbox.recent)
	h.sandbox.mu.Unlock()
	ledger, err := json.Marshal(h.sandbox.Ledger())
	require.NoError(t, err)
	asked, err := json.Marshal(h.recv.asked())
	require.NoError(t, err)
	for _, text := range append(h.recv.received(), []byte(state), ledger, asked) {
		require.NotContains(t, string(text), SandboxCardSucceeds)
	}
}

func TestSandbox_MagicCardsAreValidCardNumbers(t *testing.T) {
	cards := []string{SandboxCardSucceeds, SandboxCardDeclined, SandboxCardPending}
	for _, card := range cards {
		require.NoError(t, payout.CheckCardNumber(card), card)
		require.True(t, isCardNumber(card), card)
	}
	require.Len(t, map[string]bool{cards[0]: true, cards[1]: true, cards[2]: true}, 3)
	require.NotEqual(t, SandboxTokenSucceeds, SandboxTokenDeclined)
}

func TestSandbox_LaggingStatusDoesNotSeeWhatBePaidDidWithinTheLag(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	in := faults.New(faults.Config{Lag: faults.Rate{P: 1, D: time.Minute}})
	lagging := httptest.NewServer(in.Handler(h.sandbox, func(*http.Request) bool { return true }))
	t.Cleanup(lagging.Close)
	c, err := bepaid.NewClient(bepaid.Config{BaseURL: lagging.URL, ShopID: testShopID, SecretKey: testSecretKey})
	require.NoError(t, err)
	late := bepaid.NewProvider(c, bepaid.ProviderOptions{})
	backdate := func(uid string, f func(*sandboxTx)) {
		h.sandbox.mu.Lock()
		defer h.sandbox.mu.Unlock()
		f(h.sandbox.txs[uid])
	}
	longAgo := time.Now().Add(-time.Hour)

	out := h.submit(t, "po_lag", cardRequest(SandboxCardSucceeds))
	require.Equal(t, providers.StateSucceeded, out.State)
	require.Len(t, h.sandbox.Ledger(), 1, "the ledger has what bePaid did, lag or not")
	st, err := late.Status(ctx, providers.Ref{PayoutID: "po_lag"})
	require.NoError(t, err)
	require.Equal(t, providers.StateCreated, st.State, "by tracking_id, a payout made within the lag is not listed yet")
	_, err = late.Status(ctx, out.Ref)
	requireProviderError(t, err, providers.Known, bepaid.CodeNotFound)

	backdate(out.Ref.SessionID, func(tx *sandboxTx) { tx.CreatedAt = longAgo })
	st, err = late.Status(ctx, providers.Ref{PayoutID: "po_lag"})
	require.NoError(t, err)
	require.Equal(t, providers.StatePending, st.State, "paid within the lag: still pending")
	st, err = late.Status(ctx, out.Ref)
	require.NoError(t, err)
	require.Equal(t, providers.StatePending, st.State)
	st, err = h.provider.Status(ctx, out.Ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateSucceeded, st.State, "a status call without the fault sees it")

	backdate(out.Ref.SessionID, func(tx *sandboxTx) { tx.UpdatedAt = longAgo })
	st, err = late.Status(ctx, out.Ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateSucceeded, st.State)
	require.Equal(t, int64(4), in.Stats().Lagged)
}

func TestSandbox_LatePayoutExecutesAfterTheClientGaveUpAndIsInTheLedger(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	in := faults.New(faults.Config{Late: faults.Rate{P: 1, D: 300 * time.Millisecond}})
	holding := httptest.NewServer(in.Handler(h.sandbox, func(*http.Request) bool { return true }))
	t.Cleanup(holding.Close)
	c, err := bepaid.NewClient(bepaid.Config{BaseURL: holding.URL, ShopID: testShopID, SecretKey: testSecretKey,
		HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}})
	require.NoError(t, err)
	impatient := bepaid.NewProvider(c, bepaid.ProviderOptions{NotificationURL: h.recv.notifyURL()})

	_, err = impatient.Submit(ctx, providers.Ref{PayoutID: "po_late"}, cardRequest(SandboxCardSucceeds))
	requireProviderError(t, err, providers.Unknown, "")
	st, err := h.provider.Status(ctx, providers.Ref{PayoutID: "po_late"})
	require.NoError(t, err)
	require.Equal(t, providers.StateCreated, st.State, "when the client gives up, bePaid has nothing yet")
	require.Empty(t, h.sandbox.Ledger())

	require.Equal(t, providers.StateSucceeded, h.nextEvent(t).Outcome.State, "then it pays, and notifies")
	ledger := h.sandbox.Ledger()
	require.Len(t, ledger, 1)
	require.Equal(t, "po_late", ledger[0].TrackingID)
	st, err = h.provider.Status(ctx, providers.Ref{PayoutID: "po_late"})
	require.NoError(t, err)
	require.Equal(t, providers.StateSucceeded, st.State)
}
