package providers_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131"
	"github.com/payoutflow/payoutflow/providers/bepaid"
	"github.com/payoutflow/payoutflow/providers/mandarin"
)

// registry registers the three providers, Mandarin with its customerInfo defaults as configured in make run; their
// rules and capabilities need no client.
func registry(t *testing.T) *providers.Registry {
	t.Helper()
	r := providers.NewRegistry()
	require.NoError(t, r.Add(bank131.NewProvider(nil), bank131.NewWebhooks(nil)))
	require.NoError(t, r.Add(bepaid.NewProvider(nil, bepaid.ProviderOptions{}), bepaid.NewWebhooks("shop", "secret", nil)))
	require.NoError(t, r.Add(mandarin.NewProvider(nil, mandarin.ProviderOptions{DefaultEmail: "payouts@example.com", DefaultPhone: "+79000000000"}), mandarin.NewWebhooks("1", "secret")))
	return r
}

func cardRequest(provider string) payout.Request {
	return payout.Request{
		Provider:    provider,
		Amount:      payout.Amount{Value: 10000, Currency: "RUB"},
		Destination: payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Number: "4242424242424242"}},
		Recipient:   payout.Recipient{FullName: "Ivanov Ivan"},
		Description: "Payout for order 123",
	}
}

func sbpRequest(provider string) payout.Request {
	r := cardRequest(provider)
	r.Destination = payout.Destination{Type: payout.DestinationSBP, SBP: &payout.SBP{Phone: "+79001234567", BankID: "100000000111"}}
	r.Recipient.FullName = "Иванов Петр Сергеевич"
	return r
}

func bePaidRequest() payout.Request {
	r := cardRequest(bepaid.Name)
	r.Amount.Currency = "BYN"
	r.Destination.Card = &payout.Card{Number: "4200000000000000", Holder: "IVAN IVANOV", ExpMonth: "12", ExpYear: "2030"}
	return r
}

func transferRequest() payout.Request {
	return payout.Request{
		Provider:    bank131.Name,
		Amount:      payout.Amount{Value: 10843, Currency: "TJS"},
		Destination: payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Number: "5058270610441098"}},
		Recipient:   payout.Recipient{FullName: "Pahmutov Maksim"},
		Transfer: &payout.Transfer{Source: payout.Amount{Value: 100000, Currency: "RUB"}, Rate: "9.2222", ProviderRate: "8.2200",
			ProviderTxID: "tx1",
			Sender: payout.TransferSender{FirstName: "Olga", LastName: "Pahmutova", CitizenshipCountry: "RUS", Country: "RUS",
				City: "Moscow", Street: "Tverskaya", BirthDate: "1998-03-15", Document: &payout.TransferDocument{Type: "passport", Number: "8008 579120"}},
			Recipient:  payout.TransferRecipient{FirstName: "Maksim", LastName: "Pahmutov"},
			SenderCard: &payout.SenderCard{Number: "4242424242424242", ExpMonth: "01", ExpYear: "2029", CVV: "123"}},
	}
}

func TestRegistry_AcceptsWhatEachProviderTakes(t *testing.T) {
	reg := registry(t)
	for name, r := range map[string]payout.Request{
		"bank131 card":                              cardRequest(bank131.Name),
		"bank131 sbp":                               sbpRequest(bank131.Name),
		"bank131 transfer in TJS":                   transferRequest(),
		"bepaid card in BYN":                        bePaidRequest(),
		"bepaid recipient phone of another country": func() payout.Request { r := bePaidRequest(); r.Recipient.Phone = "+375291234567"; return r }(),
		"mandarin sbp with the name":                sbpRequest(mandarin.Name),
		"mandarin sbp recipient phone the sbp phone": func() payout.Request {
			r := sbpRequest(mandarin.Name)
			r.Recipient.Phone = r.Destination.SBP.Phone
			return r
		}(),
		"mandarin billing address phone as the fallback": func() payout.Request {
			r := cardRequest(mandarin.Name)
			r.Recipient.Address = &payout.Address{Phone: "+79001234567"}
			return r
		}(),
		"mandarin payment page": func() payout.Request {
			r := cardRequest(mandarin.Name)
			r.Destination = payout.Destination{Type: payout.DestinationPaymentPage}
			return r
		}(),
		"bank131 single request": func() payout.Request { r := cardRequest(bank131.Name); r.SingleRequest = true; return r }(),
		"bank131 token from nominal": func() payout.Request {
			r := cardRequest(bank131.Name)
			r.Destination.Card = &payout.Card{Token: "tok"}
			r.SourceAccount = payout.SourceNominal
			return r
		}(),
		"mandarin sbp without a name": func() payout.Request {
			r := sbpRequest(mandarin.Name)
			r.Destination.SBP.WithoutName = true
			r.Recipient.FullName = "Петр"
			return r
		}(),
	} {
		t.Run(name, func(t *testing.T) { require.NoError(t, reg.Validate(r)) })
	}
}

func TestRegistry_RefusesWhatTheProviderDoesNotTake(t *testing.T) {
	reg := registry(t)
	tests := []struct {
		name    string
		req     func() payout.Request
		change  func(*payout.Request)
		field   string
		code    string
		message string
	}{
		{"no provider", func() payout.Request { return cardRequest("") }, func(*payout.Request) {}, "provider", "required", ""},
		{"unknown provider", func() payout.Request { return cardRequest("paypal") }, func(*payout.Request) {},
			"provider", "unknown_provider", `provider "paypal" is not one of bank131, bepaid, mandarin`},
		{"bank131 in dollars", func() payout.Request { return cardRequest(bank131.Name) }, func(r *payout.Request) { r.Amount.Currency = "USD" },
			"amount.currency", "currency_not_supported", "bank131 pays out in RUB only"},
		{"source account for a card number", func() payout.Request { return cardRequest(bank131.Name) },
			func(r *payout.Request) { r.SourceAccount = payout.SourceNominal }, "source_account", "token_required", ""},
		{"unknown source account", func() payout.Request { return cardRequest(bank131.Name) },
			func(r *payout.Request) { r.Destination.Card = &payout.Card{Token: "tok"}; r.SourceAccount = "escrow" },
			"source_account", "unknown_source_account", ""},
		{"bank131 sbp description too long", func() payout.Request { return sbpRequest(bank131.Name) },
			func(r *payout.Request) { r.Description = strings.Repeat("д", 141) }, "description", "too_long", ""},
		{"bank131 sbp without description", func() payout.Request { return sbpRequest(bank131.Name) },
			func(r *payout.Request) { r.Description = "" }, "description", "required", ""},
		{"bank131 sbp single request", func() payout.Request { return sbpRequest(bank131.Name) },
			func(r *payout.Request) { r.SingleRequest = true }, "single_request", "not_supported", "single_request is for card payouts"},
		{"single request elsewhere", bePaidRequest, func(r *payout.Request) { r.SingleRequest = true },
			"single_request", "not_supported", "only bank131 takes single_request"},
		{"source account elsewhere", func() payout.Request { return cardRequest(mandarin.Name) }, func(r *payout.Request) { r.SourceAccount = payout.SourceNominal },
			"source_account", "not_supported", "only bank131 takes source_account"},
		{"sbp without the name elsewhere", func() payout.Request { return sbpRequest(bank131.Name) },
			func(r *payout.Request) { r.Destination.SBP.WithoutName = true }, "destination.sbp.without_name", "not_supported",
			"only mandarin pays SBP payouts without the recipient's name"},
		{"bepaid sbp", func() payout.Request { return sbpRequest(bepaid.Name) }, func(*payout.Request) {},
			"destination.type", "method_not_supported", ""},
		{"bepaid payment page", bePaidRequest, func(r *payout.Request) { r.Destination = payout.Destination{Type: payout.DestinationPaymentPage} },
			"destination.type", "method_not_supported", ""},
		{"bepaid transfer", transferRequest, func(r *payout.Request) { r.Provider = bepaid.Name }, "destination.type", "method_not_supported", ""},
		{"bepaid missing holder", bePaidRequest, func(r *payout.Request) { r.Destination.Card.Holder = "" }, "destination.card.holder", "required", ""},
		{"bepaid long holder", bePaidRequest, func(r *payout.Request) { r.Destination.Card.Holder = strings.Repeat("A", 33) }, "destination.card.holder", "too_long", ""},
		{"bepaid bad month", bePaidRequest, func(r *payout.Request) { r.Destination.Card.ExpMonth = "13" }, "destination.card.exp_month", "invalid_exp_month", ""},
		{"bepaid bad year", bePaidRequest, func(r *payout.Request) { r.Destination.Card.ExpYear = "30" }, "destination.card.exp_year", "invalid_exp_year", ""},
		{"mandarin not roubles", func() payout.Request { return sbpRequest(mandarin.Name) }, func(r *payout.Request) { r.Amount.Currency = "USD" },
			"amount.currency", "currency_not_supported", "mandarin pays out in RUB only"},
		{"mandarin one-word name with the name", func() payout.Request { return sbpRequest(mandarin.Name) },
			func(r *payout.Request) { r.Recipient.FullName = "Петр" }, "recipient.full_name", "incomplete_name", ""},
		{"mandarin recipient phone not Russian", func() payout.Request { return sbpRequest(mandarin.Name) },
			func(r *payout.Request) { r.Recipient.Phone = "+375291234567" }, "recipient.phone", "invalid_phone", ""},
		{"mandarin sbp recipient phone not the sbp phone", func() payout.Request { return sbpRequest(mandarin.Name) },
			func(r *payout.Request) { r.Recipient.Phone = "+79007654321" }, "recipient.phone", "phone_mismatch", ""},
		{"mandarin billing address phone not Russian", func() payout.Request { return cardRequest(mandarin.Name) },
			func(r *payout.Request) { r.Recipient.Address = &payout.Address{Phone: "+375291234567"} },
			"recipient.billing_address.phone", "invalid_phone", ""},
		{"the common rules still apply", func() payout.Request { return cardRequest(mandarin.Name) },
			func(r *payout.Request) { r.Destination.Card.Number = "4242424242424241" }, "destination.card.number", "invalid_luhn", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req()
			tt.change(&r)
			var fe *payout.FieldError
			require.True(t, errors.As(reg.Validate(r), &fe), "a field error")
			require.Equal(t, tt.field, fe.Field)
			require.Equal(t, tt.code, fe.Code)
			if tt.message != "" {
				require.Equal(t, tt.message, fe.Message)
			}
		})
	}
}

func TestRegistry_TellsHowTheProviderTreatsEachRequest(t *testing.T) {
	reg := registry(t)
	single := cardRequest(bank131.Name)
	single.SingleRequest = true
	withoutName := sbpRequest(mandarin.Name)
	withoutName.Destination.SBP.WithoutName = true
	tests := []struct {
		name string
		req  payout.Request
		want providers.Capabilities
	}{
		{"bank131 card: confirmed at the bank", cardRequest(bank131.Name), providers.Capabilities{ConfirmsAtProvider: true,
			SettlePeriod: 2 * time.Minute, DedupWindow: time.Hour, PendingLimit: 72 * time.Hour, Currencies: []string{"RUB"}}},
		{"bank131 single request: opened on submit, looked up by resubmit", single, providers.Capabilities{ConfirmsAtProvider: true,
			OpensOnSubmit: true, LooksUpBySubmit: true, SettlePeriod: 2 * time.Minute, DedupWindow: time.Hour, PendingLimit: 72 * time.Hour,
			Currencies: []string{"RUB"}}},
		{"bank131 transfer: in the recipient's currency", transferRequest(), providers.Capabilities{ConfirmsAtProvider: true,
			SettlePeriod: 2 * time.Minute, DedupWindow: time.Hour, PendingLimit: 72 * time.Hour}},
		{"bepaid: approved before submit", bePaidRequest(), providers.Capabilities{SettlePeriod: 10 * time.Minute,
			DedupWindow: 10 * time.Minute, PendingLimit: 24 * time.Hour}},
		{"mandarin card: approved before submit, looked up by resubmit", cardRequest(mandarin.Name), providers.Capabilities{
			LooksUpBySubmit: true, SubmitTimeout: 600 * time.Second, SettlePeriod: 10 * time.Minute, DedupWindow: 10 * time.Minute,
			PendingLimit: 24 * time.Hour, Currencies: []string{"RUB"}}},
		{"mandarin sbp without the name: confirmed once the name is checked", withoutName, providers.Capabilities{
			ConfirmsAtProvider: true, LooksUpBySubmit: true, SubmitTimeout: 600 * time.Second, SettlePeriod: 10 * time.Minute,
			DedupWindow: 10 * time.Minute, PendingLimit: 24 * time.Hour, Currencies: []string{"RUB"}}},
		{"unknown provider: nothing", cardRequest("paypal"), providers.Capabilities{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, reg.Capabilities(tt.req)) })
	}
}

func TestRegistry_WiresProvidersWebhooksAndTitles(t *testing.T) {
	reg := registry(t)
	require.Equal(t, []string{"bank131", "bepaid", "mandarin"}, reg.Names())
	require.Len(t, reg.Providers(), 3)
	p, ok := reg.Get("mandarin")
	require.True(t, ok)
	require.Equal(t, "mandarin", p.Name())
	_, ok = reg.Get("paypal")
	require.False(t, ok)

	_, ok = reg.Webhooks("bank131")
	require.True(t, ok)
	_, ok = reg.Verifications("bepaid")
	require.True(t, ok, "bePaid's receiver answers its verifications")
	_, ok = reg.Verifications("bank131")
	require.False(t, ok, "Bank 131 asks none")

	require.Equal(t, "Bank 131", payout.ProviderTitle("bank131"))
	require.Equal(t, "bePaid", payout.ProviderTitle("bepaid"))
	require.Equal(t, "Mandarin", payout.ProviderTitle("mandarin"))

	require.Error(t, reg.Add(bank131.NewProvider(nil), nil), "a provider is registered once")
}

func TestRegistry_ABePaidCardThatHasExpiredIsRefusedAtOnce(t *testing.T) {
	// The bePaid sandbox refuses an expired card (recipient_credit_card.exp_year "is expired"), as bePaid does; the
	// API takes it, so the payout is approved first and fails only at submit. A year long past is bad input that
	// names its field.
	r := bePaidRequest()
	r.Destination.Card.ExpMonth, r.Destination.Card.ExpYear = "01", "2001"
	var fe *payout.FieldError
	require.True(t, errors.As(registry(t).Validate(r), &fe), "an expired card is refused with a field error")
	require.Equal(t, "destination.card.exp_year", fe.Field)
}

func TestRegistry_ValidateAtTakesACardThatHadNotExpiredThen(t *testing.T) {
	// The expiry is checked against the time of create the API gives, not against the clock of a later call.
	r := bePaidRequest()
	r.Destination.Card.ExpMonth, r.Destination.Card.ExpYear = "01", "2001"
	require.NoError(t, registry(t).ValidateAt(r, time.Date(2001, time.January, 31, 23, 0, 0, 0, time.UTC)))
}
