package integration

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

// A fourth provider, known to no core package: it is one type here, registered in the registry like the three, and
// a payout goes through the real API and the real workflow to succeeded, told by its signed webhook.

// acmeName is the test provider's name in requests.
const acmeName = "acme"

// acmeSandbox is the test provider's HTTP API: POST /payouts takes a payout under our payout ID (a second one under
// the same ID is refused as a duplicate), GET /payouts/{id} tells where it stands. Each payout succeeds shortly after
// it is taken, and the sandbox posts a webhook signed with HMAC-SHA256 (X-Acme-Signature) to the callback URL.
type acmeSandbox struct {
	key      []byte
	callback string
	mu       sync.Mutex
	payouts  map[string]*acmePayout
	webhooks []int // the receiver's answers to the webhooks sent
}

type acmePayout struct {
	ID       string `json:"id"`
	Ref      string `json:"reference"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	Token    string `json:"card_token"`
	Status   string `json:"status"`
}

func (s *acmeSandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Acme-Key") != string(s.key) {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/payouts":
		var p acmePayout
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil || p.Ref == "" || p.Amount <= 0 {
			http.Error(w, `{"error":"bad_request"}`, http.StatusBadRequest)
			return
		}
		if _, ok := s.payouts[p.Ref]; ok {
			http.Error(w, `{"error":"duplicate"}`, http.StatusConflict)
			return
		}
		p.ID, p.Status = fmt.Sprintf("acme_%d", len(s.payouts)+1), "pending"
		s.payouts[p.Ref] = &p
		go s.settle(p.Ref)
		_ = json.NewEncoder(w).Encode(p)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/payouts/"):
		p, ok := s.payouts[strings.TrimPrefix(r.URL.Path, "/payouts/")]
		if !ok {
			http.Error(w, `{"error":"not_found"}`, http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(p)
	default:
		http.NotFound(w, r)
	}
}

// settle pays the payout, then tells the callback URL by a signed webhook.
func (s *acmeSandbox) settle(ref string) {
	time.Sleep(200 * time.Millisecond)
	s.mu.Lock()
	p := s.payouts[ref]
	p.Status = "succeeded"
	body, _ := json.Marshal(p)
	s.mu.Unlock()
	req, _ := http.NewRequest(http.MethodPost, s.callback, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Acme-Signature", acmeSign(s.key, body))
	res, err := rawClient.Do(req)
	status := 0
	if err == nil {
		status = res.StatusCode
		res.Body.Close()
	}
	s.mu.Lock()
	s.webhooks = append(s.webhooks, status)
	s.mu.Unlock()
}

func (s *acmeSandbox) ledger(ref string) []acmePayout {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.payouts[ref]; ok {
		return []acmePayout{*p}
	}
	return nil
}

func acmeSign(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// acme is the test provider: a providers.Plugin, with its own rules and capabilities.
type acme struct {
	base string
	key  []byte
}

func (a *acme) Name() string { return acmeName }

func (a *acme) Spec() providers.Spec {
	return providers.Spec{Title: "Acme Pay", Methods: []string{payout.MethodCardToken}}
}

// Capabilities: Acme pays on submit (approval first), in euros, and shows a payout at once.
func (a *acme) Capabilities(payout.Request) providers.Capabilities {
	return providers.Capabilities{SettlePeriod: time.Minute, DedupWindow: time.Minute, PendingLimit: time.Hour,
		Currencies: []string{"EUR"}}
}

// Validate: Acme wants a description, at most 35 characters (its statement line).
func (a *acme) Validate(req payout.Request) error {
	switch n := len([]rune(strings.TrimSpace(req.Description))); {
	case n == 0:
		return payout.NewFieldError("description", "required", "acme needs a description for the statement")
	case n > 35:
		return payout.NewFieldError("description", "too_long", "acme's statement line is at most 35 characters")
	}
	return nil
}

func (a *acme) Open(_ context.Context, ref providers.Ref) (providers.Ref, error) { return ref, nil }

func (a *acme) Submit(ctx context.Context, ref providers.Ref, req payout.Request) (providers.Outcome, error) {
	body, _ := json.Marshal(acmePayout{Ref: ref.PayoutID, Amount: req.Amount.Value, Currency: req.Amount.Currency,
		Token: req.Destination.Card.Token})
	return a.call(ctx, "create", http.MethodPost, "/payouts", body, ref)
}

func (a *acme) Status(ctx context.Context, ref providers.Ref) (providers.Outcome, error) {
	return a.call(ctx, "status", http.MethodGet, "/payouts/"+ref.PayoutID, nil, ref)
}

func (a *acme) Confirm(_ context.Context, ref providers.Ref) (providers.Outcome, error) {
	return providers.Outcome{}, &providers.Error{Provider: acmeName, Op: "confirm", Certainty: providers.Known,
		Description: "acme has no confirm step"}
}

func (a *acme) Cancel(_ context.Context, ref providers.Ref) (providers.Outcome, error) {
	return providers.Outcome{}, &providers.Error{Provider: acmeName, Op: "cancel", Certainty: providers.Known,
		Description: "acme cancels nothing it took"}
}

func (a *acme) call(ctx context.Context, op, method, path string, body []byte, ref providers.Ref) (providers.Outcome, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(body))
	if err != nil {
		return providers.Outcome{}, err
	}
	req.Header.Set("X-Acme-Key", string(a.key))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return providers.Outcome{}, &providers.Error{Provider: acmeName, Op: op, Certainty: providers.Unknown, Err: err}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	switch {
	case res.StatusCode == http.StatusNotFound && op == "status":
		return providers.Outcome{Ref: ref, State: providers.StateCreated}, nil // Acme has not taken it
	case res.StatusCode == http.StatusConflict:
		return providers.Outcome{}, &providers.Error{Provider: acmeName, Op: op, Certainty: providers.Known,
			HTTPStatus: res.StatusCode, Code: "duplicate", Exists: true}
	case res.StatusCode >= 500:
		return providers.Outcome{}, &providers.Error{Provider: acmeName, Op: op, Certainty: providers.Unknown, HTTPStatus: res.StatusCode}
	case res.StatusCode != http.StatusOK:
		return providers.Outcome{}, &providers.Error{Provider: acmeName, Op: op, Certainty: providers.Known,
			HTTPStatus: res.StatusCode, Description: string(b)}
	}
	var p acmePayout
	if err := json.Unmarshal(b, &p); err != nil {
		return providers.Outcome{}, &providers.Error{Provider: acmeName, Op: op, Certainty: providers.Unknown, Err: err}
	}
	return acmeOutcome(p, ref.PayoutID), nil
}

func acmeOutcome(p acmePayout, payoutID string) providers.Outcome {
	state := map[string]providers.State{"pending": providers.StatePending, "succeeded": providers.StateSucceeded,
		"failed": providers.StateFailed}[p.Status]
	return providers.Outcome{Ref: providers.Ref{PayoutID: payoutID, SessionID: p.ID}, State: state,
		Amount: &payout.Amount{Value: p.Amount, Currency: p.Currency}}
}

// acmeHooks verifies Acme's webhooks (HMAC-SHA256 of the raw body) before it reads them.
type acmeHooks struct{ key []byte }

func (h acmeHooks) Translate(header http.Header, body []byte) ([]providers.Event, error) {
	if !hmac.Equal([]byte(header.Get("X-Acme-Signature")), []byte(acmeSign(h.key, body))) {
		return nil, providers.ErrBadSignature
	}
	var p acmePayout
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, &providers.MalformedError{Reason: err.Error()}
	}
	return []providers.Event{{Kind: providers.EventPaymentFinished, Provider: acmeName, Outcome: acmeOutcome(p, p.Ref)}}, nil
}

func TestFourthProvider_RegisteredOnlyInTheRegistryPaysThroughTheAPIAndTheWorkflow(t *testing.T) {
	key := []byte("acme-test-key")
	sandbox := &acmeSandbox{key: key, payouts: map[string]*acmePayout{}}
	sandboxSrv := httptest.NewServer(sandbox)
	t.Cleanup(sandboxSrv.Close)

	reg := st.registry()
	require.NoError(t, reg.Add(&acme{base: sandboxSrv.URL, key: key}, acmeHooks{key: key}))

	cfg := st.cfg
	cfg.TaskQueue = "payouts-acme"
	w := app.NewWorker(st.client, cfg.TaskQueue, st.codecKeys, reg.Providers()...)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	api := newServer(t, app.NewAPI(cfg, app.API{
		Client: st.client, DataConverter: st.dc, CodecKeys: st.codecKeys, Keys: st.keys, Providers: reg,
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(st.logs, testLogSink()), nil)),
	}))
	sandbox.callback = api + "/webhooks/acme"

	body := func(currency, destination, description string) string {
		return fmt.Sprintf(`{"provider":"acme","amount":{"value":2500,"currency":%q},"destination":%s,
			"recipient":{"full_name":"Erika Mustermann"},"description":%q}`, currency, destination, description)
	}
	token := `{"type":"card","card":{"token":"tok_acme_1"}}`

	// Its own rules are asked through the registry, and a refused request starts nothing.
	for _, tt := range []struct{ name, body, field, code string }{
		{"not euros", body("RUB", token, "Refund 42"), "amount.currency", "currency_not_supported"},
		{"a method it lacks", body("EUR", `{"type":"sbp","sbp":{"phone":"+79001234567","bank_id":"100000000111"}}`, "Refund 42"),
			"destination.type", "method_not_supported"},
		{"no description", body("EUR", token, ""), "description", "required"},
		{"statement line too long", body("EUR", token, strings.Repeat("x", 36)), "description", "too_long"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k := "acme-bad-" + strings.ReplaceAll(tt.name, " ", "-")
			r := create(t, api, k, tt.body)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
			code, field := r.apiError(t)
			require.Equal(t, tt.field, field)
			require.Equal(t, tt.code, code)
			require.False(t, payoutStarted(t, k), "a rejected request starts nothing")
		})
	}

	// A payout: approval before submit (Acme has no confirm step), then paid once, and its webhook counts.
	created := createPayout(t, api, "acme-payout-1", body("EUR", token, "Refund 42"))
	require.Equal(t, http.StatusCreated, created.Response.StatusCode)
	id := created.ID
	require.Equal(t, "25.00 EUR to tokenized card via Acme Pay", asState(t, created).Summary())
	again := create(t, api, "acme-payout-1", body("EUR", token, "Refund 42"))
	require.Equal(t, http.StatusOK, again.Status, "the same key and body is the same payout")
	require.Equal(t, id, again.state(t).ID)

	waitFor(t, id, payout.StatusAwaitingApproval)
	require.Empty(t, sandbox.ledger(id), "nothing is sent to Acme before approval")
	mustDecide(t, api, "alice", id, "confirm", "checked")

	done := waitFor(t, id, payout.StatusSucceeded)
	require.Len(t, sandbox.ledger(id), 1, "paid once")
	require.Equal(t, "acme_", done.ProviderRefs["session_id"][:5], "Acme's id of the payout is kept")
	require.Contains(t, notes(done), "submitted to Acme Pay")
	sandbox.mu.Lock()
	require.Equal(t, []int{http.StatusOK}, sandbox.webhooks, "the receiver took Acme's webhook")
	sandbox.mu.Unlock()
	require.Equal(t, time.Minute, cfg.PollAfter, "premise: no poll came before the webhook, which decided")

	forged := do(t, api, http.MethodPost, "/webhooks/acme", map[string]string{"X-Acme-Signature": "00"},
		fmt.Sprintf(`{"reference":%q,"status":"failed"}`, id))
	require.Equal(t, http.StatusUnauthorized, forged.Status, "an unsigned webhook is not believed")
	require.Equal(t, payout.StatusSucceeded, get(t, id).Status)
}
