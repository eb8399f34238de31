package bank131

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131/sandbox"
)

// seedTransfer is the transfer of the transfer API's example (seed 002), with rates of four decimal places.
func seedTransfer() Transfer {
	return Transfer{
		SenderCard:    CardDetails{Number: sandbox.SandboxCardSucceeds, ExpiryMonth: "01", ExpiryYear: "29", SecurityCode: "123"},
		RecipientCard: "5058270610441098",
		Recurrent:     true,
		ReturnURL:     "https://www.131.ru/",
		Amounts: Amounts{
			Source:       AmountDetails{Amount: 100000, Currency: "RUB"},
			Rate:         ExchangeRate{Rate: "9.2222", FromCurrency: "RUB", ToCurrency: "TJS"},
			ProviderRate: ExchangeRate{Rate: "8.2200", FromCurrency: "rub", ToCurrency: "tjs"},
		},
		Amount: AmountDetails{Amount: 10843, Currency: "TJS"},
		Participants: TransferParticipants{
			Sender: TransferSender{
				CitizenshipCountryISO3: "RUS", FirstName: "Ольга", LastName: "Пахмутова", MiddleName: "Семёновна",
				CountryISO3: "TUR", City: "Уренгой", Street: "Конаковская", Building: "1", DateOfBirth: "1998-03-15",
				IdentityDocument: &IdentityDocument{IDType: "Паспорт гражданина Российской Федерации",
					IDNumber: "8008 579120", IssueDate: "2020-03-01", IssuedBy: "ОВД ПО Кировскому району"},
				Contacts: &Contacts{Phone: &ContactPhone{FullNumber: "+79376151530", CountryISO3: "RUS",
					OperatorCode: "937", ShortNumber: "6151530"}},
			},
			Recipient: TransferRecipient{FirstName: "Maksim", LastName: "Pahmutov", MiddleName: "Semenovich",
				DateOfBirth: "2000-11-08", Contacts: &Contacts{Phone: &ContactPhone{FullNumber: "+43523452345"}}},
		},
		ProviderTxID:      "test1",
		CustomerReference: "lucky",
	}
}

func TestClient_PayoutBodies(t *testing.T) {
	ctx := context.Background()
	base := StartPayout{RecipientName: "Ivanov Ivan", Amount: 10000, Currency: "RUB", Metadata: "po_1",
		IdempotencyKey: "po_1:init"}
	tests := []struct {
		name    string
		call    func(c *Client) error
		path    string
		body    string
		idemKey string
	}{
		{"init with a card number", func(c *Client) error {
			p := base
			p.CardNumber = sandbox.SandboxCardSucceeds
			_, err := c.InitPayout(ctx, "", p)
			return err
		}, "/api/v1/session/init/payout", `{
			"payment_method": {"type": "card", "card": {"type": "bank_card", "bank_card": {"number": "4242424242424242"}}},
			"participant_details": {"recipient": {"full_name": "Ivanov Ivan"}},
			"amount_details": {"amount": 10000, "currency": "rub"}, "metadata": "po_1"}`, "po_1:init"},
		{"init with a token from the nominal account", func(c *Client) error {
			p := base
			p.CardToken = sandbox.SandboxTokenSucceeds
			_, err := c.InitPayout(ctx, payout.SourceNominal, p)
			return err
		}, "/api/v1/session/init/payout/nominal", `{
			"payment_method": {"type": "card", "card": {"type": "tokenized_card",
				"tokenized_card": {"token": "` + sandbox.SandboxTokenSucceeds + `"}}},
			"participant_details": {"recipient": {"full_name": "Ivanov Ivan"}},
			"amount_details": {"amount": 10000, "currency": "rub"}, "metadata": "po_1"}`, "po_1:init"},
		{"init with a token from the settlement account", func(c *Client) error {
			p := base
			p.CardToken = sandbox.SandboxTokenSucceeds
			_, err := c.InitPayout(ctx, payout.SourceSettlement, p)
			return err
		}, "/api/v1/session/init/payout/rko", `{
			"payment_method": {"type": "card", "card": {"type": "tokenized_card",
				"tokenized_card": {"token": "` + sandbox.SandboxTokenSucceeds + `"}}},
			"participant_details": {"recipient": {"full_name": "Ivanov Ivan"}},
			"amount_details": {"amount": 10000, "currency": "rub"}, "metadata": "po_1"}`, "po_1:init"},
		{"start by SBP: the phone as digits", func(c *Client) error {
			p := base
			p.SessionID, p.IdempotencyKey = "ps_1", "po_1:start"
			p.SBP = &SBPPayout{Phone: "+79680000000", BankID: "100000000069", Description: "Wire for agreement 5015553111"}
			_, err := c.StartPayout(ctx, p)
			return err
		}, "/api/v1/session/start/payout", `{"session_id": "ps_1",
			"payment_method": {"type": "bank_account", "bank_account": {"system_type": "faster_payment_system",
				"faster_payment_system": {"phone": "79680000000", "bank_id": "100000000069",
					"description": "Wire for agreement 5015553111"}}},
			"participant_details": {"recipient": {"full_name": "Ivanov Ivan"}},
			"amount_details": {"amount": 10000, "currency": "rub"}, "metadata": "po_1"}`, "po_1:start"},
		{"token/info", func(c *Client) error {
			_, err := c.TokenInfo(ctx, sandbox.SandboxTokenSucceeds)
			return err
		}, "/api/v1/token/info", `{"type": "card", "card": {"type": "tokenized_card",
			"tokenized_card": {"token": "` + sandbox.SandboxTokenSucceeds + `"}}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, requests := fakeBank(t, http.StatusOK, `{"status":"ok","session":{"id":"ps_9","status":"in_progress"},
				"info":{"brand":"visa","last4":"4242","type":"card"}}`)
			c := newTestClient(t, srv.URL)

			require.NoError(t, tt.call(c))

			reqs := requests()
			require.Len(t, reqs, 1)
			require.Equal(t, http.MethodPost, reqs[0].Method)
			require.Equal(t, tt.path, reqs[0].Path)
			require.JSONEq(t, tt.body, string(reqs[0].Body))
			require.Equal(t, tt.idemKey, reqs[0].Header.Get(headerIdempotencyKey))
			partner, _ := testKeys(t)
			require.NoError(t, Verify(&partner.PublicKey, reqs[0].Body, reqs[0].Header.Get(headerSign)))
		})
	}
}

func TestClient_RefusesPayoutsItCannotSend(t *testing.T) {
	srv, requests := fakeBank(t, http.StatusOK, okSession)
	c := newTestClient(t, srv.URL)
	ctx := context.Background()
	two := StartPayout{SessionID: "ps_1", CardNumber: sandbox.SandboxCardSucceeds, CardToken: sandbox.SandboxTokenSucceeds, Amount: 1,
		Currency: "rub"}
	tests := map[string]func() error{
		"two destinations":        func() error { _, err := c.StartPayout(ctx, two); return err },
		"init with a session":     func() error { _, err := c.InitPayout(ctx, "", two); return err },
		"init from a bad account": func() error { _, err := c.InitPayout(ctx, "savings", StartPayout{}); return err },
		"token/info of nothing":   func() error { _, err := c.TokenInfo(ctx, ""); return err },
	}
	for name, call := range tests {
		t.Run(name, func(t *testing.T) {
			err := call()
			requireProviderError(t, err, providers.Known, "")
			require.NotContains(t, err.Error(), sandbox.SandboxCardSucceeds)
		})
	}
	require.Empty(t, requests())
}

func TestClient_TokenInfoReadsTheCard(t *testing.T) {
	srv, _ := fakeBank(t, http.StatusOK,
		`{"status":"ok","info":{"token":"t","brand":"mir","last4":"1098","country_iso3":"RUS","type":"card"}}`)

	info, err := newTestClient(t, srv.URL).TokenInfo(context.Background(), "t")

	require.NoError(t, err)
	require.Equal(t, TokenInfo{Token: "t", Brand: "mir", Last4: "1098", CountryISO3: "RUS", Type: "card"}, info)
}

func TestClient_FPSBanksIsASignedGET(t *testing.T) {
	srv, requests := fakeBank(t, http.StatusOK,
		`{"status":"ok","banks":[{"id":"100000000069","eng_name":"Demo Bank","ru_name":"Демо Банк"}]}`)

	banks, err := newTestClient(t, srv.URL).FPSBanks(context.Background())

	require.NoError(t, err)
	require.Equal(t, []SBPBank{{ID: "100000000069", Name: "Demo Bank", RuName: "Демо Банк"}}, banks)
	reqs := requests()
	require.Len(t, reqs, 1)
	require.Equal(t, http.MethodGet, reqs[0].Method)
	require.Equal(t, "/api/v1/fps/banks", reqs[0].Path)
	require.Empty(t, reqs[0].Body)
	partner, _ := testKeys(t)
	require.NoError(t, Verify(&partner.PublicKey, nil, reqs[0].Header.Get(headerSign)), "the empty body is signed")
}

func TestClient_RepeatedIdempotencyKeyIsUnknownAndExists(t *testing.T) {
	calls := map[string]func(c *Client) error{
		"init": func(c *Client) error {
			_, err := c.InitPayout(context.Background(), "", StartPayout{CardNumber: sandbox.SandboxCardSucceeds, Amount: 1,
				Currency: "rub", IdempotencyKey: "po_1:init"})
			return err
		},
		"multi/init": func(c *Client) error {
			_, err := c.MultiInit(context.Background(), MultiInit{Transfer: seedTransfer(), IdempotencyKey: "po_1:transfer"})
			return err
		},
		"confirm": func(c *Client) error { _, err := c.Confirm(context.Background(), "ps_1", "po_1:confirm"); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			srv, _ := fakeBank(t, http.StatusBadRequest,
				`{"status":"error","error":{"code":"idempotency_key_already_exists","description":"already in progress or processed"}}`)

			err := call(newTestClient(t, srv.URL))

			pe := requireProviderError(t, err, providers.Unknown, "idempotency_key_already_exists")
			require.True(t, pe.Exists, "already done: look it up")
		})
	}
}

func TestClient_MultiInitBodyIsTheSeeds(t *testing.T) {
	srv, requests := fakeBank(t, http.StatusOK, okSession)

	_, err := newTestClient(t, srv.URL).MultiInit(context.Background(),
		MultiInit{Transfer: seedTransfer(), Metadata: "po_t", IdempotencyKey: "po_t:transfer"})

	require.NoError(t, err)
	got := requests()[0]
	require.Equal(t, "/api/v1/session/multi/init", got.Path)
	require.Equal(t, "po_t:transfer", got.Header.Get(headerIdempotencyKey))
	require.JSONEq(t, `{
		"payment_options": {"recurrent": true, "return_url": "https://www.131.ru/"},
		"payment_details_multi": [{"type": "card", "card": {"type": "bank_card", "bank_card": {
			"number": "4242424242424242", "expiration_year": "29", "security_code": "123", "expiration_month": "01"}}}],
		"payout_details_multi": [{"type": "card", "card": {"type": "bank_card", "bank_card": {"number": "5058270610441098"}}}],
		"amounts": {
			"source": {"amount": 100000, "currency": "rub"},
			"rate": {"rate": "9.2222", "from_currency": "rub", "to_currency": "tjs"},
			"provider_rate": {"rate": "8.2200", "from_currency": "rub", "to_currency": "tjs"}},
		"amount_details": {"amount": 10843, "currency": "tjs"},
		"participant_details": {
			"sender": {"citizenship_country_iso3": "RUS", "first_name": "Ольга", "last_name": "Пахмутова",
				"middle_name": "Семёновна", "country_iso3": "TUR", "city": "Уренгой", "street": "Конаковская",
				"building": "1", "date_of_birth": "1998-03-15",
				"identity_document": {"id_type": "Паспорт гражданина Российской Федерации", "id_number": "8008 579120",
					"issue_date": "2020-03-01", "issued_by": "ОВД ПО Кировскому району"},
				"contacts": {"phone": {"full_number": "+79376151530", "country_iso3": "RUS", "operator_code": "937",
					"short_number": "6151530"}}},
			"recipient": {"first_name": "Maksim", "last_name": "Pahmutov", "middle_name": "Semenovich",
				"date_of_birth": "2000-11-08", "contacts": {"phone": {"full_number": "+43523452345"}}}},
		"payment_metadata": {"provider_tx_id": "test1"},
		"customer": {"reference": "lucky"},
		"metadata": "po_t"
	}`, string(got.Body))
	require.Contains(t, string(got.Body), `"rate":"9.2222"`, "the rate's exact text, never a float")
}

func TestClient_MultiInitAtAPromoRateNamesThePromoProject(t *testing.T) {
	// Seed 002: at a promo rate, X-PARTNER-PROJECT carries the id of the promo rate's project.
	srv, requests := fakeBank(t, http.StatusOK, okSession)
	c := newTestClient(t, srv.URL)
	promo := seedTransfer()
	promo.PromoProjectID = "promo_tjs"

	_, err := c.MultiInit(context.Background(), MultiInit{Transfer: promo, Metadata: "po_p"})
	require.NoError(t, err)
	_, err = c.MultiInit(context.Background(), MultiInit{Transfer: seedTransfer(), Metadata: "po_n"})
	require.NoError(t, err)
	_, err = c.Status(context.Background(), "ps_1")
	require.NoError(t, err)

	got := requests()
	require.Len(t, got, 3)
	require.Equal(t, "promo_tjs", got[0].Header.Get(headerProject))
	require.NotContains(t, string(got[0].Body), "promo_tjs", "a header, not a field of the body")
	require.Equal(t, testProject, got[1].Header.Get(headerProject))
	require.Equal(t, testProject, got[2].Header.Get(headerProject), "only the request at the promo rate")
}

func TestClient_MultiInitRefusesWhatItCannotSend(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Transfer)
		words  string
	}{
		{"a rate of two places", func(t *Transfer) { t.Amounts.ProviderRate.Rate = "8.22" }, "provider_rate.rate"},
		{"a rate of five places", func(t *Transfer) { t.Amounts.Rate.Rate = "9.22221" }, "amounts.rate.rate"},
		{"a rate without places", func(t *Transfer) { t.Amounts.Rate.Rate = "9" }, "amounts.rate.rate"},
		{"a rate with a comma", func(t *Transfer) { t.Amounts.Rate.Rate = "9,2222" }, "amounts.rate.rate"},
		{"a negative rate", func(t *Transfer) { t.Amounts.Rate.Rate = "-9.2222" }, "amounts.rate.rate"},
		{"a zero rate", func(t *Transfer) { t.Amounts.Rate.Rate = "0.0000" }, "amounts.rate.rate"},
		{"an exponent", func(t *Transfer) { t.Amounts.Rate.Rate = "9.2222e0" }, "amounts.rate.rate"},
		{"no security code", func(t *Transfer) { t.SenderCard.SecurityCode = "" }, "security code"},
		{"no expiry", func(t *Transfer) { t.SenderCard.ExpiryYear = "" }, "expiry"},
		{"no sender card", func(t *Transfer) { t.SenderCard.Number = "" }, "sender's card number"},
		{"no recipient card", func(t *Transfer) { t.RecipientCard = "" }, "recipient's card number"},
		{"nothing to pay", func(t *Transfer) { t.Amounts.Source.Amount = 0 }, "amounts.source.amount"},
		{"nothing to get", func(t *Transfer) { t.Amount.Amount = -1 }, "amount_details.amount"},
	}
	srv, requests := fakeBank(t, http.StatusOK, okSession)
	c := newTestClient(t, srv.URL)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := seedTransfer()
			tt.change(&tr)

			_, err := c.MultiInit(context.Background(), MultiInit{Transfer: tr})

			requireProviderError(t, err, providers.Known, "")
			require.Contains(t, err.Error(), tt.words)
			require.NotContains(t, err.Error(), sandbox.SandboxCardSucceeds)
		})
	}
	require.Empty(t, requests(), "nothing may be sent")
}

func TestRate_ReadsAStringOrANumberExactly(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"9.2222"`, "9.2222"},
		{`9.2222`, "9.2222"},
		{`8.22`, "8.22"},
		{`"12.1000"`, "12.1000"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var r Rate
			require.NoError(t, json.Unmarshal([]byte(tt.in), &r))
			require.Equal(t, Rate(tt.want), r)
		})
	}
	var r Rate
	require.Error(t, json.Unmarshal([]byte(`true`), &r))
	require.True(t, Rate("9.2222").Valid())
	require.False(t, Rate("8.22").Valid())
}

func TestTransfer_PrintsNoCardNumberOrSecurityCode(t *testing.T) {
	tr := seedTransfer()
	tr.SenderCard.SecurityCode = "987"
	m := MultiInit{Transfer: tr, Metadata: "po_t"}
	var logs strings.Builder
	noTime := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	log := slog.New(slog.NewJSONHandler(&logs, noTime))
	log.Info("transfer", "t", tr, "m", m, "card", tr.SenderCard)
	text := slog.New(slog.NewTextHandler(&logs, noTime))
	text.Info("transfer", "t", tr, "m", m, "card", tr.SenderCard)

	values := []any{tr, m, tr.SenderCard, &tr, &m, struct{ T Transfer }{tr}}
	var printed []string
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
			printed = append(printed, fmt.Sprintf(verb, v))
		}
	}
	printed = append(printed, tr.String(), tr.GoString(), m.String(), logs.String())
	for _, s := range printed {
		require.NotContains(t, s, sandbox.SandboxCardSucceeds)
		require.NotContains(t, s, "5058270610441098")
		require.NotContains(t, s, "987")
		require.NotContains(t, s, "393837", "no hex of the security code")
	}
	require.Contains(t, tr.String(), "visa •4242")
	require.Contains(t, tr.String(), "•1098")
}

func TestStartPayout_PrintsNoCardNumberTokenOrPhone(t *testing.T) {
	payouts := []StartPayout{
		{SessionID: "ps_1", CardNumber: sandbox.SandboxCardSucceeds},
		{SessionID: "ps_1", CardToken: sandbox.SandboxTokenSucceeds},
		{SessionID: "ps_1", SBP: &SBPPayout{Phone: "+79001234567", BankID: sandbox.SandboxBankID}},
	}
	for _, p := range payouts {
		for _, verb := range []string{"%v", "%+v", "%#v", "%d"} {
			s := fmt.Sprintf(verb, p)
			require.NotContains(t, s, sandbox.SandboxCardSucceeds)
			require.NotContains(t, s, sandbox.SandboxTokenSucceeds)
			require.NotContains(t, s, "79001234567")
		}
	}
}
