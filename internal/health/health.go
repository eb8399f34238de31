// Package health tells whether a payoutflow process is alive (/livez) and ready (/readyz), and when it is not ready,
// what is wrong, check by check: Temporal unreachable, the namespace missing, no worker polling the task queue, the
// codec unusable, a provider refusing our credentials. The checks run in the background, at start and then every
// few seconds (Temporal) or minutes (providers); a probe only reads their last results, so it is cheap and never
// calls a provider.
package health

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/payoutflow/payoutflow/providers"
)

// Status is where one check stands.
//
// A process is ready while no check but a provider's is failing or pending: a provider refusing our credentials
// makes it degraded (the /readyz JSON and payoutflow_provider_credentials_ok say so), not unready, since every
// other provider's payouts, the webhooks, approvals and reads still work.
type Status string

// The statuses of a check. A process is ready when none of its checks is failing or pending.
const (
	// OK: the check passed.
	OK Status = "ok"
	// Failing: what the check looks at is wrong; the message says what.
	Failing Status = "failing"
	// Pending: not checked yet, just after start.
	Pending Status = "pending"
	// Skipped: not checked because a check it depends on fails (no namespace to look at when Temporal is down).
	Skipped Status = "skipped"
	// Unknown: a provider did not tell (unreachable, 5xx): its credentials may be good; payouts to it wait or
	// need attention as they would anyway. It does not make the process unready.
	Unknown Status = "unknown"
	// NotCheckable: the provider has no call that moves no money to check its credentials with.
	NotCheckable Status = "not_checkable"
)

// Check names.
const (
	CheckTemporal  = "temporal"
	CheckNamespace = "namespace"
	// CheckWorkers is the API's: some worker polls the task queue.
	CheckWorkers = "workers"
	// CheckWorker is the worker's: Temporal sees this worker's polls on the task queue.
	CheckWorker = "worker"
	CheckCodec  = "codec"
	// CheckProviderPrefix names a provider's credential check: "provider.bank131".
	CheckProviderPrefix = "provider."
)

// Defaults of Options.
const (
	DefaultEvery         = 10 * time.Second
	DefaultProviderEvery = 5 * time.Minute
	// DefaultPollerWindow is how recently a poll must have been seen: a live worker polls again at least once a
	// minute (Temporal's long poll), so a worker not seen for two is gone.
	DefaultPollerWindow = 2 * time.Minute
	DefaultTimeout      = 5 * time.Second
	// RetryEvery is how often the Temporal checks go round while one of them is not ok.
	RetryEvery = time.Second
)

// Options configure a Checker.
type Options struct {
	// Client talks to Temporal; Address names it in messages.
	Client    client.Client
	Address   string
	Namespace string
	TaskQueue string
	// Workers asks that some worker poll the task queue (the API: without one, every payout waits).
	Workers bool
	// Identity asks that Temporal see polls by this worker identity on the task queue (the worker itself).
	Identity string
	// Codec encrypts payloads; nil is a failing codec check (payloads would be written in plain text).
	Codec converter.PayloadCodec
	// Providers are the configured providers, whose credentials are checked.
	Providers *providers.Registry
	// Every is how often Temporal, the task queue and the codec are checked; ProviderEvery how often the
	// providers' credentials are; PollerWindow how recently a poll must have been seen; Timeout bounds each check.
	Every, ProviderEvery, PollerWindow, Timeout time.Duration
	Logger                                      *slog.Logger
}

// Result is one check's last outcome.
type Result struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Message says what is wrong, or what was seen.
	Message string `json:"message,omitempty"`
	// CheckedAt is when it was last checked; zero while pending.
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// Report is the answer of /readyz.
type Report struct {
	// Status is "ready", "degraded" (ready, but a provider refuses our credentials: its payouts fail while the
	// others' go on, so the process stays in the load balancer) or "not_ready".
	Status string   `json:"status"`
	Checks []Result `json:"checks"`
}

// Ready reports whether no check but a provider's is failing or pending.
func (r Report) Ready() bool { return r.Status != "not_ready" }

// Public returns r with each check's name and status only.
func (r Report) Public() Report {
	out := Report{Status: r.Status, Checks: make([]Result, len(r.Checks))}
	for i, c := range r.Checks {
		out.Checks[i] = Result{Name: c.Name, Status: c.Status}
	}
	return out
}

// Checker runs the checks in the background and keeps their last results.
type Checker struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	results map[string]Result
	order   []string
	// beats are the loops' last rounds, by loop, and how long a round may take before the loop is stuck.
	beats map[string]beat
}

type beat struct {
	at    time.Time
	limit time.Duration
}

// New returns a Checker whose checks are all pending; Start runs them.
func New(opts Options) *Checker {
	if opts.Every <= 0 {
		opts.Every = DefaultEvery
	}
	if opts.ProviderEvery <= 0 {
		opts.ProviderEvery = DefaultProviderEvery
	}
	if opts.PollerWindow <= 0 {
		opts.PollerWindow = DefaultPollerWindow
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Providers == nil {
		opts.Providers = providers.NewRegistry()
	}
	c := &Checker{opts: opts, log: opts.Logger.With("component", "health"), results: map[string]Result{},
		beats: map[string]beat{}}
	c.order = []string{CheckTemporal, CheckNamespace}
	if opts.Workers {
		c.order = append(c.order, CheckWorkers)
	}
	if opts.Identity != "" {
		c.order = append(c.order, CheckWorker)
	}
	c.order = append(c.order, CheckCodec)
	for _, name := range opts.Providers.Names() {
		c.order = append(c.order, CheckProviderPrefix+name)
	}
	for _, name := range c.order {
		c.results[name] = Result{Name: name, Status: Pending, Message: "not checked yet"}
	}
	return c
}

// Start runs the checks now and then in the background until ctx ends.
func (c *Checker) Start(ctx context.Context) {
	// A round of Temporal checks takes at most four timeouts; a round of providers one each.
	temporalLimit := c.opts.Every + 4*c.opts.Timeout + time.Minute
	providerLimit := c.opts.ProviderEvery + time.Duration(len(c.opts.Providers.Names()))*c.opts.Timeout + time.Minute
	c.beat("temporal", temporalLimit)
	c.beat("providers", providerLimit)
	go c.loop(ctx, "temporal", c.opts.Every, temporalLimit, true, c.checkTemporal)
	go c.loop(ctx, "providers", c.opts.ProviderEvery, providerLimit, false, c.checkProviders)
}

// loop runs round now and every so often until ctx ends. A loop that is told to retry (the Temporal checks) goes
// round every RetryEvery, at most, while one of its checks is not ok, so that a process becomes ready soon after
// what it waits for (a worker's first poll) is there; the providers are never asked more often than every.
func (c *Checker) loop(ctx context.Context, name string, every, limit time.Duration, retry bool, round func(context.Context)) {
	for {
		round(ctx)
		c.beat(name, limit)
		wait := every
		if retry && !c.temporalOK() {
			wait = min(every, RetryEvery)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// temporalOK reports whether every check but the providers' is ok.
func (c *Checker) temporalOK() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, r := range c.results {
		if !strings.HasPrefix(name, CheckProviderPrefix) && r.Status != OK {
			return false
		}
	}
	return true
}

func (c *Checker) beat(loop string, limit time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.beats[loop] = beat{at: time.Now(), limit: limit}
}

// set records a check's result, and logs a change of status.
func (c *Checker) set(name string, status Status, msg string) {
	c.mu.Lock()
	prev := c.results[name]
	c.results[name] = Result{Name: name, Status: status, Message: msg, CheckedAt: time.Now().UTC()}
	c.mu.Unlock()
	if prev.Status == status {
		return
	}
	switch status {
	case Failing:
		c.log.Warn("not ready", "check", name, "message", msg)
	case Unknown:
		c.log.Warn("health check could not tell", "check", name, "message", msg)
	default:
		if prev.Status != Pending || status != OK {
			c.log.Info("health check", "check", name, "status", status, "message", msg)
		}
	}
}

// Report returns the checks' last results, in a stable order.
func (c *Checker) Report() Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := Report{Status: "ready", Checks: make([]Result, 0, len(c.order))}
	for _, name := range c.order {
		res := c.results[name]
		switch {
		case strings.HasPrefix(name, CheckProviderPrefix):
			if res.Status == Failing && r.Status == "ready" {
				r.Status = "degraded"
			}
		case res.Status == Failing || res.Status == Pending:
			r.Status = "not_ready"
		}
		r.Checks = append(r.Checks, res)
	}
	return r
}

// Stuck lists the background loops that have not finished a round in time: the process is not live.
func (c *Checker) Stuck() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var stuck []string
	for name, b := range c.beats {
		if time.Since(b.at) > b.limit {
			stuck = append(stuck, name)
		}
	}
	slices.Sort(stuck)
	return stuck
}

// Handler serves GET /livez and GET /readyz (and HEAD) as the public listener may (API_ADDR, reached through the
// https proxy without a key): 200 when live or ready, 503 otherwise, and of each check only its name and status;
// what is wrong, which names the inside (Temporal's address, the namespace, endpoints), is on Register's listener.
func (c *Checker) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", c.ServeLive)
	mux.HandleFunc("GET /readyz", c.ServePublicReady)
	return mux
}

// Register adds GET /livez and GET /readyz, with each check's message, to mux (a process's operators' listener).
func (c *Checker) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /livez", c.ServeLive)
	mux.HandleFunc("GET /readyz", c.ServeReady)
}

// ServeLive answers /livez: 200 {"status": "live"} while the process's loops go round, 503 naming those that are
// stuck. It looks at nothing outside the process.
func (c *Checker) ServeLive(w http.ResponseWriter, _ *http.Request) {
	if stuck := c.Stuck(); len(stuck) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "stuck", "stuck": stuck})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "live"})
}

// ServeReady answers /readyz with the Report: 200 when ready, 503 otherwise.
func (c *Checker) ServeReady(w http.ResponseWriter, _ *http.Request) { c.serveReady(w, c.Report()) }

func (c *Checker) serveReady(w http.ResponseWriter, r Report) {
	status := http.StatusOK
	if !r.Ready() {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, r)
}

// ServePublicReady answers /readyz as ServeReady does, with each check's name and status only.
func (c *Checker) ServePublicReady(w http.ResponseWriter, _ *http.Request) {
	c.serveReady(w, c.Report().Public())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
