package bank131

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
)

const testProject = "test-project"

// testKeys returns the fixed partner and bank keys.
func testKeys(t testing.TB) (partner, bank *rsa.PrivateKey) {
	t.Helper()
	partner, err := ParsePrivateKeyPEM([]byte(testPartnerKeyPKCS1))
	require.NoError(t, err)
	bank, err = ParsePrivateKeyPEM([]byte(testBankKeyPKCS1))
	require.NoError(t, err)
	return partner, bank
}

// harness is a sandbox over real HTTP, a client and provider signed with the partner key, and a webhook receiver
// that translates what it gets with Webhooks.
type harness struct {
	sandbox  *Sandbox
	api      *httptest.Server
	client   *Client
	provider *Provider
	partner  *rsa.PrivateKey
	bank     *rsa.PrivateKey
	// receiver takes the webhooks: it records every body and refuses those it is told to.
	receiver *providertest.HookReceiver
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
	h := &harness{partner: partner, bank: bank,
		receiver: providertest.NewHookReceiver(NewWebhooks(&bank.PublicKey), 32)}
	receiver := httptest.NewServer(h.receiver)
	t.Cleanup(receiver.Close)
	cfg.WebhookURL = receiver.URL
	sb, err := OpenSandbox(cfg)
	require.NoError(t, err)
	h.sandbox = sb
	h.api = httptest.NewServer(h.sandbox)
	t.Cleanup(h.stop)

	h.client = h.newClient(t, partner)
	h.provider = NewProvider(h.client)
	return h
}

// stop stops the sandbox and its API, as if the process ended; the webhook receiver stays.
func (h *harness) stop() {
	h.sandbox.Close()
	h.api.Close()
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
func (h *harness) newClient(t *testing.T, key *rsa.PrivateKey) *Client {
	t.Helper()
	c, err := NewClient(Config{BaseURL: h.api.URL, Project: testProject, PrivateKey: key})
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
		Provider:    payout.ProviderBank131,
		Amount:      payout.Amount{Value: 10000, Currency: "RUB"},
		Destination: payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Number: card}},
		Recipient:   payout.Recipient{FullName: "Ivanov Ivan"},
	}
}

// requireProviderError asserts err is a *providers.Error of certainty and code, and returns it.
func requireProviderError(t *testing.T, err error, certainty providers.Certainty, code string) *providers.Error {
	t.Helper()
	return providertest.RequireError(t, err, Name, certainty, code)
}
