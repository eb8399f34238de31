package bepaid

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bepaid/sandbox"
)

func TestOutcome(t *testing.T) {
	card := &CreditCard{Brand: "master", Last4: "4444", First1: "5", BIN: "555555"}
	tests := []struct {
		name  string
		tx    Transaction
		state providers.State
		code  string
		desc  string
	}{
		{"successful succeeded", Transaction{Status: "successful"}, providers.StateSucceeded, "", ""},
		{"failed failed, declined when the bank gave no code",
			Transaction{Status: "failed", Message: "Payout was declined"},
			providers.StateFailed, "declined", "Payout was declined"},
		{"failed with the bank's code",
			Transaction{Status: "failed", Message: "Payout was declined",
				AdditionalData: &AdditionalData{Payout: &PayoutDetails{Status: "failed", BankCode: "05"}}},
			providers.StateFailed, "05", "Payout was declined"},
		{"failed without a message takes the bank's",
			Transaction{Status: "failed", Payout: &PayoutDetails{Message: "Insufficient funds", BankCode: "51"}},
			providers.StateFailed, "51", "Insufficient funds"},
		{"a failure message quoting a card is withheld",
			Transaction{Status: "failed", Message: "card 5555555555554444 declined"},
			providers.StateFailed, "declined", "[withheld: holds a card-like number]"},
		{"pending is pending", Transaction{Status: "pending"}, providers.StatePending, "", ""},
		{"incomplete is pending", Transaction{Status: "incomplete"}, providers.StatePending, "", ""},
		{"an unknown status is pending: nothing is called failed while money may move",
			Transaction{Status: "expired"}, providers.StatePending, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.tx.UID, tt.tx.Amount, tt.tx.Currency, tt.tx.RecipientCreditCard = "1-abc", 10000, "byn", card

			o := outcome(providers.Ref{PayoutID: "po_ours"}, tt.tx)

			require.Equal(t, providers.Ref{PayoutID: "po_ours", SessionID: "1-abc"}, o.Ref)
			require.Equal(t, tt.state, o.State)
			require.Equal(t, tt.code, o.ErrorCode)
			require.Equal(t, tt.desc, o.ErrorDescription)
			require.Equal(t, &payout.MaskedCard{Brand: "mastercard", Last4: "4444"}, o.Card)
			require.Equal(t, &payout.Amount{Value: 10000, Currency: "BYN"}, o.Amount)
		})
	}
}

func TestOutcome_ShowsATokenCardWithoutDigitsAsTokenized(t *testing.T) {
	o := outcome(providers.Ref{PayoutID: "po_1"}, Transaction{UID: "1", Status: "pending",
		RecipientCreditCard: &CreditCard{Token: "tok"}})

	require.Equal(t, &payout.MaskedCard{Tokenized: true}, o.Card)
	require.Nil(t, o.Amount, "no currency, no amount")
}

func TestProvider_Name(t *testing.T) {
	require.Equal(t, "bepaid", NewProvider(nil, ProviderOptions{}).Name())
}

func TestProvider_OpenReturnsTheRefUnchanged(t *testing.T) {
	srv, requests := fakeGateway(t, http.StatusOK, seedResponse)
	p := NewProvider(newTestClient(t, srv.URL), ProviderOptions{})
	ref := providers.Ref{PayoutID: "po_1"}

	got, err := p.Open(context.Background(), ref)

	require.NoError(t, err)
	require.Equal(t, ref, got)
	require.Empty(t, requests())
}

func TestProvider_ConfirmAndCancelAreNotSupported(t *testing.T) {
	srv, requests := fakeGateway(t, http.StatusOK, seedResponse)
	p := NewProvider(newTestClient(t, srv.URL), ProviderOptions{})
	ref := providers.Ref{PayoutID: "po_1", SessionID: "1-a"}

	out, err := p.Confirm(context.Background(), ref)
	pe := requireProviderError(t, err, providers.Known, CodeNotSupported)
	require.Equal(t, "confirm", pe.Op)
	require.Equal(t, ref, out.Ref)
	out, err = p.Cancel(context.Background(), ref)
	pe = requireProviderError(t, err, providers.Known, CodeNotSupported)
	require.Equal(t, "cancel", pe.Op)
	require.Equal(t, ref, out.Ref)

	require.Empty(t, requests())
}

func TestProvider_SubmitSendsThePayoutMapped(t *testing.T) {
	srv, requests := fakeGateway(t, http.StatusOK, seedResponse)
	p := NewProvider(newTestClient(t, srv.URL), ProviderOptions{NotificationURL: "https://us/webhooks/bepaid",
		VerificationURL: "https://us/webhooks/bepaid/verify", Test: true, Language: "ru"})
	req := cardRequest(sandbox.SandboxCardSucceeds)
	req.Amount.Currency = "byn"
	req.Description = "Winnings"
	req.Recipient = payout.Recipient{FullName: "Ivanov Ivan", Email: "ivan@example.com", IP: "10.0.0.1",
		BirthDate: "1990-10-20", TaxpayerID: "123456789",
		Address: &payout.Address{FirstName: "Ivan", LastName: "Ivanov", Country: "BY", City: "Minsk",
			Line: "Lenina 1", Zip: "220030", Phone: "375291234567"}}
	req.Sender = &payout.Sender{Email: "shop@example.com", IP: "10.0.0.2", BirthDate: "1980-01-02",
		Address: &payout.Address{Country: "BY", City: "Minsk", Line: "Pobediteley 2"},
		Document: &payout.Document{Type: "PASSPORT", Issuer: "MVD", Series: "MP", Number: "1234567",
			IssuedAt: "2010-03-12", ValidUntil: "2030-03-12"}}

	out, err := p.Submit(context.Background(), providers.Ref{PayoutID: "po_map"}, req)
	require.NoError(t, err)

	require.JSONEq(t, `{"request":{
		"amount":10000,"currency":"BYN","description":"Winnings","tracking_id":"po_map","duplicate_check":true,
		"language":"ru","notification_url":"https://us/webhooks/bepaid",
		"verification_url":"https://us/webhooks/bepaid/verify","test":true,
		"recipient_credit_card":{"number":"4200000000000000","holder":"IVAN IVANOV","exp_month":"12","exp_year":2030},
		"recipient":{"ip":"10.0.0.1","email":"ivan@example.com","birth_date":"1990-10-20","taxpayer_id":"123456789"},
		"sender":{"ip":"10.0.0.2","email":"shop@example.com","birth_date":"1980-01-02"},
		"recipient_billing_address":{"first_name":"Ivan","last_name":"Ivanov","country":"BY","city":"Minsk",
			"zip":"220030","address":"Lenina 1","phone":"375291234567"},
		"sender_billing_address":{"country":"BY","city":"Minsk","address":"Pobediteley 2"},
		"additional_data":{"document":{"type":"PASSPORT","issuer":"MVD","series":"MP","number":"1234567",
			"issued_at":"2010-03-12","valid_until":"2030-03-12"}}
	}}`, string(requests()[0].Body))
	// The seed's answer, read as the outcome.
	require.Equal(t, providers.Outcome{
		Ref:     providers.Ref{PayoutID: "po_map", SessionID: "1-d43572b244"},
		State:   providers.StateSucceeded,
		Card:    &payout.MaskedCard{Brand: "mastercard", Last4: "4444"},
		Amount:  &payout.Amount{Value: 100, Currency: "RUB"},
		Details: map[string]string{"status": "successful", "message": "Successfully processed", "ref_id": "1569310086280783205"},
	}, out)
}

func TestProvider_SubmitOfATokenWithNothingElseSendsTheLeast(t *testing.T) {
	srv, requests := fakeGateway(t, http.StatusOK, seedResponse)
	p := NewProvider(newTestClient(t, srv.URL), ProviderOptions{})

	_, err := p.Submit(context.Background(), providers.Ref{PayoutID: "po_tok"}, tokenRequest(sandbox.SandboxTokenSucceeds))
	require.NoError(t, err)

	require.JSONEq(t, `{"request":{"amount":10000,"currency":"BYN","description":"Payout po_tok",
		"tracking_id":"po_tok","duplicate_check":true,
		"recipient_credit_card":{"token":"`+sandbox.SandboxTokenSucceeds+`"}}}`, string(requests()[0].Body))
}

func TestProvider_SubmitWithoutACardSendsNothing(t *testing.T) {
	srv, requests := fakeGateway(t, http.StatusOK, seedResponse)
	p := NewProvider(newTestClient(t, srv.URL), ProviderOptions{})
	sbp := cardRequest("")
	sbp.Destination = payout.Destination{Type: payout.DestinationSBP, SBP: &payout.SBP{Phone: "79001234567", BankID: "1"}}
	empty := cardRequest("")

	for name, req := range map[string]payout.Request{"sbp": sbp, "empty card": empty} {
		t.Run(name, func(t *testing.T) {
			out, err := p.Submit(context.Background(), providers.Ref{PayoutID: "po_1"}, req)

			requireProviderError(t, err, providers.Known, "")
			require.Equal(t, providers.Ref{PayoutID: "po_1"}, out.Ref)
		})
	}
	require.Empty(t, requests())
}

func TestProvider_SubmitFailureKeepsTheRef(t *testing.T) {
	srv, _ := fakeGateway(t, http.StatusGatewayTimeout, ``)
	p := NewProvider(newTestClient(t, srv.URL), ProviderOptions{})

	out, err := p.Submit(context.Background(), providers.Ref{PayoutID: "po_1"}, cardRequest(sandbox.SandboxCardSucceeds))

	requireProviderError(t, err, providers.Unknown, "")
	require.Equal(t, providers.Outcome{Ref: providers.Ref{PayoutID: "po_1"}}, out)
}

func TestProvider_StatusAsksByUIDWhenKnown(t *testing.T) {
	srv, requests := fakeGateway(t, http.StatusOK, seedResponse)
	p := NewProvider(newTestClient(t, srv.URL), ProviderOptions{})

	out, err := p.Status(context.Background(), providers.Ref{PayoutID: "po_1", SessionID: "1-d43572b244"})

	require.NoError(t, err)
	require.Equal(t, providers.StateSucceeded, out.State)
	require.Equal(t, "/transactions/1-d43572b244", requests()[0].Path)
}

func TestProvider_StatusByTrackingID(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		state providers.State
		uid   string
	}{
		{"none: created, sending is safe", `{"transactions":[]}`, providers.StateCreated, ""},
		{"one", `{"transactions":[{"uid":"1-a","status":"pending","type":"payout"}]}`, providers.StatePending, "1-a"},
		{"several: the most recent by created_at",
			`{"transactions":[
				{"uid":"1-old","status":"failed","type":"payout","created_at":"2024-01-01T10:00:00.000Z"},
				{"uid":"1-new","status":"pending","type":"payout","created_at":"2024-01-01T10:00:01.000Z"}]}`,
			providers.StatePending, "1-new"},
		{"several: a successful one wins, money moved",
			`{"transactions":[
				{"uid":"1-new","status":"failed","type":"payout","created_at":"2024-01-01T10:00:01.000Z"},
				{"uid":"1-paid","status":"successful","type":"payout","created_at":"2024-01-01T10:00:00.000Z"},
				{"uid":"1-newest","status":"pending","type":"payout","created_at":"2024-01-01T10:00:02.000Z"}]}`,
			providers.StateSucceeded, "1-paid"},
		{"a tie goes to the first listed, the newest",
			`{"transactions":[
				{"uid":"1-first","status":"pending","created_at":"2024-01-01T10:00:00.000Z"},
				{"uid":"1-second","status":"failed","created_at":"2024-01-01T10:00:00.000Z"}]}`,
			providers.StatePending, "1-first"},
		{"transactions of other types are not the payout",
			`{"transactions":[{"uid":"1-pay","status":"successful","type":"payment"}]}`, providers.StateCreated, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, requests := fakeGateway(t, http.StatusOK, tt.body)
			p := NewProvider(newTestClient(t, srv.URL), ProviderOptions{})

			out, err := p.Status(context.Background(), providers.Ref{PayoutID: "po_track"})

			require.NoError(t, err)
			require.Equal(t, tt.state, out.State)
			require.Equal(t, providers.Ref{PayoutID: "po_track", SessionID: tt.uid}, out.Ref)
			require.Equal(t, "/v2/transactions/tracking_id/po_track", requests()[0].Path)
		})
	}
}

func TestProvider_StatusFailureIsTheClients(t *testing.T) {
	srv, _ := fakeGateway(t, http.StatusInternalServerError, ``)
	p := NewProvider(newTestClient(t, srv.URL), ProviderOptions{})

	for _, ref := range []providers.Ref{{PayoutID: "po_1"}, {PayoutID: "po_1", SessionID: "1-a"}} {
		out, err := p.Status(context.Background(), ref)

		requireProviderError(t, err, providers.Unknown, "")
		require.Equal(t, ref, out.Ref)
	}
}

func TestProvider_CheckCreateRefusesACardWhoseExpiryMonthHasEnded(t *testing.T) {
	// A card is good to the end of its expiry month; bePaid refuses it after (recipient_credit_card.exp_year).
	now := time.Date(2026, time.December, 6, 20, 0, 0, 0, time.UTC)
	p := NewProvider(nil, ProviderOptions{})
	for _, tt := range []struct {
		month, year string
		expired     bool
	}{
		{"12", "2026", false},
		{"01", "2027", false},
		{"11", "2026", true},
		{"12", "2025", true},
		{"01", "2001", true},
	} {
		t.Run(tt.month+"/"+tt.year, func(t *testing.T) {
			req := payout.Request{Provider: Name, Destination: payout.Destination{Type: payout.DestinationCard,
				Card: &payout.Card{Number: "4200000000000000", Holder: "IVAN IVANOV", ExpMonth: tt.month, ExpYear: tt.year}}}
			err := p.CheckCreate(req, now)
			if !tt.expired {
				require.NoError(t, err)
				return
			}
			var fe *payout.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, "destination.card.exp_year", fe.Field)
			require.Equal(t, "card_expired", fe.Code)
		})
	}
	token := payout.Request{Provider: Name, Destination: payout.Destination{Type: payout.DestinationCard,
		Card: &payout.Card{Token: "tok"}}}
	require.NoError(t, p.CheckCreate(token, now), "a token carries no expiry")
}
