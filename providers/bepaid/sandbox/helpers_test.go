package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bepaid"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
)

const (
	testShopID    = "361"
	testSecretKey = "b8647b68898b084b836474ed8d61ffe117c9a01168d867f24953b776ddcb134d"
)

// testKeys are generated once per test binary: bePaid's key for the shop (the sandbox signs with it) and another.
var testKeys = sync.OnceValues(func() (*rsa.PrivateKey, *rsa.PrivateKey) {
	gen := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	}
	return gen(), gen()
})

// bepaidKey is the key bePaid signs the shop's notifications with.
func bepaidKey() *rsa.PrivateKey { k, _ := testKeys(); return k }

// otherKey is a key that is not bePaid's.
func otherKey() *rsa.PrivateKey { _, k := testKeys(); return k }

func testWebhooks() *bepaid.Webhooks {
	return bepaid.NewWebhooks(testShopID, testSecretKey, &bepaidKey().PublicKey)
}

// receiver is the merchant's side: it takes notifications at /notify and verification requests at /verify, and
// checks both with bepaid.Webhooks, as the engine's receiver does.
type receiver struct {
	srv   *httptest.Server
	hooks *bepaid.Webhooks
	// notes takes the notifications: it records every body and refuses those it is told to.
	notes *providertest.HookReceiver

	mu sync.Mutex
	// questions holds every verification request that passed ParseVerification.
	questions []providers.Verification
	// decide answers a verification; approve when nil.
	decide func(providers.Verification) providers.VerificationAnswer
	// verifyStatus, when set, answers verification requests with that status and no body.
	verifyStatus int
	// verifyDelay holds each verification answer back.
	verifyDelay time.Duration
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{hooks: testWebhooks()}
	rc.notes = providertest.NewHookReceiver(rc.hooks, 64)
	mux := http.NewServeMux()
	mux.Handle("POST /notify", rc.notes)
	mux.HandleFunc("POST /verify", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		v, err := rc.hooks.ParseVerification(r.Header, body)
		if errors.Is(err, providers.ErrBadSignature) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.questions = append(rc.questions, v)
		decide, status, delay := rc.decide, rc.verifyStatus, rc.verifyDelay
		rc.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		answer := providers.VerificationAnswer{Approved: true}
		if decide != nil {
			answer = decide(v)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(rc.hooks.Answer(v, answer))
	})
	rc.srv = httptest.NewServer(mux)
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) notifyURL() string { return rc.srv.URL + "/notify" }
func (rc *receiver) verifyURL() string { return rc.srv.URL + "/verify" }

// set changes the receiver's behaviour under its lock.
func (rc *receiver) set(change func(rc *receiver)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	change(rc)
}

// received returns the notification bodies received so far, whatever was answered.
func (rc *receiver) received() [][]byte {
	return rc.notes.Received()
}

// asked returns the verification requests received so far.
func (rc *receiver) asked() []providers.Verification {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]providers.Verification{}, rc.questions...)
}

// harness is a sandbox over real HTTP, a client and provider with the shop's credentials, and a receiver of its
// notifications and verification requests.
type harness struct {
	recv     *receiver
	sandbox  *Sandbox
	api      *httptest.Server
	client   *bepaid.Client
	provider *bepaid.Provider
	// file is the sandbox's state file, if it has one.
	file string
}

type harnessConfig struct {
	sandbox SandboxConfig
	recv    *receiver
	verify  bool
}

type harnessOption func(*harnessConfig)

func withDelay(d time.Duration) harnessOption {
	return func(c *harnessConfig) { c.sandbox.Delay = d }
}

func withStateFile(name string) harnessOption {
	return func(c *harnessConfig) { c.sandbox.StateFile = name }
}

// withReceiver keeps the receiver of an earlier harness: the URLs saved with transactions still lead to it.
func withReceiver(rc *receiver) harnessOption {
	return func(c *harnessConfig) { c.recv = rc }
}

// withVerification sends a verification_url with every payout.
func withVerification() harnessOption {
	return func(c *harnessConfig) { c.verify = true }
}

func withLogger(log *slog.Logger) harnessOption {
	return func(c *harnessConfig) { c.sandbox.Logger = log }
}

func withSigningKey(k *rsa.PrivateKey) harnessOption {
	return func(c *harnessConfig) { c.sandbox.SigningKey = k }
}

func withVerificationTimeout(d time.Duration) harnessOption {
	return func(c *harnessConfig) { c.sandbox.VerificationTimeout = d }
}

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	cfg := harnessConfig{sandbox: SandboxConfig{
		ShopID:     testShopID,
		SecretKey:  testSecretKey,
		SigningKey: bepaidKey(),
		Delay:      5 * time.Millisecond,
	}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.recv == nil {
		cfg.recv = newReceiver(t)
	}
	sb, err := OpenSandbox(cfg.sandbox)
	require.NoError(t, err)
	h := &harness{recv: cfg.recv, sandbox: sb, api: httptest.NewServer(sb), file: cfg.sandbox.StateFile}
	t.Cleanup(h.stop)

	h.client = h.newClient(t, testShopID, testSecretKey)
	popts := bepaid.ProviderOptions{NotificationURL: cfg.recv.notifyURL(), Language: "ru", Test: true}
	if cfg.verify {
		popts.VerificationURL = cfg.recv.verifyURL()
	}
	h.provider = bepaid.NewProvider(h.client, popts)
	return h
}

// kill stops the sandbox and its API as a SIGKILL would: its state file keeps the changes appended, without the
// whole state Close writes.
func (h *harness) kill(t *testing.T) {
	t.Helper()
	providertest.Kill(t, h.file, h.stop)
}

// stop stops the sandbox and its API, as if the process ended; the receiver stays.
func (h *harness) stop() {
	h.sandbox.Close()
	h.api.Close()
}

func (h *harness) newClient(t *testing.T, shopID, secret string) *bepaid.Client {
	t.Helper()
	c, err := bepaid.NewClient(bepaid.Config{BaseURL: h.api.URL, ShopID: shopID, SecretKey: secret})
	require.NoError(t, err)
	return c
}

// nextEvent waits for the next translated notification.
func (h *harness) nextEvent(t *testing.T) providers.Event {
	t.Helper()
	return providertest.NextEvent(t, h.recv.notes.Events, "notification")
}

// noEvent asserts that no notification event arrives for a while.
func (h *harness) noEvent(t *testing.T) {
	t.Helper()
	providertest.NoEvent(t, h.recv.notes.Events, "notification")
}

// awaitNotified waits until the sandbox has recorded the transaction's notification as answered 200.
func (h *harness) awaitNotified(t *testing.T, uid string) {
	t.Helper()
	require.Eventually(t, func() bool {
		h.sandbox.mu.Lock()
		defer h.sandbox.mu.Unlock()
		tx := h.sandbox.txs[uid]
		return tx != nil && tx.Notified
	}, 5*time.Second, time.Millisecond)
}

// submit sends a payout through the provider and requires it accepted.
func (h *harness) submit(t *testing.T, payoutID string, req payout.Request) providers.Outcome {
	t.Helper()
	out, err := h.provider.Submit(context.Background(), providers.Ref{PayoutID: payoutID}, req)
	require.NoError(t, err)
	return out
}

// do sends a raw request to the sandbox with the shop's credentials unless auth is false.
func (h *harness) do(t *testing.T, method, path string, body []byte, auth bool) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, h.api.URL+path, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if auth {
		req.SetBasicAuth(testShopID, testSecretKey)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw
}

// cardRequest is a payout request of 100.00 BYN to card.
func cardRequest(card string) payout.Request {
	return payout.Request{
		Provider: bepaid.Name,
		Amount:   payout.Amount{Value: 10000, Currency: "BYN"},
		Destination: payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{
			Number: card, Holder: "IVAN IVANOV", ExpMonth: "12", ExpYear: "2030",
		}},
		Recipient: payout.Recipient{FullName: "Ivanov Ivan"},
	}
}

// tokenRequest is a payout request of 100.00 BYN to a card token.
func tokenRequest(token string) payout.Request {
	r := cardRequest("")
	r.Destination.Card = &payout.Card{Token: token}
	return r
}

// requireProviderError asserts err is a *providers.Error of certainty and code, and returns it.
func requireProviderError(t *testing.T, err error, certainty providers.Certainty, code string) *providers.Error {
	t.Helper()
	return providertest.RequireError(t, err, bepaid.Name, certainty, code)
}

// payoutRequest is the request the provider sends for cardRequest(SandboxCardSucceeds) as payoutID, with
// notificationURL.
func payoutRequest(payoutID, notificationURL string) bepaid.PayoutRequest {
	check := true
	return bepaid.PayoutRequest{Amount: 10000, Currency: "BYN", Description: "Payout " + payoutID, TrackingID: payoutID,
		DuplicateCheck: &check, NotificationURL: notificationURL,
		Card: &bepaid.RecipientCard{Number: SandboxCardSucceeds, Holder: "IVAN IVANOV", ExpMonth: "12", ExpYear: 2030}}
}

// errorAnswer is bePaid's error answer as the sandbox gives it: {"message": ..., "errors": {...}}.
type errorAnswer struct {
	Message string         `json:"message"`
	Errors  map[string]any `json:"errors"`
}

// apiError reads an error answer; nil when raw is not one.
func apiError(raw []byte) *errorAnswer {
	var e errorAnswer
	if json.Unmarshal(raw, &e) != nil || (e.Message == "" && len(e.Errors) == 0) {
		return nil
	}
	return &e
}

// Fields flattens the errors by parameter: "recipient_credit_card.number" → ["is invalid"].
func (e *errorAnswer) Fields() map[string][]string {
	out := map[string][]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case string:
			out[prefix] = append(out[prefix], v)
		case []any:
			for _, m := range v {
				walk(prefix, m)
			}
		case map[string]any:
			for k, m := range v {
				walk(strings.TrimPrefix(prefix+"."+k, "."), m)
			}
		}
	}
	walk("", e.Errors)
	return out
}
