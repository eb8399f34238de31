package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
)

const testProject = "test-project"

// keys are generated once per test binary: the partner's key and the bank's.
var keys = sync.OnceValues(func() (*rsa.PrivateKey, *rsa.PrivateKey) {
	gen := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	}
	return gen(), gen()
})

// testKeys returns the partner and bank keys.
func testKeys(testing.TB) (partner, bank *rsa.PrivateKey) { return keys() }

// harness is a sandbox over real HTTP, a client and provider signed with the partner key, and a webhook receiver
// that translates what it gets with Webhooks.
type harness struct {
	sandbox  *Sandbox
	api      *httptest.Server
	client   *bank131.Client
	provider *bank131.Provider
	partner  *rsa.PrivateKey
	bank     *rsa.PrivateKey
	// receiver takes the webhooks: it records every body and refuses those it is told to.
	receiver *providertest.HookReceiver
	// file is the sandbox's state file, if it has one.
	file string
}

type harnessOption func(*SandboxConfig)

func withDelay(d time.Duration) harnessOption {
	return func(c *SandboxConfig) { c.WebhookDelay = d }
}

func withStateFile(name string) harnessOption {
	return func(c *SandboxConfig) { c.StateFile = name }
}

func withNoWebhooks() harnessOption {
	return func(c *SandboxConfig) { c.NoWebhooks = true }
}

func withLogger(log *slog.Logger) harnessOption {
	return func(c *SandboxConfig) { c.Logger = log }
}

func withErrorHold(d time.Duration) harnessOption {
	return func(c *SandboxConfig) { c.ErrorHold = d }
}

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	partner, bank := testKeys(t)
	cfg := SandboxConfig{
		PartnerPublicKey: &partner.PublicKey,
		BankPrivateKey:   bank,
		Project:          testProject,
		WebhookDelay:     5 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	h := &harness{partner: partner, bank: bank, file: cfg.StateFile,
		receiver: providertest.NewHookReceiver(bank131.NewWebhooks(&bank.PublicKey), 32)}
	receiver := httptest.NewServer(h.receiver)
	t.Cleanup(receiver.Close)
	cfg.WebhookURL = receiver.URL
	sb, err := OpenSandbox(cfg)
	require.NoError(t, err)
	h.sandbox = sb
	h.api = httptest.NewServer(h.sandbox)
	t.Cleanup(h.stop)

	h.client = h.newClient(t, partner)
	h.provider = bank131.NewProvider(h.client)
	return h
}

// stop stops the sandbox and its API, as if the process ended; the webhook receiver stays.
func (h *harness) stop() {
	h.sandbox.Close()
	h.api.Close()
}

// kill stops the sandbox and its API as a SIGKILL would: its state file keeps the changes appended, without the
// whole state Close writes.
func (h *harness) kill(t *testing.T) {
	t.Helper()
	providertest.Kill(t, h.file, h.stop)
}

// awaitSent waits until the sandbox has recorded the session's webhook of type typ as answered 200.
func (h *harness) awaitSent(t *testing.T, sessionID, typ string) {
	t.Helper()
	require.Eventually(t, func() bool {
		h.sandbox.mu.Lock()
		defer h.sandbox.mu.Unlock()
		sess := h.sandbox.sessions[sessionID]
		return sess != nil && sess.sent[typ]
	}, 5*time.Second, time.Millisecond)
}

// refuseWebhooks makes the receiver answer 500 to every webhook from now on.
func (h *harness) refuseWebhooks() {
	h.receiver.Refuse(1 << 30)
}

// newClient returns a client of the harness's sandbox that signs with key.
func (h *harness) newClient(t *testing.T, key *rsa.PrivateKey) *bank131.Client {
	t.Helper()
	c, err := bank131.NewClient(bank131.Config{BaseURL: h.api.URL, Project: testProject, PrivateKey: key})
	require.NoError(t, err)
	return c
}

// nextEvent waits for the next translated webhook.
func (h *harness) nextEvent(t *testing.T) providers.Event {
	t.Helper()
	return providertest.NextEvent(t, h.receiver.Events, "webhook")
}

// noEvent asserts that no webhook event arrives for a while.
func (h *harness) noEvent(t *testing.T) {
	t.Helper()
	providertest.NoEvent(t, h.receiver.Events, "webhook")
}

// receivedHooks returns the webhook bodies received so far, whatever was answered.
func (h *harness) receivedHooks() [][]byte {
	return h.receiver.Received()
}

// post sends a raw request to the sandbox, signed with key unless key is nil, and returns status and envelope.
func (h *harness) post(t *testing.T, key *rsa.PrivateKey, project, method string, body []byte,
	header map[string]string) (int, envelope, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, h.api.URL+"/api/v1/"+method,
		bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if project != "" {
		req.Header.Set(headerProject, project)
	}
	if key != nil {
		sig, err := Sign(key, body)
		require.NoError(t, err)
		req.Header.Set(headerSign, sig)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var env envelope
	require.NoError(t, json.Unmarshal(raw, &env), "body: %s", raw)
	return resp.StatusCode, env, raw
}

// cardRequest is a payout request of 100.00 RUB to card.
func cardRequest(card string) payout.Request {
	return payout.Request{
		Provider:    bank131.Name,
		Amount:      payout.Amount{Value: 10000, Currency: "RUB"},
		Destination: payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Number: card}},
		Recipient:   payout.Recipient{FullName: "Ivanov Ivan"},
	}
}

// requireProviderError asserts err is a *providers.Error of certainty and code, and returns it.
func requireProviderError(t *testing.T, err error, certainty providers.Certainty, code string) *providers.Error {
	t.Helper()
	return providertest.RequireError(t, err, bank131.Name, certainty, code)
}

// tokenRequest is a payout request of 100.00 RUB to the card behind token.
func tokenRequest(token string) payout.Request {
	r := cardRequest("")
	r.Destination.Card = &payout.Card{Token: token}
	return r
}

// sbpRequest is an SBP payout request of 100.00 RUB to phone at the sandbox's bank.
func sbpRequest(phone string) payout.Request {
	r := cardRequest("")
	r.Destination = payout.Destination{Type: payout.DestinationSBP, SBP: &payout.SBP{Phone: phone, BankID: SandboxBankID}}
	r.Description = "Payout for order 123"
	return r
}

// seedTransfer is the transfer of the transfer API's example (seed 002), with rates of four decimal places.
func seedTransfer() bank131.Transfer {
	return bank131.Transfer{
		SenderCard:    bank131.CardDetails{Number: SandboxCardSucceeds, ExpiryMonth: "01", ExpiryYear: "29", SecurityCode: "123"},
		RecipientCard: "5058270610441098",
		Recurrent:     true,
		ReturnURL:     "https://www.131.ru/",
		Amounts: bank131.Amounts{
			Source:       bank131.AmountDetails{Amount: 100000, Currency: "RUB"},
			Rate:         bank131.ExchangeRate{Rate: "9.2222", FromCurrency: "RUB", ToCurrency: "TJS"},
			ProviderRate: bank131.ExchangeRate{Rate: "8.2200", FromCurrency: "rub", ToCurrency: "tjs"},
		},
		Amount: bank131.AmountDetails{Amount: 10843, Currency: "TJS"},
		Participants: bank131.TransferParticipants{
			Sender: bank131.TransferSender{
				CitizenshipCountryISO3: "RUS", FirstName: "Ольга", LastName: "Пахмутова", MiddleName: "Семёновна",
				CountryISO3: "TUR", City: "Уренгой", Street: "Конаковская", Building: "1", DateOfBirth: "1998-03-15",
				IdentityDocument: &bank131.IdentityDocument{IDType: "Паспорт гражданина Российской Федерации",
					IDNumber: "8008 579120", IssueDate: "2020-03-01", IssuedBy: "ОВД ПО Кировскому району"},
				Contacts: &bank131.Contacts{Phone: &bank131.ContactPhone{FullNumber: "+79376151530", CountryISO3: "RUS",
					OperatorCode: "937", ShortNumber: "6151530"}},
			},
			Recipient: bank131.TransferRecipient{FirstName: "Maksim", LastName: "Pahmutov", MiddleName: "Semenovich",
				DateOfBirth: "2000-11-08", Contacts: &bank131.Contacts{Phone: &bank131.ContactPhone{FullNumber: "+43523452345"}}},
		},
		ProviderTxID:      "test1",
		CustomerReference: "lucky",
	}
}

// seedMultiInit is the session/multi/init body of the transfer API's example (seed 002) with metadata, the
// sender's card valid until 2029 and the provider's rate of four decimal places.
func seedMultiInit(metadata string) []byte {
	return []byte(`{
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
		"middle_name": "Семёновна", "country_iso3": "TUR", "state": "", "city": "Уренгой", "postal_code": "",
		"street": "Конаковская", "building": "1", "flat": "", "date_of_birth": "1998-03-15",
		"identity_document": {"id_type": "Паспорт гражданина Российской Федерации", "id_number": "8008 579120",
			"issue_date": "2020-03-01", "division_code": "", "issued_by": "ОВД ПО Кировскому району"},
		"source_of_money": "", "description": "",
		"contacts": {"phone": {"full_number": "+79376151530", "country_iso3": "RUS", "operator_code": "937",
			"short_number": "6151530"}, "email": ""}},
	"recipient": {"first_name": "Maksim", "last_name": "Pahmutov", "middle_name": "Semenovich",
		"date_of_birth": "2000-11-08", "contacts": {"phone": {"full_number": "+43523452345"}, "email": ""}}},
"payment_metadata": {"provider_tx_id": "test1"},
"customer": {"reference": "lucky"},
"metadata": "` + metadata + `"
}`)
}
