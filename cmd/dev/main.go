// Command dev runs the whole payoutflow stack in one process for `make run`: an embedded Temporal server (SQLite
// under DATA_DIR) with Temporal UI, the worker, the REST API and webhook receiver, and the provider sandboxes. It needs
// no setup: keys are generated under DATA_DIR on first start.
package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/payoutflow/payoutflow/api"
	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/internal/devserver"
	"github.com/payoutflow/payoutflow/internal/faults"
	"github.com/payoutflow/payoutflow/internal/ops"
	"github.com/payoutflow/payoutflow/internal/telemetry"
	"github.com/payoutflow/payoutflow/providers/bank131"
	bank131sandbox "github.com/payoutflow/payoutflow/providers/bank131/sandbox"
	"github.com/payoutflow/payoutflow/providers/bepaid"
	bepaidsandbox "github.com/payoutflow/payoutflow/providers/bepaid/sandbox"
	mandarinsandbox "github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
	"github.com/payoutflow/payoutflow/workflows"
)

// The credentials the clients and the sandboxes agree on. They open nothing but the local sandboxes.
const (
	devProject    = "payoutflow-dev"
	devShopID     = "payoutflow-dev-shop"
	devShopSecret = "payoutflow-dev-secret"
	devMerchantID = "1"
	devMandarin   = "payoutflow-dev-mandarin-secret"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "payoutflow dev:", err)
		os.Exit(1)
	}
}

// parts are what one dev process runs; `make run` runs them all, `make chaos` one per process.
type parts map[string]bool

func (p parts) has(name string) bool { return p[name] || p["all"] }

func parseParts(s string) (parts, error) {
	p := parts{}
	for _, name := range strings.Split(s, ",") {
		switch name = strings.TrimSpace(name); name {
		case "all", "temporal", "sandboxes", "worker", "api":
			p[name] = true
		default:
			return nil, fmt.Errorf("-parts: %q is not one of all, temporal, sandboxes, worker, api", name)
		}
	}
	return p, nil
}

func run() error {
	partsFlag := flag.String("parts", "all", "what this process runs: all, or a comma-separated list of temporal, sandboxes, worker, api")
	flag.Parse()
	part, err := parseParts(*partsFlag)
	if err != nil {
		return err
	}
	cfg, err := config.LoadDev()
	if err != nil {
		return err
	}
	faultCfg, err := faults.Parse(os.Getenv("SANDBOX_FAULTS"))
	if err != nil {
		return fmt.Errorf("SANDBOX_FAULTS: %w", err)
	}
	log := cfg.Logger()
	if cfg.Tracing, err = telemetry.Setup(context.Background(), "payoutflow-dev"); err != nil {
		return err
	}
	defer cfg.Tracing.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Listen first, so that a busy port is a clear error before anything starts.
	listen := func(addr, what, env string) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("%s port: %w; set %s to a free host:port", what, err, env)
		}
		return ln, nil
	}
	var apiLn, codecLn, sandboxLn, bepaidLn, mandarinLn, metricsLn net.Listener
	opsMux := ops.Mux()
	if cfg.Perf.Pprof {
		ops.Pprof(opsMux)
	}
	// One operators' listener for the whole process; a process of some parts only serves one when METRICS_ADDR asks.
	metricsAddr := cfg.MetricsListen("")
	if part.has("all") {
		metricsAddr = cfg.MetricsListen("127.0.0.1:9090")
	}
	if metricsAddr != "" {
		if metricsLn, err = ops.Listen(metricsAddr); err != nil {
			return err
		}
		defer ops.Serve(metricsLn, opsMux, log)()
	}
	if part.has("api") {
		if apiLn, err = listen(cfg.APIAddr, "API", "API_ADDR"); err != nil {
			return err
		}
		if codecLn, err = listen(cfg.CodecAddr, "codec endpoint", "CODEC_ADDR"); err != nil {
			return err
		}
	}
	if part.has("sandboxes") {
		if sandboxLn, err = listen(cfg.Bank131.SandboxAddr, "the Bank 131 sandbox", "BANK131_SANDBOX_ADDR"); err != nil {
			return err
		}
		if bepaidLn, err = listen(cfg.BePaid.SandboxAddr, "the bePaid sandbox", "BEPAID_SANDBOX_ADDR"); err != nil {
			return err
		}
		if mandarinLn, err = listen(cfg.Mandarin.SandboxAddr, "the Mandarin sandbox", "MANDARIN_SANDBOX_ADDR"); err != nil {
			return err
		}
	}

	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("DATA_DIR: %w", err)
	}
	// Keys: ours signs requests to the bank, the sandbox's signs its webhooks. Made once, kept under DATA_DIR.
	keys := filepath.Join(cfg.DataDir, "keys")
	partnerKey, err := bank131.EnsureKeyPair(keys, "bank131-partner")
	if err != nil {
		return err
	}
	bankKey, err := bank131.EnsureKeyPair(keys, "bank131-sandbox")
	if err != nil {
		return err
	}
	bepaidKey, err := bepaid.EnsureKeyPair(keys, "bepaid-sandbox")
	if err != nil {
		return err
	}
	cd, codecKeys, err := cfg.Codec(true)
	if err != nil {
		return err
	}

	if part.has("sandboxes") {
		stopSandboxes, err := startSandboxes(cfg, log, faultCfg, partnerKey, bankKey, bepaidKey, sandboxLn, bepaidLn, mandarinLn)
		if err != nil {
			return err
		}
		defer stopSandboxes()
	}

	// Temporal and its UI.
	uiURL := "http://" + cfg.UIAddr
	if part.has("temporal") {
		if err := cfg.EmbeddedTemporal(); err != nil {
			return err
		}
		temporalAddr := strings.Replace(cfg.TemporalAddress, "localhost:", "127.0.0.1:", 1)
		log.Info("starting Temporal", "address", temporalAddr, "data_dir", cfg.DataDir)
		ts, err := devserver.Start(ctx, devserver.Options{
			DataDir:          cfg.DataDir,
			FrontendAddr:     temporalAddr,
			UIAddr:           cfg.UIAddr,
			Namespace:        cfg.Namespace,
			SearchAttributes: workflows.SearchAttributeTypes,
			CodecEndpoint:    cfg.CodecURL,
			Logger:           log.With("component", "temporal-server"),
		})
		if err != nil {
			return err
		}
		defer func() {
			if err := ts.Stop(); err != nil {
				log.Warn("stop Temporal", "error", err)
			}
		}()
		cfg.TemporalAddress = ts.FrontendAddr()
		uiURL = ts.UIURL()
	}

	if part.has("worker") || part.has("api") {
		// The client, the worker and the API, configured as in production but pointed at the sandboxes.
		devProviders(&cfg, keys)
		ps, err := app.Configured(cfg)
		if err != nil {
			return err
		}
		c, dc, err := cfg.Dial(cd, log)
		if err != nil {
			return err
		}
		defer c.Close()
		// Readiness: the API's checks where the API runs (its worker is one that polls), else the worker's; on the
		// operators' listener, and on the API's.
		hc := app.Health{Client: c, Codec: cd, Providers: ps, Logger: log}
		checker := app.WorkerHealth(cfg, hc)
		if part.has("api") {
			checker = app.APIHealth(cfg, hc)
		}
		checker.Start(ctx)
		checker.Register(opsMux)
		if part.has("worker") {
			if !part.has("temporal") {
				ensure, cancel := context.WithTimeout(ctx, time.Minute)
				err := workflows.EnsureSearchAttributes(ensure, c, cfg.Namespace)
				cancel()
				if err != nil {
					return err
				}
			}
			w := app.NewConfiguredWorker(c, cfg, codecKeys, ps.Providers()...)
			if err := w.Start(); err != nil {
				return fmt.Errorf("start worker: %w", err)
			}
			defer w.Stop()
		}
		if part.has("api") {
			if cfg.APIKeysFile == "" {
				if cfg.APIKeysFile, err = api.EnsureDevKeys(cfg.DataDir); err != nil {
					return err
				}
			}
			apiKeys, pol, err := app.Access(cfg)
			if err != nil {
				return err
			}
			apiSrv := app.Server(cfg.APIAddr, app.NewAPI(cfg, app.API{
				Client: c, DataConverter: dc, CodecKeys: codecKeys, Logger: log,
				Providers: ps, Keys: apiKeys, Policy: pol, Health: checker,
			}))
			go serve(apiSrv, apiLn, log)
			defer func() {
				shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = apiSrv.Shutdown(shutdown)
			}()
			codecSrv := app.Server(cfg.CodecAddr, app.NewCodecHandler(cfg, cd, log))
			go serve(codecSrv, codecLn, log)
			defer codecSrv.Close()
			if metricsLn != nil {
				go app.Gauges(cfg, c, ps).Run(ctx)
			}
		}
	}

	if part.has("all") {
		banner(cfg, uiURL, sandboxLn.Addr().String(), bepaidLn.Addr().String(), mandarinLn.Addr().String(),
			filepath.Join(cfg.DataDir, "dev-api-key"), metricsURL(metricsLn))
	} else {
		log.Info("running", "parts", *partsFlag, "temporal", cfg.TemporalAddress, "faults", os.Getenv("SANDBOX_FAULTS"),
			"metrics", metricsURL(metricsLn))
	}
	<-ctx.Done()
	log.Info("stopping")
	return nil
}

// devProviders points the provider configuration at the sandboxes, with the credentials they agree on.
func devProviders(cfg *config.Config, keys string) {
	cfg.Bank131.BaseURL = "http://" + loopbackAddr(cfg.Bank131.SandboxAddr)
	cfg.Bank131.Project = devProject
	cfg.Bank131.PrivateKeyFile = filepath.Join(keys, "bank131-partner.pem")
	cfg.Bank131.PublicKeyFile = filepath.Join(keys, "bank131-sandbox.pub.pem")
	cfg.BePaid.BaseURL = "http://" + loopbackAddr(cfg.BePaid.SandboxAddr)
	cfg.BePaid.ShopID, cfg.BePaid.SecretKey = devShopID, devShopSecret
	cfg.BePaid.PublicKeyFile = filepath.Join(keys, "bepaid-sandbox.pub")
	cfg.BePaid.Test = true
	cfg.Mandarin.BaseURL = "http://" + loopbackAddr(cfg.Mandarin.SandboxAddr)
	cfg.Mandarin.MerchantID, cfg.Mandarin.Secret = devMerchantID, devMandarin
	if os.Getenv("MANDARIN_BALANCE_CHECK") == "" {
		cfg.Mandarin.BalanceCheck = workflows.BalanceFail
	}
	if cfg.Mandarin.DefaultEmail == "" {
		cfg.Mandarin.DefaultEmail = "payouts@example.com"
	}
	if cfg.Mandarin.DefaultPhone == "" {
		cfg.Mandarin.DefaultPhone = "+79000000000"
	}
}

// startSandboxes serves the three providers' sandboxes, each with its own faults (its own seed drawn from the
// run's), and their fault counts at /_sandbox/faults.
func startSandboxes(cfg config.Config, log *slog.Logger, fc faults.Config, partnerKey, bankKey, bepaidKey *rsa.PrivateKey,
	bank131Ln, bepaidLn, mandarinLn net.Listener) (func(), error) {
	var stops []func()
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	injector := func(n uint64) *faults.Injector {
		c := fc
		c.Seed = fc.Seed*4 + n
		return faults.New(c)
	}
	serveSandbox := func(ln net.Listener, h http.Handler, in *faults.Injector) {
		mux := http.NewServeMux()
		mux.Handle("/_sandbox/faults", in.StatsHandler())
		mux.Handle("/", in.Handler(h, func(r *http.Request) bool {
			return !strings.HasPrefix(r.URL.Path, "/_sandbox/") && r.URL.Path != "/Pay"
		}))
		srv := app.Server(ln.Addr().String(), mux)
		go serve(srv, ln, log)
		stops = append(stops, func() { _ = srv.Close() })
	}
	webhookClient := func(in *faults.Injector) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: in.Transport(nil)}
	}

	// The Bank 131 sandbox, delivering its webhooks to our receiver.
	in131 := injector(1)
	sandbox, err := bank131sandbox.OpenSandbox(bank131sandbox.SandboxConfig{
		PartnerPublicKey: &partnerKey.PublicKey,
		BankPrivateKey:   bankKey,
		Project:          devProject,
		WebhookURL:       cfg.PublicURL + "/webhooks/bank131",
		WebhookDelay:     500 * time.Millisecond,
		HTTPClient:       webhookClient(in131),
		Logger:           log.With("component", "bank131-sandbox"),
		StateFile:        filepath.Join(cfg.DataDir, "bank131-sandbox.json"),
	})
	if err != nil {
		return nil, err
	}
	stops = append(stops, sandbox.Close)
	serveSandbox(bank131Ln, sandbox, in131)

	// The bePaid sandbox, sending notifications and verification requests to the URLs each payout gives.
	inBePaid := injector(2)
	bepaidSandbox, err := bepaidsandbox.OpenSandbox(bepaidsandbox.SandboxConfig{
		ShopID:     devShopID,
		SecretKey:  devShopSecret,
		SigningKey: bepaidKey,
		Delay:      500 * time.Millisecond,
		HTTPClient: webhookClient(inBePaid),
		Logger:     log.With("component", "bepaid-sandbox"),
		StateFile:  filepath.Join(cfg.DataDir, "bepaid-sandbox.json"),
	})
	if err != nil {
		stop()
		return nil, err
	}
	stops = append(stops, bepaidSandbox.Close)
	serveSandbox(bepaidLn, bepaidSandbox, inBePaid)

	// The Mandarin sandbox, sending callbacks to the URL each payout gives.
	inMandarin := injector(3)
	mandarinSandbox, err := mandarinsandbox.OpenSandbox(mandarinsandbox.SandboxConfig{
		MerchantID: devMerchantID,
		Secret:     devMandarin,
		Delay:      500 * time.Millisecond,
		PublicURL:  "http://" + mandarinLn.Addr().String(),
		HTTPClient: webhookClient(inMandarin),
		Logger:     log.With("component", "mandarin-sandbox"),
		StateFile:  filepath.Join(cfg.DataDir, "mandarin-sandbox.json"),
	})
	if err != nil {
		stop()
		return nil, err
	}
	stops = append(stops, mandarinSandbox.Close)
	serveSandbox(mandarinLn, mandarinSandbox, inMandarin)
	return stop, nil
}

// loopbackAddr turns a listen address like ":8131" into one a local client can dial.
func loopbackAddr(addr string) string {
	if strings.HasPrefix(addr, ":") {
		return "127.0.0.1" + addr
	}
	return strings.Replace(addr, "0.0.0.0:", "127.0.0.1:", 1)
}

func serve(srv *http.Server, ln net.Listener, log *slog.Logger) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("http server stopped", "addr", ln.Addr().String(), "error", err)
	}
}

// metricsURL is where the operators' listener serves /metrics, or "off".
func metricsURL(ln net.Listener) string {
	if ln == nil {
		return "off"
	}
	return "http://" + loopbackAddr(ln.Addr().String()) + "/metrics"
}

func banner(cfg config.Config, uiURL, sandboxAddr, bepaidAddr, mandarinAddr, keyFile, metrics string) {
	fmt.Printf(`
payoutflow is running. Ctrl-C stops everything.

  REST API + webhooks   %[1]s            (API_ADDR=%[2]s)
  Codec for the UI      %[8]s  (CODEC_ADDR, loopback only)
  Temporal UI           %[3]s      (UI_ADDR)
  Temporal frontend     %[4]s        (TEMPORAL_ADDRESS, namespace %[5]s)
  Bank 131 sandbox      http://%[6]s       (BANK131_SANDBOX_ADDR)
  bePaid sandbox        http://%[9]s       (BEPAID_SANDBOX_ADDR)
  Mandarin sandbox      http://%[11]s       (MANDARIN_SANDBOX_ADDR)
  Prometheus metrics    %[12]s  (METRICS_ADDR)
  Data                  %[7]s  (DATA_DIR: Temporal's SQLite file, keys)

The API wants a key: the development key (every scope) is in %[10]s.
Try a payout (card 4242424242424242 succeeds):

  export PAYOUTFLOW_KEY=$(cat %[10]s)
  curl -s -X POST %[1]s/v1/payouts -H "Authorization: Bearer $PAYOUTFLOW_KEY" -H 'Content-Type: application/json' \
    -H "Idempotency-Key: $(date +%%s)" \
    -d '{"provider":"bank131","amount":{"value":10000,"currency":"RUB"},"destination":{"type":"card","card":{"number":"4242424242424242"}},"recipient":{"full_name":"Ivanov Ivan"},"description":"Payout for order 123"}'

then approve it in Temporal UI (search: PayoutStatus="awaiting_approval", More Actions → Send a Signal → confirm,
{"by": "your name", "reason": "checked"}) or by API:
  curl -s -X POST %[1]s/v1/payouts/<id>/confirm -H "Authorization: Bearer $PAYOUTFLOW_KEY" \
    -H 'Content-Type: application/json' -d '{"reason":"checked"}'

`, cfg.PublicURL, cfg.APIAddr, uiURL, cfg.TemporalAddress, cfg.Namespace, sandboxAddr, absPath(cfg.DataDir), cfg.CodecURL, bepaidAddr, absPath(keyFile), mandarinAddr, metrics)
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
