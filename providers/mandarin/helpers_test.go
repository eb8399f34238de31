package mandarin

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
	"github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
)

const (
	testMerchantID = "1234"
	testSecret     = "s3cr3t"
	testEmail      = "user@example.com"
	testPhone      = "+79001234567"
)

type testEnv struct {
	sandbox  *sandbox.Sandbox
	api      *httptest.Server
	client   *Client
	provider *Provider
	events   chan providers.Event
}

func newEnv(t *testing.T, opts ProviderOptions, cfg sandbox.SandboxConfig) *testEnv {
	t.Helper()
	rc := providertest.NewHookReceiver(NewWebhooks(testMerchantID, testSecret), 64)
	hooks := httptest.NewServer(rc)
	t.Cleanup(hooks.Close)
	cfg.MerchantID, cfg.Secret = testMerchantID, testSecret
	sb, err := sandbox.OpenSandbox(cfg)
	require.NoError(t, err)
	api := httptest.NewServer(sb)
	t.Cleanup(api.Close)
	t.Cleanup(sb.Close)
	client, err := NewClient(Config{BaseURL: api.URL, MerchantID: testMerchantID, Secret: testSecret})
	require.NoError(t, err)
	opts.CallbackURL = hooks.URL + "/callback"
	if opts.DefaultEmail == "" {
		opts.DefaultEmail = testEmail
	}
	if opts.DefaultPhone == "" {
		opts.DefaultPhone = testPhone
	}
	return &testEnv{sandbox: sb, api: api, client: client, provider: NewProvider(client, opts), events: rc.Events}
}

func cardRequest(card payout.Card, amount int64) payout.Request {
	return payout.Request{Provider: Name, Amount: payout.Amount{Value: amount, Currency: "RUB"},
		Destination: payout.Destination{Type: payout.DestinationCard, Card: &card},
		Recipient:   payout.Recipient{FullName: "Ivanov Ivan"}}
}

func sbpRequest(phone, name string, amount int64) payout.Request {
	return payout.Request{Provider: Name, Amount: payout.Amount{Value: amount, Currency: "RUB"},
		Destination: payout.Destination{Type: payout.DestinationSBP,
			SBP: &payout.SBP{Phone: phone, BankID: "100000000111"}},
		Recipient: payout.Recipient{FullName: name}}
}

func sbpRequestWithoutName(phone, name string, amount int64) payout.Request {
	r := sbpRequest(phone, name, amount)
	r.Destination.SBP.WithoutName = true
	return r
}

func pageRequest(amount int64) payout.Request {
	r := cardRequest(payout.Card{}, amount)
	r.Destination = payout.Destination{Type: payout.DestinationPaymentPage}
	return r
}

func nextEvent(t *testing.T, events <-chan providers.Event) providers.Event {
	t.Helper()
	return providertest.NextEvent(t, events, "callback")
}

// waitState polls Status until the payout reaches state.
func (e *testEnv) waitState(t *testing.T, ref providers.Ref, state providers.State) providers.Outcome {
	t.Helper()
	var o providers.Outcome
	require.Eventually(t, func() bool {
		var err error
		o, err = e.provider.Status(t.Context(), ref)
		require.NoError(t, err)
		return o.State == state
	}, 5*time.Second, 10*time.Millisecond, "state %s", state)
	return o
}
