// Package integration proves payoutflow's capabilities with real parts: an in-process Temporal server
// (temporaltest), the worker with the codec, the REST API and webhook receiver over loopback HTTP, and the Bank 131
// sandbox speaking the real wire format with real signatures.
package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/payoutflow/payoutflow/api"
	"github.com/payoutflow/payoutflow/codec"
	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/internal/stacktest"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/policy"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131"
	bank131sandbox "github.com/payoutflow/payoutflow/providers/bank131/sandbox"
	"github.com/payoutflow/payoutflow/providers/bepaid"
	bepaidsandbox "github.com/payoutflow/payoutflow/providers/bepaid/sandbox"
	"github.com/payoutflow/payoutflow/providers/mandarin"
	mandarinsandbox "github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
	"github.com/payoutflow/payoutflow/workflows"
)

// stack is one running payoutflow, shared by the tests of this package: starting a Temporal server costs about a
// second and leaks goroutines, so it is started once.
type stack struct {
	ts        *temporaltest.TestServer
	client    client.Client // with the codec, as the worker and the API use it
	raw       client.Client // without the codec: what someone reading the database sees
	dc        converter.DataConverter
	sandbox   *bank131sandbox.Sandbox
	api       *httptest.Server
	codecURL  string
	cfg       config.Config
	codec     *codec.Codec
	codecKeys []codec.Key
	hooks     providers.Webhooks
	bankKey   *rsa.PrivateKey

	bepaid      *bepaidsandbox.Sandbox
	bepaidHooks *bepaid.Webhooks
	bepaidKey   *rsa.PrivateKey

	mandarin    *mandarinsandbox.Sandbox
	mandarinURL string
	// bank131URL and bepaidURL are where the sandboxes listen; partnerKey signs our requests to Bank 131.
	bank131URL, bepaidURL string
	partnerKey            *rsa.PrivateKey
	mandarinHooks         *mandarin.Webhooks
	providers             []providers.Provider

	logs *syncBuffer
	// jsonLogs are the same lines as logs, as LOG_FORMAT=json writes them.
	jsonLogs *syncBuffer

	keys *api.Keys
	// secrets are the test API keys' secrets by key name.
	secrets map[string]string
	// policy is the approval policy of the shared API: none, one person approves.
	policy *policy.Policy
}

// testKeys are the API keys of the tests: a backend that does everything, operators who approve, and keys of
// one scope each.
var testKeys = map[string][]string{
	"backend": {api.ScopeCreate, api.ScopeRead, api.ScopeApprove},
	"alice":   {api.ScopeRead, api.ScopeApprove},
	"bob":     {api.ScopeRead, api.ScopeApprove},
	"carol":   {api.ScopeRead, api.ScopeApprove},
	"test":    {api.ScopeRead, api.ScopeApprove},
	"maker":   {api.ScopeCreate, api.ScopeRead, api.ScopeApprove},
	"creator": {api.ScopeCreate},
	"reader":  {api.ScopeRead},
}

var st *stack

func TestMain(m *testing.M) {
	var code int
	func() {
		s, cleanup, err := startStack()
		if err != nil {
			fmt.Fprintln(os.Stderr, "start stack:", err)
			code = 1
			return
		}
		defer cleanup()
		st = s
		code = m.Run()
		if os.Getenv("PAYOUTFLOW_CONTRACT_COVERAGE") != "" {
			unseen, declared, err := stacktest.ContractCoverage()
			fmt.Fprintf(os.Stderr, "contract: %d of %d declared answers checked (%v); never seen:\n  %s\n",
				declared-len(unseen), declared, err, strings.Join(unseen, "\n  "))
		}
		if got := untested.all(); len(got) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: %d answers or requests of helpers without a *testing.T break the contract:\n%s\n",
				len(got), strings.Join(got, "\n"))
			code = 1
		}
	}()
	os.Exit(code)
}

func startStack() (*stack, func(), error) {
	s := &stack{logs: &syncBuffer{}, jsonLogs: &syncBuffer{}, secrets: map[string]string{}}
	var keys []api.Key
	for name, scopes := range testKeys {
		secret, err := api.NewSecret()
		if err != nil {
			return nil, nil, err
		}
		s.secrets[name] = secret
		keys = append(keys, api.Key{Name: name, SHA256: api.HashSecret(secret), Scopes: scopes})
	}
	var err error
	if s.keys, err = api.NewKeys(keys); err != nil {
		return nil, nil, err
	}
	log := s.logger()
	sdkLogger := config.SDKLogger(log)

	key, err := codecKey()
	if err != nil {
		return nil, nil, err
	}
	cd, err := codec.New(key)
	if err != nil {
		return nil, nil, err
	}
	s.codec, s.codecKeys = cd, []codec.Key{{ID: codec.DerivedID(key), Secret: key}}
	s.dc = codec.DataConverter(cd)

	s.ts = temporaltest.NewServer(temporaltest.WithBaseClientOptions(client.Options{Logger: sdkLogger}))
	var cleanups []func()
	cleanup := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	cleanups = append(cleanups, s.ts.Stop)
	s.client = s.ts.NewClientWithOptions(client.Options{
		DataConverter: s.dc, FailureConverter: codec.FailureConverter(s.dc), Logger: sdkLogger,
		// As the worker and the API reach a loopback Temporal (TEMPORAL_GRPC_COMPRESSION=auto): without gzip.
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: &client.GrpcCompressionNone{}},
	})
	s.raw = s.ts.GetDefaultClient()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := workflows.EnsureSearchAttributes(ctx, s.client, s.ts.GetDefaultNamespace()); err != nil {
		cleanup()
		return nil, nil, err
	}

	// Bank 131: our key pair signs requests, the bank's signs webhooks; each side knows only the other's public key.
	partnerKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	bankKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	s.sandbox = bank131sandbox.NewSandbox(bank131sandbox.SandboxConfig{
		HTTPClient:       sandboxClient,
		PartnerPublicKey: &partnerKey.PublicKey,
		BankPrivateKey:   bankKey,
		Project:          "it-project",
		// A session of the error-then-succeeds card stays in error long enough for a payout to ask a few hundred
		// times (TestHistory_LongWaitContinuesAsNewWithinTheBudgetAndFinishes).
		ErrorHold: 8 * time.Second,
		Logger:    log.With("component", "bank131-sandbox"),
	})
	sandboxSrv := httptest.NewServer(s.sandbox)
	cleanups = append(cleanups, sandboxSrv.Close, s.sandbox.Close)
	s.bank131URL, s.partnerKey = sandboxSrv.URL, partnerKey
	s.hooks = bank131.NewWebhooks(&bankKey.PublicKey)
	s.bankKey = bankKey

	// bePaid: the shop's credentials, and bePaid's key that signs notifications and verification requests.
	s.bepaidKey, err = rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	s.bepaid = bepaidsandbox.NewSandbox(bepaidsandbox.SandboxConfig{
		ShopID: "it-shop", SecretKey: "it-secret", SigningKey: s.bepaidKey, Delay: 100 * time.Millisecond,
		Logger: log.With("component", "bepaid-sandbox"), HTTPClient: sandboxClient,
	})
	bepaidSrv := httptest.NewServer(s.bepaid)
	cleanups = append(cleanups, bepaidSrv.Close, s.bepaid.Close)
	s.bepaidHooks = bepaid.NewWebhooks("it-shop", "it-secret", &s.bepaidKey.PublicKey)
	s.bepaidURL = bepaidSrv.URL

	// Mandarin: the merchant's id and secret sign requests (X-Auth) and callbacks (sign).
	s.mandarin = mandarinsandbox.NewSandbox(mandarinsandbox.SandboxConfig{MerchantID: "4242", Secret: "it-mandarin-secret",
		Delay: 100 * time.Millisecond, Logger: log.With("component", "mandarin-sandbox"), HTTPClient: sandboxClient})
	mandarinSrv := httptest.NewServer(s.mandarin)
	cleanups = append(cleanups, mandarinSrv.Close, s.mandarin.Close)
	s.mandarinURL = mandarinSrv.URL
	s.mandarinHooks = mandarin.NewWebhooks("4242", "it-mandarin-secret")

	s.cfg = config.Config{TaskQueue: "payouts-it", UIOrigin: "http://127.0.0.1:8233", ApprovalTimeout: time.Hour,
		PollAfter: time.Minute, WatchEvery: 100 * time.Millisecond, Mandarin: config.Mandarin{BalanceCheck: "off"},
		Events: config.Events{Settle: time.Second, CommitBound: 3 * time.Second}}
	// The API's handler is set once the providers, which need its URL, are built.
	apiHandler := &switchHandler{}
	s.api = httptest.NewServer(apiHandler)
	cleanups = append(cleanups, s.api.Close)
	if s.providers, err = s.newProviders(s.api.URL, nil); err != nil {
		cleanup()
		return nil, nil, err
	}
	apiHandler.h = s.newAPI(s.cfg)

	w := app.NewWorker(s.client, s.cfg.TaskQueue, s.codecKeys, s.providers...)
	if err := w.Start(); err != nil {
		cleanup()
		return nil, nil, err
	}
	cleanups = append(cleanups, w.Stop)
	codecSrv := httptest.NewServer(app.NewCodecHandler(s.cfg, cd, log))
	cleanups = append(cleanups, codecSrv.Close)
	s.codecURL = codecSrv.URL + "/codec"
	s.sandbox.SetWebhookURL(s.api.URL + "/webhooks/bank131")
	return s, cleanup, nil
}

// newProviders builds providers on the stack's sandboxes whose webhooks (bePaid's, Mandarin's) go to the API at
// apiURL; hc sends their calls (nil: each client's default).
func (s *stack) newProviders(apiURL string, hc *http.Client) ([]providers.Provider, error) {
	bc, err := bank131.NewClient(bank131.Config{BaseURL: s.bank131URL, Project: "it-project", PrivateKey: s.partnerKey, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	bpc, err := bepaid.NewClient(bepaid.Config{BaseURL: s.bepaidURL, ShopID: "it-shop", SecretKey: "it-secret", HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	mc, err := mandarin.NewClient(mandarin.Config{BaseURL: s.mandarinURL, MerchantID: "4242", Secret: "it-mandarin-secret", HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	return []providers.Provider{
		bank131.NewProvider(bc),
		bepaid.NewProvider(bpc, bepaid.ProviderOptions{
			NotificationURL: apiURL + "/webhooks/bepaid",
			VerificationURL: apiURL + "/webhooks/bepaid/verify",
			Test:            true,
		}),
		mandarin.NewProvider(mc, mandarin.ProviderOptions{
			CallbackURL: apiURL + "/webhooks/mandarin", AllowPaymentPage: true,
			DefaultEmail: "payouts@example.com", DefaultPhone: "+79000000000",
		}),
	}, nil
}

// newAPI returns an API handler on the shared stack with the given configuration.
func (s *stack) newAPI(cfg config.Config) http.Handler { return s.newAPIWithPolicy(cfg, s.policy) }

// newAPIWithPolicy returns an API handler on the shared stack that decides approvals by pol.
func (s *stack) newAPIWithPolicy(cfg config.Config, pol *policy.Policy) http.Handler {
	return s.newAPIAt(cfg, pol, nil)
}

// newAPIAt returns an API handler on the shared stack whose clock is now (time.Now when nil).
func (s *stack) newAPIAt(cfg config.Config, pol *policy.Policy, now func() time.Time) http.Handler {
	return app.NewAPI(cfg, app.API{
		Client: s.client, DataConverter: s.dc, CodecKeys: s.codecKeys, Logger: s.logger(), Keys: s.keys, Policy: pol,
		Providers: s.registry(), Now: now,
	})
}

// logger returns the stack's logger: its lines go to logs as text and to jsonLogs as JSON, from INFO up.
func (s *stack) logger() *slog.Logger {
	return slog.New(slog.NewMultiHandler(
		config.NewLogHandler(io.MultiWriter(s.logs, testLogSink()), config.LogText, slog.LevelInfo),
		config.NewLogHandler(s.jsonLogs, config.LogJSON, slog.LevelInfo)))
}

// registry returns a new registry of the stack's providers, with their webhook receivers.
func (s *stack) registry() *providers.Registry { return s.registryOf(s.providers) }

// registryOf returns a new registry of ps, with the stack's webhook receivers.
func (s *stack) registryOf(ps []providers.Provider) *providers.Registry {
	hooks := map[string]providers.Webhooks{"bank131": s.hooks, "bepaid": s.bepaidHooks, "mandarin": s.mandarinHooks}
	reg := providers.NewRegistry()
	for _, p := range ps {
		if err := reg.Add(p.(providers.Plugin), hooks[p.Name()]); err != nil {
			panic(err) // the stack's providers are registered once each
		}
	}
	return reg
}

// switchHandler serves with h, set after the server that needs its URL has started.
type switchHandler struct{ h http.Handler }

func (s *switchHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// bankSign signs a webhook body as the bank does.
func (s *stack) bankSign(t *testing.T, body string) string {
	t.Helper()
	sig, err := bank131.Sign(s.bankKey, []byte(body))
	require.NoError(t, err)
	return sig
}

// testLogSink shows the stack's logs with `go test -v` when PAYOUTFLOW_TEST_LOGS is set.
func testLogSink() io.Writer {
	if os.Getenv("PAYOUTFLOW_TEST_LOGS") != "" {
		return os.Stderr
	}
	return io.Discard
}

// syncBuffer collects logs so that tests can assert what was (not) logged.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// untested collects what the contract transport reports for helpers that have no *testing.T (benchmarks,
// goroutines, the test provider's sandbox); TestMain fails the run on any.
var untested = &contractLog{}

// rawClient is http.DefaultClient with the contract checked, for helpers that have no *testing.T.
var rawClient = stacktest.ContractClient(untested)

// sandboxClient sends the sandboxes' webhooks, notifications and verifications, the contract checked (with the
// sandboxes' own 10 s timeout).
var sandboxClient = &http.Client{Timeout: 10 * time.Second, Transport: stacktest.ContractTransport(untested, nil)}

// contractLog is a stacktest.Reporter that keeps what it is told.
type contractLog struct {
	mu  sync.Mutex
	got []string
}

func (l *contractLog) Errorf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, fmt.Sprintf(format, args...))
}

func (l *contractLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.got)
}

// response is an answer from the API.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) state(t *testing.T) payout.State {
	t.Helper()
	var s payout.State
	require.NoError(t, json.Unmarshal(r.Body, &s), string(r.Body))
	return s
}

func (r response) apiError(t *testing.T) (code, field string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &e), string(r.Body))
	require.NotEmpty(t, e.Error.Message, "an error names its problem")
	return e.Error.Code, e.Error.Field
}

func do(t *testing.T, base, method, path string, headers map[string]string, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewBufferString(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if strings.HasPrefix(path, "/v1/") {
		req.Header.Set("Authorization", "Bearer "+st.secrets["backend"])
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := stacktest.ContractClient(t).Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// decide sends confirm or cancel as who, the name of one of the test API keys.
func decide(t *testing.T, base, who, id, verb, reason string) response {
	t.Helper()
	body := "{}"
	if reason != "" {
		body = fmt.Sprintf(`{"reason":%q}`, reason)
	}
	return do(t, base, http.MethodPost, "/v1/payouts/"+id+"/"+verb, map[string]string{"Authorization": "Bearer " + st.secrets[who]}, body)
}

func create(t *testing.T, base, key, body string) response {
	t.Helper()
	return do(t, base, http.MethodPost, "/v1/payouts", map[string]string{"Idempotency-Key": key}, body)
}

// get reads a payout through the Go client as an operator (the test key "test"), who reads every backend's payouts.
func get(t *testing.T, id string) payout.State {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := apiClient(st.api.URL, "test").Get(ctx, id)
	require.NoError(t, err)
	return asState(t, p)
}

// startWorker starts a payout worker of the stack's providers on a task queue of the test's own; the test stops it.
func startWorker(t *testing.T, taskQueue string) worker.Worker {
	t.Helper()
	w := app.NewWorker(st.client, taskQueue, st.codecKeys, st.providers...)
	require.NoError(t, w.Start())
	return w
}

// waitFor polls the payout until it reaches the status, and returns its state.
func waitFor(t *testing.T, id string, want payout.Status) payout.State {
	t.Helper()
	var last payout.State
	require.Eventually(t, func() bool {
		last = get(t, id)
		return last.Status == want
	}, 30*time.Second, 50*time.Millisecond, "payout %s never became %s", id, want)
	if want.Final() {
		recordHistory(t, id)
	}
	return last
}

func cardPayout(pan string) string {
	return fmt.Sprintf(`{"provider":"bank131","amount":{"value":10000,"currency":"RUB"},
		"destination":{"type":"card","card":{"number":%q}},"recipient":{"full_name":"Ivanov Ivan"},
		"description":"Payout for order 123","metadata":{"order_id":"123"}}`, pan)
}

// ledgerFor returns the sandbox's executed payouts of one payout.
func ledgerFor(id string) []bank131sandbox.LedgerEntry {
	var out []bank131sandbox.LedgerEntry
	for _, e := range st.sandbox.Ledger() {
		if e.Metadata == id {
			out = append(out, e)
		}
	}
	return out
}

// workflowExists reports whether a workflow with the payout's ID exists at all.
func workflowExists(t *testing.T, id string) bool {
	t.Helper()
	_, err := st.client.DescribeWorkflowExecution(context.Background(), id, "")
	return err == nil
}

// payoutStarted reports whether a create with the idempotency key started a payout, under any test API key (or
// under the key alone, as before keys were scoped).
func payoutStarted(t *testing.T, key string) bool {
	t.Helper()
	if workflowExists(t, payout.ID(key)) {
		return true
	}
	for name := range testKeys {
		if workflowExists(t, payout.OwnedID(name, key)) {
			return true
		}
	}
	return false
}

// workflowRunning reports whether the payout's workflow is still running.
func workflowRunning(t *testing.T, id string) bool {
	t.Helper()
	d, err := st.raw.DescribeWorkflowExecution(context.Background(), id, "")
	require.NoError(t, err)
	return d.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// notes lists the notes of a payout's timeline.
func notes(s payout.State) []string {
	var out []string
	for _, e := range s.Timeline {
		out = append(out, e.Note)
	}
	return out
}

// requireRefused creates a payout from a bad body and checks that it is refused, naming field and code, that the
// answer holds no card number, and that nothing started.
func requireRefused(t *testing.T, name, body, field, code string) {
	t.Helper()
	key := "bad-" + strings.ReplaceAll(name, " ", "-")
	r := create(t, st.api.URL, key, body)
	require.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, r.Status, string(r.Body))
	gotCode, gotField := r.apiError(t)
	require.Equal(t, field, gotField)
	require.Equal(t, code, gotCode)
	require.False(t, payout.LooksLikeCardNumber(string(r.Body)), "the answer holds no card number")
	require.False(t, payoutStarted(t, key), "a rejected request starts nothing")
}
