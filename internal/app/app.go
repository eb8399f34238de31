// Package app wires payoutflow's parts together the same way for every process: the worker, the API, the all-in-one
// dev command and the integration tests.
package app

import (
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"

	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/api"
	"github.com/payoutflow/payoutflow/codec"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/internal/health"
	"github.com/payoutflow/payoutflow/policy"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131"
	"github.com/payoutflow/payoutflow/providers/bepaid"
	"github.com/payoutflow/payoutflow/providers/mandarin"
	"github.com/payoutflow/payoutflow/workflows"
)

// Configured builds the registry of every provider whose credentials are configured (BANK131_PROJECT,
// BEPAID_SHOP_ID, MANDARIN_MERCHANT_ID), with its webhook receiver; it is an error when there is none.
func Configured(cfg config.Config) (*providers.Registry, error) {
	reg := providers.NewRegistry()
	if cfg.Bank131.Project != "" {
		p, hooks, err := Bank131(cfg.Bank131, cfg.Tracing.HTTPClient(providerTimeout))
		if err != nil {
			return nil, err
		}
		if err := reg.Add(p, hooks); err != nil {
			return nil, err
		}
	}
	if cfg.BePaid.ShopID != "" {
		p, hooks, err := BePaid(cfg.BePaid, cfg.PublicURL, cfg.Tracing.HTTPClient(providerTimeout))
		if err != nil {
			return nil, err
		}
		if err := reg.Add(p, hooks); err != nil {
			return nil, err
		}
	}
	if cfg.Mandarin.MerchantID != "" {
		p, hooks, err := Mandarin(cfg.Mandarin, cfg.PublicURL, cfg.Tracing.HTTPClient(0))
		if err != nil {
			return nil, err
		}
		if err := reg.Add(p, hooks); err != nil {
			return nil, err
		}
	}
	if len(reg.Names()) == 0 {
		return nil, fmt.Errorf("no provider is configured: set BANK131_PROJECT and its keys, BEPAID_SHOP_ID and its secrets, or MANDARIN_MERCHANT_ID and MANDARIN_SECRET")
	}
	return reg, nil
}

// providerTimeout bounds a traced provider call, as the Bank 131 and bePaid clients' own default clients do (Mandarin's
// sets a timeout per call).
const providerTimeout = 30 * time.Second

// tracerProvider is what the API traces requests with: nil when the process does not trace.
func tracerProvider(cfg config.Config) trace.TracerProvider {
	if !cfg.Tracing.On() {
		return nil
	}
	return cfg.Tracing.TracerProvider()
}

// Bank131 builds the Bank 131 provider and its webhook verifier from configuration; hc sends its calls (nil: the
// client's default).
func Bank131(cfg config.Bank131, hc *http.Client) (*bank131.Provider, *bank131.Webhooks, error) {
	if cfg.PrivateKeyFile == "" || cfg.PublicKeyFile == "" {
		return nil, nil, fmt.Errorf("bank131: set BANK131_PRIVATE_KEY_FILE (ours, signs requests) and BANK131_PUBLIC_KEY_FILE (the bank's, verifies webhooks)")
	}
	key, err := bank131.LoadPrivateKey(cfg.PrivateKeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("BANK131_PRIVATE_KEY_FILE: %w", err)
	}
	pub, err := bank131.LoadPublicKey(cfg.PublicKeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("BANK131_PUBLIC_KEY_FILE: %w", err)
	}
	cl, err := bank131.NewClient(bank131.Config{BaseURL: cfg.BaseURL, Project: cfg.Project, PrivateKey: key, HTTPClient: hc})
	if err != nil {
		return nil, nil, err
	}
	return bank131.NewProvider(cl), bank131.NewWebhooks(pub), nil
}

// BePaid builds the bePaid provider and its notification and verification receiver. publicURL is where bePaid
// reaches our webhooks; hc sends its calls (nil: the client's default).
func BePaid(cfg config.BePaid, publicURL string, hc *http.Client) (*bepaid.Provider, *bepaid.Webhooks, error) {
	if cfg.SecretKey == "" {
		return nil, nil, fmt.Errorf("bepaid: set BEPAID_SECRET_KEY")
	}
	auth, err := bepaid.ParseNotifyAuth(cfg.NotifyAuth, cfg.PublicKeyFile != "")
	if err != nil {
		return nil, nil, fmt.Errorf("BEPAID_NOTIFY_AUTH: %w (BEPAID_PUBLIC_KEY_FILE is bePaid's key, verifies notifications)", err)
	}
	var pub *rsa.PublicKey
	if cfg.PublicKeyFile != "" {
		if pub, err = bepaid.LoadPublicKey(cfg.PublicKeyFile); err != nil {
			return nil, nil, fmt.Errorf("BEPAID_PUBLIC_KEY_FILE: %w", err)
		}
	}
	cl, err := bepaid.NewClient(bepaid.Config{BaseURL: cfg.BaseURL, ShopID: cfg.ShopID, SecretKey: cfg.SecretKey, HTTPClient: hc})
	if err != nil {
		return nil, nil, err
	}
	p := bepaid.NewProvider(cl, bepaid.ProviderOptions{
		NotificationURL: publicURL + "/webhooks/bepaid",
		VerificationURL: publicURL + "/webhooks/bepaid/verify",
		Test:            cfg.Test,
	})
	return p, bepaid.NewWebhooks(cfg.ShopID, cfg.SecretKey, pub).WithAuth(auth), nil
}

// Mandarin builds the Mandarin provider and its callback receiver. publicURL is where Mandarin reaches our
// callbacks; hc sends its calls (nil: the client's default).
func Mandarin(cfg config.Mandarin, publicURL string, hc *http.Client) (*mandarin.Provider, *mandarin.Webhooks, error) {
	if cfg.Secret == "" {
		return nil, nil, fmt.Errorf("mandarin: set MANDARIN_SECRET (signs requests and verifies callbacks)")
	}
	cl, err := mandarin.NewClient(mandarin.Config{BaseURL: cfg.BaseURL, MerchantID: cfg.MerchantID, Secret: cfg.Secret, HTTPClient: hc})
	if err != nil {
		return nil, nil, err
	}
	p := mandarin.NewProvider(cl, mandarin.ProviderOptions{
		CallbackURL:      publicURL + "/webhooks/mandarin",
		AllowPaymentPage: cfg.PaymentPage,
		DefaultEmail:     cfg.DefaultEmail,
		DefaultPhone:     cfg.DefaultPhone,
		Channel:          cfg.Channel,
	})
	return p, mandarin.NewWebhooks(cfg.MerchantID, cfg.Secret), nil
}

// NewWorker returns a worker, not yet started, for payout workflows and their activities, polling as
// WorkerIdentity. codecKeys is the codec's keyring, from whose keys those that verify the API's proofs of decisions
// are derived.
func NewWorker(c client.Client, taskQueue string, codecKeys []codec.Key, ps ...providers.Provider) worker.Worker {
	return NewWorkerWithEvents(c, taskQueue, codecKeys, config.Events{}, ps...)
}

// NewWorkerWithEvents is NewWorker for a worker that also delivers events to the endpoints of events.
func NewWorkerWithEvents(c client.Client, taskQueue string, codecKeys []codec.Key, events config.Events, ps ...providers.Provider) worker.Worker {
	return NewWorkerWithOptions(c, taskQueue, worker.Options{}, codecKeys, events, ps...)
}

// NewConfiguredWorker is NewWorkerWithEvents for the worker of a process, sized by cfg's WORKER_* settings. The
// cache size is the process's: call it before any worker of the process starts.
func NewConfiguredWorker(c client.Client, cfg config.Config, codecKeys []codec.Key, ps ...providers.Provider) worker.Worker {
	worker.SetStickyWorkflowCacheSize(cfg.Perf.Worker.CacheSize)
	return NewWorkerWithOptions(c, cfg.TaskQueue, WorkerOptions(cfg), codecKeys, cfg.Events, ps...)
}

// WorkerOptions are the options of the worker of a process, by cfg's WORKER_* settings.
func WorkerOptions(cfg config.Config) worker.Options {
	size := cfg.Perf.Worker
	return worker.Options{
		MaxConcurrentWorkflowTaskExecutionSize: size.WorkflowTasks,
		MaxConcurrentActivityExecutionSize:     size.Activities,
		MaxConcurrentWorkflowTaskPollers:       size.WorkflowPollers,
		MaxConcurrentActivityTaskPollers:       size.ActivityPollers,
		WorkerStopTimeout:                      size.StopTimeout,
	}
}

// NewWorkerWithOptions is NewWorkerWithEvents on worker options of its own (a worker of workflow tasks only, or
// of activities only); the identity and the payout's logging are added.
func NewWorkerWithOptions(c client.Client, taskQueue string, opts worker.Options, codecKeys []codec.Key, events config.Events, ps ...providers.Provider) worker.Worker {
	if opts.Identity == "" {
		opts.Identity = WorkerIdentity()
	}
	opts.Interceptors = append(opts.Interceptors, &workflows.PayoutLogging{})
	w := worker.New(c, taskQueue, opts)
	acts := activities.New(derived(codecKeys, DecisionKey), ps...)
	acts.Signaler = c
	acts.Events = EventSender(events)
	if opts.DisableWorkflowWorker {
		w.RegisterActivity(acts) // a worker of activities only takes no workflow
		return w
	}
	workflows.Register(w, acts)
	return w
}

// DecisionKey derives from a codec key the key of the API's proofs of decisions, so that the API and every worker
// agree without another secret to distribute. The API signs with the current key's; a worker accepts any key's of
// its keyring, so that a decision signed before or during a rotation still counts.
func DecisionKey(codecKey []byte) []byte {
	sum := sha256.Sum256(append([]byte("payoutflow decision proof\x00"), codecKey...))
	return sum[:]
}

// API is what the HTTP API needs beyond configuration.
type API struct {
	Client        client.Client
	DataConverter converter.DataConverter
	CodecKeys     []codec.Key // the codec's keyring, current first
	// Providers validate requests, tell how they treat them, answer the API's reads from providers (SBP banks,
	// balances) and receive their webhooks.
	Providers *providers.Registry
	Keys      *api.Keys
	Policy    *policy.Policy
	Logger    *slog.Logger
	Now       func() time.Time // the API's clock; time.Now when nil
	// Health answers /livez and /readyz on the API's listener; nil serves neither.
	Health *health.Checker
}

// Access loads the API keys (API_KEYS_FILE, required) and the approval policy (POLICY_FILE, optional).
func Access(cfg config.Config) (*api.Keys, *policy.Policy, error) {
	if cfg.APIKeysFile == "" {
		return nil, nil, fmt.Errorf("set API_KEYS_FILE: the REST API does not run without API keys (README, \"API keys\")")
	}
	keys, err := api.LoadKeys(cfg.APIKeysFile)
	if err != nil {
		return nil, nil, fmt.Errorf("API_KEYS_FILE: %w", err)
	}
	pol := policy.Default
	if cfg.PolicyFile != "" {
		if pol, err = policy.Load(cfg.PolicyFile); err != nil {
			return nil, nil, fmt.Errorf("POLICY_FILE: %w", err)
		}
	}
	return keys, pol, nil
}

// NewAPI returns the HTTP handler of the REST API and the webhook receiver.
func NewAPI(cfg config.Config, a API) http.Handler {
	return api.New(api.Config{
		Keys:              a.Keys,
		Policy:            a.Policy,
		Client:            a.Client,
		DataConverter:     a.DataConverter,
		TaskQueue:         cfg.TaskQueue,
		FingerprintKeys:   derived(a.CodecKeys, FingerprintKey),
		DecisionKey:       DecisionKey(a.CodecKeys[0].Secret),
		ApprovalTimeout:   cfg.ApprovalTimeout,
		PollAfter:         cfg.PollAfter,
		PollMax:           cfg.PollMax,
		PollsPerRun:       cfg.PollsPerRun,
		BalanceCheck:      cfg.BalanceChecks(),
		PendingLimit:      cfg.PendingLimit,
		WatchEvery:        cfg.WatchEvery,
		Events:            workflows.EventsInput{Endpoints: cfg.Events.URLs(), RetryMax: cfg.Events.RetryMax},
		EventsSettle:      cfg.Events.Settle,
		EventsFor:         cfg.Events.URLsFor,
		EventsCommitBound: cfg.Events.CommitBound,
		VerifyWait:        cfg.VerifyWait,
		TrustedProxies:    cfg.TrustedProxies,
		Providers:         a.Providers,
		Logger:            a.Logger,
		TracerProvider:    tracerProvider(cfg),
		Now:               a.Now,
		Health:            healthHandler(a.Health),
	})
}

// NewCodecHandler returns the codec endpoint Temporal UI decodes payloads with, under /codec/. It decrypts for
// whoever reaches it, so it is served on its own listener (CODEC_ADDR, loopback by default), never on the public API
// port.
func NewCodecHandler(cfg config.Config, cd *codec.Codec, log *slog.Logger) http.Handler {
	if !cfg.CodecPrivate() {
		log.Warn("the codec endpoint listens beyond loopback: whoever reaches it and sends the UI's Origin reads "+
			"decrypted payloads (card numbers masked); put it behind your operators' authenticating proxy", "addr", cfg.CodecAddr)
	}
	mux := http.NewServeMux()
	mux.Handle("/codec/", http.MaxBytesHandler(codec.Handler(cd.WithLogger(log), cfg.UIOrigin, cfg.CodecToken), 4<<20))
	return mux
}

// FingerprintKey derives the key of request fingerprints from a codec key, so that every API process agrees. The
// current key's makes them; every key's of the keyring matches one made before a rotation.
func FingerprintKey(codecKey []byte) []byte {
	sum := sha256.Sum256(append([]byte("payoutflow request fingerprint\x00"), codecKey...))
	return sum[:]
}

// derived returns derive of each key's secret, in the keyring's order.
func derived(keys []codec.Key, derive func([]byte) []byte) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = derive(k.Secret)
	}
	return out
}

// Server returns an HTTP server with timeouts that guard against slow clients; a GET may wait up to 60 s for a
// payout (?wait=) before it writes its answer.
func Server(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
}
