package mandarin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
	"github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
)

func TestCardPayoutsEndWithACallbackAndStatus(t *testing.T) {
	for _, tc := range []struct {
		name  string
		card  payout.Card
		state providers.State
		last4 string
	}{
		{"token succeeds", payout.Card{Token: sandbox.SandboxTokenSucceeds}, providers.StateSucceeded, "4444"},
		{"token declined", payout.Card{Token: sandbox.SandboxTokenDeclined}, providers.StateFailed, "0002"},
		{"known card number succeeds", payout.Card{Number: sandbox.SandboxCardSucceeds}, providers.StateSucceeded, "1881"},
		{"known card number declined", payout.Card{Number: sandbox.SandboxCardDeclined}, providers.StateFailed, "0002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ProviderOptions{}, sandbox.SandboxConfig{})
			ref := providers.Ref{PayoutID: "po_" + strings.ReplaceAll(tc.name, " ", "_")}
			o, err := e.provider.Submit(t.Context(), ref, cardRequest(tc.card, 10000))
			require.NoError(t, err)
			require.Equal(t, providers.StatePending, o.State)
			require.NotEmpty(t, o.Ref.SessionID)
			require.Empty(t, o.Ref.PaymentID, "a card payout waits for no confirmation")

			ev := nextEvent(t, e.events)
			require.Equal(t, providers.EventPaymentFinished, ev.Kind)
			require.Equal(t, ref.PayoutID, ev.Outcome.Ref.PayoutID)
			require.Equal(t, o.Ref.SessionID, ev.Outcome.Ref.SessionID)
			require.Equal(t, tc.state, ev.Outcome.State)
			require.Equal(t, &payout.Amount{Value: 10000, Currency: "RUB"}, ev.Outcome.Amount)

			st, err := e.provider.Status(t.Context(), o.Ref)
			require.NoError(t, err)
			require.Equal(t, tc.state, st.State)
			require.Equal(t, tc.last4, st.Card.Last4)
			want := 0
			if tc.state == providers.StateSucceeded {
				want = 1
			}
			require.Len(t, e.sandbox.Ledger(), want)

			_, err = e.provider.Confirm(t.Context(), o.Ref)
			providertest.RequireError(t, err, Name, providers.Known, CodeNotSupported)
			_, err = e.provider.Cancel(t.Context(), o.Ref)
			providertest.RequireError(t, err, Name, providers.Known, CodeNotSupported)
		})
	}
}

func TestPaymentPageReturnsAUserWebLinkOnTheSandbox(t *testing.T) {
	e := newEnv(t, ProviderOptions{AllowPaymentPage: true}, sandbox.SandboxConfig{})
	o, err := e.provider.Submit(t.Context(), providers.Ref{PayoutID: "po_page"}, pageRequest(500))
	require.NoError(t, err)
	link := o.Details[DetailUserWebLink]
	require.True(t, strings.HasPrefix(link, e.api.URL+"/Pay?transaction="), link)

	st, err := e.provider.Status(t.Context(), o.Ref)
	require.NoError(t, err)
	require.Equal(t, providers.StatePending, st.State, "nothing happens until the recipient enters a card")
	require.Equal(t, link, st.Details[DetailUserWebLink])

	resp, err := http.PostForm(link, url.Values{"card_number": {sandbox.SandboxCardSucceeds}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	ev := nextEvent(t, e.events)
	require.Equal(t, providers.StateSucceeded, ev.Outcome.State)
	require.Equal(t, "5.00", e.sandbox.Ledger()[0].Price)
}

func TestPaymentPageIsRefusedUnlessAllowed(t *testing.T) {
	e := newEnv(t, ProviderOptions{}, sandbox.SandboxConfig{})
	_, err := e.provider.Submit(t.Context(), providers.Ref{PayoutID: "po_x"}, pageRequest(500))
	providertest.RequireError(t, err, Name, providers.Known, CodeUnsupportedPayout)
}

func TestSBPWithTheNameSucceedsWithoutConfirmation(t *testing.T) {
	e := newEnv(t, ProviderOptions{}, sandbox.SandboxConfig{})
	o, err := e.provider.Submit(t.Context(), providers.Ref{PayoutID: "po_sbp"},
		sbpRequest(sandbox.SandboxPhoneSucceeds, "Иванов Петр Сергеевич", 1000))
	require.NoError(t, err)
	require.Empty(t, o.Ref.PaymentID)
	ev := nextEvent(t, e.events)
	require.Equal(t, providers.StateSucceeded, ev.Outcome.State)
	require.Len(t, e.sandbox.Ledger(), 1)
	require.Equal(t, "4567", e.sandbox.Ledger()[0].PhoneLast4)
}

func TestSBPToAnotherPhoneFails(t *testing.T) {
	e := newEnv(t, ProviderOptions{}, sandbox.SandboxConfig{})
	_, err := e.provider.Submit(t.Context(), providers.Ref{PayoutID: "po_sbp"},
		sbpRequest("+79990000000", "Иванов Петр", 1000))
	require.NoError(t, err)
	require.Equal(t, providers.StateFailed, nextEvent(t, e.events).Outcome.State)
	require.Empty(t, e.sandbox.Ledger())
}

func TestSBPWithoutTheNameShowsTheNameThenConfirms(t *testing.T) {
	e := newEnv(t, ProviderOptions{}, sandbox.SandboxConfig{})
	o, err := e.provider.Submit(t.Context(), providers.Ref{PayoutID: "po_noname"},
		sbpRequestWithoutName(sandbox.SandboxPhoneNoName, "Ivan Ivanov", 2500))
	require.NoError(t, err)
	require.Equal(t, o.Ref.SessionID, o.Ref.PaymentID)

	st := e.waitState(t, o.Ref, providers.StateAwaitingConfirm)
	require.Equal(t, sandbox.SandboxFIONoName, st.Details[DetailFIO])
	require.Empty(t, e.sandbox.Ledger(), "nothing moves before confirm")

	c, err := e.provider.Confirm(t.Context(), o.Ref)
	require.NoError(t, err)
	require.Equal(t, providers.StatePending, c.State)
	require.Equal(t, providers.StateSucceeded, nextEvent(t, e.events).Outcome.State)
	e.waitState(t, o.Ref, providers.StateSucceeded)
	_, err = e.provider.Confirm(t.Context(), o.Ref)
	require.NoError(t, err, "confirming again is harmless")
	require.Len(t, e.sandbox.Ledger(), 1)

	_, err = e.provider.Cancel(t.Context(), o.Ref)
	providertest.RequireError(t, err, Name, providers.Known, CodeInvalidRequest)
}

func TestSBPWithoutTheNameCanBeRejected(t *testing.T) {
	e := newEnv(t, ProviderOptions{}, sandbox.SandboxConfig{})
	o, err := e.provider.Submit(t.Context(), providers.Ref{PayoutID: "po_reject"},
		sbpRequestWithoutName(sandbox.SandboxPhoneNoName, "", 2500))
	require.NoError(t, err)
	e.waitState(t, o.Ref, providers.StateAwaitingConfirm)

	c, err := e.provider.Cancel(t.Context(), o.Ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateCancelled, c.State)
	st, err := e.provider.Status(t.Context(), o.Ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateFailed, st.State)
	_, err = e.provider.Confirm(t.Context(), o.Ref)
	providertest.RequireError(t, err, Name, providers.Known, CodeInvalidRequest)
	require.Empty(t, e.sandbox.Ledger())

	// The orderId of a failed payout may be used again.
	_, err = e.provider.Submit(t.Context(), providers.Ref{PayoutID: "po_reject"}, sbpRequestWithoutName(sandbox.SandboxPhoneNoName, "", 2500))
	require.NoError(t, err)
}

func TestDuplicateOrderIDAfterA504IsUnknownAndPaysOnce(t *testing.T) {
	e := newEnv(t, ProviderOptions{}, sandbox.SandboxConfig{Delay: 200 * time.Millisecond})
	e.sandbox.FailNext(1)
	ref := providers.Ref{PayoutID: "po_dup"}
	req := cardRequest(payout.Card{Number: sandbox.SandboxCardSucceeds}, 10000)

	_, err := e.provider.Submit(t.Context(), ref, req)
	pe := providertest.RequireError(t, err, Name, providers.Unknown, "")
	require.Equal(t, http.StatusGatewayTimeout, pe.HTTPStatus)

	_, err = e.provider.Status(t.Context(), ref)
	providertest.RequireError(t, err, Name, providers.Unknown, CodeOperationIDUnknown)

	for range 2 { // in progress, then succeeded: either way a duplicate
		_, err = e.provider.Submit(t.Context(), ref, req)
		providertest.RequireError(t, err, Name, providers.Unknown, CodeDuplicateOrderID)
		require.NotContains(t, err.Error(), sandbox.SandboxCardSucceeds)
		ev := nextEventOrNone(e.events)
		if ev != nil {
			require.Equal(t, providers.StateSucceeded, ev.Outcome.State)
			require.NotEmpty(t, ev.Outcome.Ref.SessionID, "the callback tells the operation id")
		}
	}
	require.Eventually(t, func() bool { return len(e.sandbox.Ledger()) == 1 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	require.Len(t, e.sandbox.Ledger(), 1)
}

func nextEventOrNone(events <-chan providers.Event) *providers.Event {
	select {
	case e := <-events:
		return &e
	case <-time.After(400 * time.Millisecond):
		return nil
	}
}

func TestSubmitRefusesWhatMandarinCannotPay(t *testing.T) {
	e := newEnv(t, ProviderOptions{}, sandbox.SandboxConfig{})
	usd := cardRequest(payout.Card{Token: sandbox.SandboxTokenSucceeds}, 100)
	usd.Amount.Currency = "USD"
	noBank := sbpRequest(sandbox.SandboxPhoneSucceeds, "Ivanov Ivan", 100)
	noBank.Destination.SBP.BankID = "999"
	oneName := sbpRequest(sandbox.SandboxPhoneSucceeds, "Ivan", 100)
	for name, tc := range map[string]struct {
		req  payout.Request
		code string
	}{
		"another currency":                  {usd, CodeUnsupportedPayout},
		"a bank not in the list":            {noBank, CodeUnknownBank},
		"sbp with half a name":              {oneName, CodeUnsupportedPayout},
		"a token the sandbox does not know": {cardRequest(payout.Card{Token: "nope"}, 100), CodeInvalidRequest},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.provider.Submit(t.Context(), providers.Ref{PayoutID: "po_bad"}, tc.req)
			providertest.RequireError(t, err, Name, providers.Known, tc.code)
		})
	}
	require.Empty(t, e.sandbox.Ledger())
}

func TestTarget_PrintsNoCardNumber(t *testing.T) {
	tr := TransactionRequest{Target: &Target{KnownCardNumber: sandbox.SandboxCardSucceeds}}
	for _, s := range []string{fmt.Sprint(*tr.Target), fmt.Sprintf("%+v", *tr.Target), fmt.Sprintf("%#v", *tr.Target), fmt.Sprintf("%v", tr.Target)} {
		require.NotContains(t, s, sandbox.SandboxCardSucceeds)
	}
	require.Equal(t, "card Visa •1881", Target{KnownCardNumber: sandbox.SandboxCardSucceeds}.String())
}

func TestSubmitSendsTheRecipientsPhoneAndEmail(t *testing.T) {
	// Seed 004's payout to a card number: customerInfo is the recipient's email and phone.
	p := NewProvider(nil, ProviderOptions{DefaultEmail: "payouts@example.com", DefaultPhone: "+79000000000"})
	req := cardRequest(payout.Card{Number: "4012888888881881"}, 100000)
	req.Recipient.Email, req.Recipient.Phone = "user@example.com", "+79001234567"

	tr, _, err := p.transaction(context.Background(), providers.Ref{PayoutID: "your_unique_order_id"}, req)

	require.NoError(t, err)
	body, err := json.Marshal(tr)
	require.NoError(t, err)
	require.JSONEq(t, `{"payment":{"action":"payout","orderId":"your_unique_order_id","price":"1000.00"},
		"customerInfo":{"email":"user@example.com","phone":"+79001234567"},
		"target":{"knownCardNumber":"4012888888881881"}}`, string(body))

	// Without them, the configured defaults: the documented fallback.
	tr, _, err = p.transaction(context.Background(), providers.Ref{PayoutID: "po_2"}, cardRequest(payout.Card{Number: "4012888888881881"}, 100))
	require.NoError(t, err)
	require.Equal(t, &CustomerInfo{Email: "payouts@example.com", Phone: "+79000000000"}, tr.CustomerInfo)
}

func TestTheAddressPhoneFallbackIsHeldToTheFormOfRecipientPhone(t *testing.T) {
	// recipient.phone is refused for Mandarin unless +7 and 10 digits (invalid_phone); billing_address.phone, its
	// fallback into customerInfo.phone, is only held to 100 characters. A payout that gives its phone there
	// instead must not send Mandarin what recipient.phone would be refused for: it is refused naming the field, or
	// what goes is a +7 phone.
	p := NewProvider(nil, ProviderOptions{DefaultEmail: "payouts@example.com", DefaultPhone: "+79000000000"})
	reg := providers.NewRegistry()
	require.NoError(t, reg.Add(p, nil))
	for _, phone := range []string{"+375291234567", "8 (900) 123-45-67", "call me after six"} {
		t.Run(phone, func(t *testing.T) {
			direct := cardRequest(payout.Card{Number: "4012888888881881"}, 100000)
			direct.Recipient.Phone = phone
			require.Error(t, reg.Validate(direct), "recipient.phone %q is refused for mandarin", phone)

			req := cardRequest(payout.Card{Number: "4012888888881881"}, 100000)
			req.Recipient.Address = &payout.Address{Phone: phone}
			if err := reg.Validate(req); err != nil {
				var fe *payout.FieldError
				require.ErrorAs(t, err, &fe)
				require.Equal(t, "recipient.billing_address.phone", fe.Field)
				return
			}
			tr, _, err := p.transaction(context.Background(), providers.Ref{PayoutID: "po_1"}, req)
			if err != nil {
				return
			}
			require.True(t, payout.ValidPhone(tr.CustomerInfo.Phone),
				"customerInfo.phone %q went to Mandarin although recipient.phone would be refused for it", tr.CustomerInfo.Phone)
		})
	}
}

func TestWithoutDefaultsARequestWithoutThePhoneOrEmailIsRefusedNamingTheField(t *testing.T) {
	// Seed 004: customerInfo.phone and .email are required (card number, card token, payment page, SBP).
	// MANDARIN_DEFAULT_PHONE and _EMAIL are an optional fallback (README: default "—"). Without them, a payout that
	// gives neither recipient.phone nor recipient.email is taken by the API, approved, and only then refused by
	// Mandarin: it must be refused at once, naming the field.
	p := NewProvider(nil, ProviderOptions{})
	reg := providers.NewRegistry()
	require.NoError(t, reg.Add(p, nil))
	for name, req := range map[string]payout.Request{
		"card number": cardRequest(payout.Card{Number: "4012888888881881"}, 100000),
		"card token":  cardRequest(payout.Card{Token: "0eb51e74-e704-4c36-b5cb-8f0227621518"}, 100000),
	} {
		t.Run(name, func(t *testing.T) {
			tr, _, err := p.transaction(context.Background(), providers.Ref{PayoutID: "po_1"}, req)
			require.NoError(t, err)
			require.True(t, tr.CustomerInfo == nil || tr.CustomerInfo.Phone == "", "premise: Mandarin would get no customerInfo.phone")

			var fe *payout.FieldError
			require.ErrorAs(t, reg.Validate(req), &fe, "the API takes a Mandarin payout it cannot send")
			require.Contains(t, []string{"recipient.phone", "recipient.email"}, fe.Field)
		})
	}
}

func TestAnSBPPayoutWhoseRecipientPhoneIsNotItsSBPPhoneIsRefused(t *testing.T) {
	// For an SBP payout customerInfo.phone is destination.sbp.phone (the sandbox pays by it); a recipient.phone
	// that says another number is dropped without a word. Contradicting input is refused naming the field.
	p := NewProvider(nil, ProviderOptions{DefaultEmail: "payouts@example.com", DefaultPhone: "+79000000000"})
	reg := providers.NewRegistry()
	require.NoError(t, reg.Add(p, nil))
	req := sbpRequest("+79001234567", "Иванов Петр Сергеевич", 100000)
	req.Destination.SBP.BankBIC = "044525225"
	req.Recipient.Phone = "+79007654321"

	tr, _, err := p.transaction(context.Background(), providers.Ref{PayoutID: "po_1"}, req)
	require.NoError(t, err)
	require.Equal(t, "+79001234567", tr.CustomerInfo.Phone, "premise: recipient.phone is not what goes")

	var fe *payout.FieldError
	require.ErrorAs(t, reg.Validate(req), &fe, "recipient.phone %s is silently dropped", req.Recipient.Phone)
	require.Equal(t, "recipient.phone", fe.Field)
}
