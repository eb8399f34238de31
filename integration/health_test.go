package integration

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/internal/health"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131"
	bank131sandbox "github.com/payoutflow/payoutflow/providers/bank131/sandbox"
	"github.com/payoutflow/payoutflow/providers/bepaid"
	bepaidsandbox "github.com/payoutflow/payoutflow/providers/bepaid/sandbox"
	"github.com/payoutflow/payoutflow/providers/mandarin"
	mandarinsandbox "github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
)

// probed is a process's readiness served over loopback HTTP: the API's (its own listener, with the REST API) or a
// worker's (its operators' listener).
type probed struct {
	// url is the operators' listener's; public the API's own, when it is the API.
	url, public string
	checker     *health.Checker
}

// healthConfig is the stack's configuration on its own task queue, with readiness checked every 100 ms.
func healthConfig(t *testing.T) config.Config {
	cfg := st.cfg
	cfg.TaskQueue = fmt.Sprintf("health-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
	cfg.Namespace = st.ts.GetDefaultNamespace()
	cfg.TemporalAddress = st.ts.GetFrontendHostPort()
	cfg.HealthEvery, cfg.CredentialsEvery = 100*time.Millisecond, time.Hour
	return cfg
}

// startAPIHealth serves the API with its readiness checks, started, on loopback.
func startAPIHealth(t *testing.T, cfg config.Config, c client.Client, reg *providers.Registry) probed {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.MultiWriter(st.logs, testLogSink()), nil))
	checker := app.APIHealth(cfg, app.Health{Client: c, Codec: st.codec, Providers: reg, Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	checker.Start(ctx)
	srv := httptest.NewServer(app.NewAPI(cfg, app.API{
		Client: c, DataConverter: st.dc, CodecKeys: st.codecKeys, Logger: log, Keys: st.keys, Providers: reg,
		Health: checker,
	}))
	t.Cleanup(srv.Close)
	// The API's /readyz names checks and statuses only; what is wrong is on the operators' listener.
	return probed{url: opsListener(t, checker), public: srv.URL, checker: checker}
}

// opsListener serves the checker's detailed /livez and /readyz as the operators' listener does.
func opsListener(t *testing.T, checker *health.Checker) string {
	mux := http.NewServeMux()
	checker.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// startWorkerHealth serves a worker's readiness checks, started, on loopback.
func startWorkerHealth(t *testing.T, cfg config.Config, c client.Client, reg *providers.Registry) probed {
	t.Helper()
	checker := app.WorkerHealth(cfg, app.Health{Client: c, Codec: st.codec, Providers: reg})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	checker.Start(ctx)
	return probed{url: opsListener(t, checker), checker: checker}
}

// readyz asks GET /readyz.
func (p probed) readyz(t *testing.T) (int, health.Report) {
	t.Helper()
	r := do(t, p.url, http.MethodGet, "/readyz", nil, "")
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	var rep health.Report
	require.NoError(t, json.Unmarshal(r.Body, &rep), string(r.Body))
	return r.Status, rep
}

// waitReport waits until /readyz answers status and its report satisfies ok, and returns the report.
func (p probed) waitReport(t *testing.T, status int, ok func(map[string]health.Result) bool) map[string]health.Result {
	t.Helper()
	var last map[string]health.Result
	var lastStatus int
	require.Eventually(t, func() bool {
		code, rep := p.readyz(t)
		last, lastStatus = map[string]health.Result{}, code
		for _, c := range rep.Checks {
			last[c.Name] = c
		}
		return code == status && ok(last)
	}, 30*time.Second, 50*time.Millisecond, "last /readyz: %d %+v", lastStatus, last)
	return last
}

// statusOf is each check's status.
func statusOf(checks map[string]health.Result) map[string]health.Status {
	out := map[string]health.Status{}
	for name, c := range checks {
		out[name] = c.Status
	}
	return out
}

func requireLive(t *testing.T, url string) {
	t.Helper()
	r := do(t, url, http.MethodGet, "/livez", nil, "")
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.JSONEq(t, `{"status":"live"}`, string(r.Body))
}

func TestReadyz_TheAPIAndTheWorkerAreNotReadyUntilTheWorkerPolls(t *testing.T) {
	cfg := healthConfig(t)
	apiSide := startAPIHealth(t, cfg, st.client, st.registry())
	workerSide := startWorkerHealth(t, cfg, st.client, st.registry())

	checks := apiSide.waitReport(t, http.StatusServiceUnavailable, func(c map[string]health.Result) bool {
		return c[health.CheckWorkers].Status == health.Failing
	})
	require.Equal(t, map[string]health.Status{"temporal": health.OK, "namespace": health.OK, "workers": health.Failing,
		"codec": health.OK, "provider.bank131": health.OK, "provider.bepaid": health.OK, "provider.mandarin": health.OK},
		statusOf(checks))
	require.Contains(t, checks[health.CheckWorkers].Message, "no worker has polled task queue \""+cfg.TaskQueue+"\"")
	// The API's own /readyz, public, says the same by name and status, and nothing of the inside.
	pub := do(t, apiSide.public, http.MethodGet, "/readyz", nil, "")
	require.Equal(t, http.StatusServiceUnavailable, pub.Status)
	require.NotContains(t, string(pub.Body), "message")
	require.Contains(t, string(pub.Body), `{"name":"workers","status":"failing"}`)
	checks = workerSide.waitReport(t, http.StatusServiceUnavailable, func(c map[string]health.Result) bool {
		return c[health.CheckWorker].Status == health.Failing
	})
	require.Contains(t, checks[health.CheckWorker].Message, "this worker ("+app.WorkerIdentity()+") has not polled")
	requireLive(t, apiSide.url)
	requireLive(t, workerSide.url)

	w := startWorker(t, cfg.TaskQueue)
	t.Cleanup(w.Stop)

	for _, side := range []probed{apiSide, workerSide} {
		checks = side.waitReport(t, http.StatusOK, func(map[string]health.Result) bool { return true })
		for name, c := range checks {
			require.Equal(t, health.OK, c.Status, "%s: %s", name, c.Message)
		}
	}
}

func TestReadyz_ANamespaceThatDoesNotExistIsNamed(t *testing.T) {
	cfg := healthConfig(t)
	cfg.Namespace = "no-such-namespace"
	c, err := client.Dial(client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.Namespace})
	require.NoError(t, err, "a client dials without its namespace: only a call finds it missing")
	t.Cleanup(c.Close)

	for _, side := range []probed{startAPIHealth(t, cfg, c, st.registry()), startWorkerHealth(t, cfg, c, st.registry())} {
		checks := side.waitReport(t, http.StatusServiceUnavailable, func(c map[string]health.Result) bool {
			return c[health.CheckNamespace].Status == health.Failing
		})
		require.Equal(t, health.OK, checks[health.CheckTemporal].Status)
		require.Contains(t, checks[health.CheckNamespace].Message, `namespace "no-such-namespace" does not exist`)
		for _, name := range []string{health.CheckWorkers, health.CheckWorker} {
			if c, ok := checks[name]; ok {
				require.Equal(t, health.Skipped, c.Status, name)
			}
		}
	}
}

func TestReadyz_TemporalDownIsNotReadyButStillLive(t *testing.T) {
	cfg := healthConfig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg.TemporalAddress = ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	c, err := client.NewLazyClient(client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.Namespace})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	for _, side := range []probed{startAPIHealth(t, cfg, c, st.registry()), startWorkerHealth(t, cfg, c, st.registry())} {
		checks := side.waitReport(t, http.StatusServiceUnavailable, func(c map[string]health.Result) bool {
			return c[health.CheckTemporal].Status == health.Failing
		})
		require.Contains(t, checks[health.CheckTemporal].Message, "Temporal at "+cfg.TemporalAddress+" does not answer")
		require.Equal(t, health.Skipped, checks[health.CheckNamespace].Status)
		require.Equal(t, health.OK, checks[health.CheckCodec].Status)
		requireLive(t, side.url)
	}
}

// countingHandler counts the requests that reach a sandbox.
type countingHandler struct {
	h http.Handler
	n atomic.Int64
}

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	c.h.ServeHTTP(w, r)
}

func TestReadyz_AProviderThatRefusesOurCredentialsIsNamed(t *testing.T) {
	// Each sandbox knows other credentials than the client sends; Acme has no call to check them with.
	bankKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ourKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	bankSB := bank131sandbox.NewSandbox(bank131sandbox.SandboxConfig{PartnerPublicKey: &bankKey.PublicKey, Project: "health"})
	t.Cleanup(bankSB.Close)
	bepaidSB := bepaidsandbox.NewSandbox(bepaidsandbox.SandboxConfig{ShopID: "health-shop", SecretKey: "the-shops-secret"})
	t.Cleanup(bepaidSB.Close)
	mandarinSB := mandarinsandbox.NewSandbox(mandarinsandbox.SandboxConfig{MerchantID: "77", Secret: "the-merchants-secret"})
	t.Cleanup(mandarinSB.Close)
	var calls []*countingHandler
	serve := func(h http.Handler) string {
		c := &countingHandler{h: h}
		calls = append(calls, c)
		srv := httptest.NewServer(c)
		t.Cleanup(srv.Close)
		return srv.URL
	}

	bc, err := bank131.NewClient(bank131.Config{BaseURL: serve(bankSB), Project: "health", PrivateKey: ourKey})
	require.NoError(t, err)
	bpc, err := bepaid.NewClient(bepaid.Config{BaseURL: serve(bepaidSB), ShopID: "health-shop", SecretKey: "a-wrong-secret"})
	require.NoError(t, err)
	mc, err := mandarin.NewClient(mandarin.Config{BaseURL: serve(mandarinSB), MerchantID: "77", Secret: "a-wrong-secret"})
	require.NoError(t, err)
	reg := providers.NewRegistry()
	require.NoError(t, reg.Add(bank131.NewProvider(bc), nil))
	require.NoError(t, reg.Add(bepaid.NewProvider(bpc, bepaid.ProviderOptions{}), nil))
	require.NoError(t, reg.Add(mandarin.NewProvider(mc, mandarin.ProviderOptions{}), nil))
	require.NoError(t, reg.Add(&acme{}, nil))

	cfg := healthConfig(t)
	cfg.TaskQueue = st.cfg.TaskQueue // the stack's worker polls it: only the providers are wrong
	side := startAPIHealth(t, cfg, st.client, reg)
	// Degraded, not unready: the providers' payouts fail, but the API stays in the load balancer.
	checks := side.waitReport(t, http.StatusOK, func(c map[string]health.Result) bool {
		return c[health.CheckWorkers].Status == health.OK && c["provider.mandarin"].Status != health.Pending
	})
	require.Equal(t, map[string]health.Status{"temporal": health.OK, "namespace": health.OK, "workers": health.OK,
		"codec": health.OK, "provider.bank131": health.Failing, "provider.bepaid": health.Failing,
		"provider.mandarin": health.Failing, "provider.acme": health.NotCheckable}, statusOf(checks))
	for _, name := range []string{"bank131", "bepaid", "mandarin"} {
		require.Contains(t, checks["provider."+name].Message, name+" refuses our credentials")
	}
	require.Contains(t, checks["provider.acme"].Message, "acme has no call that moves no money")

	// Probes read the last results: no provider is asked again however often /readyz is.
	before := make([]int64, len(calls))
	for i, c := range calls {
		before[i] = c.n.Load()
		require.Positive(t, before[i], "each provider was asked at start")
	}
	for range 20 {
		code, rep := side.readyz(t)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "degraded", rep.Status)
	}
	for i, c := range calls {
		require.Equal(t, before[i], c.n.Load(), "a probe called a provider")
	}
	require.Empty(t, bankSB.Ledger())
	require.Empty(t, bepaidSB.Ledger())
	require.Empty(t, mandarinSB.Ledger())
}
