// Command dev runs the whole payoutflow stack in one process for `make run`: an embedded Temporal server (SQLite
// under DATA_DIR) with Temporal UI, the worker, the REST API and webhook receiver, and the provider sandboxes. It needs
// no setup: keys are generated under DATA_DIR on first start.
package main

import (
	"context"
	"errors"
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
	"github.com/payoutflow/payoutflow/providers/bank131"
	"github.com/payoutflow/payoutflow/providers/bepaid"
	"github.com/payoutflow/payoutflow/providers/mandarin"
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

func run() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := cfg.Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Listen first, so that a busy port is a clear error before anything starts.
	apiLn, err := net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		return fmt.Errorf("API port: %w; set API_ADDR to a free host:port", err)
	}
	codecLn, err := net.Listen("tcp", cfg.CodecAddr)
	if err != nil {
		return fmt.Errorf("codec endpoint port: %w; set CODEC_ADDR to a free host:port", err)
	}
	sandboxLn, err := net.Listen("tcp", cfg.Bank131.SandboxAddr)
	if err != nil {
		return fmt.Errorf("the Bank 131 sandbox port: %w; set BANK131_SANDBOX_ADDR to a free host:port", err)
	}
	bepaidLn, err := net.Listen("tcp", cfg.BePaid.SandboxAddr)
	if err != nil {
		return fmt.Errorf("the bePaid sandbox port: %w; set BEPAID_SANDBOX_ADDR to a free host:port", err)
	}
	mandarinLn, err := net.Listen("tcp", cfg.Mandarin.SandboxAddr)
	if err != nil {
		return fmt.Errorf("the Mandarin sandbox port: %w; set MANDARIN_SANDBOX_ADDR to a free host:port", err)
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
	cd, codecKey, err := cfg.Codec(true)
	if err != nil {
		return err
	}
	if cfg.APIKeysFile == "" {
		if cfg.APIKeysFile, err = api.EnsureDevKeys(cfg.DataDir); err != nil {
			return err
		}
	}
	apiKeys, pol, err := app.Access(cfg)
	if err != nil {
		return err
	}

	// The Bank 131 sandbox, delivering its webhooks to our receiver.
	sandbox, err := bank131.OpenSandbox(bank131.SandboxConfig{
		PartnerPublicKey: &partnerKey.PublicKey,
		BankPrivateKey:   bankKey,
		Project:          devProject,
		WebhookURL:       cfg.PublicURL + "/webhooks/bank131",
		WebhookDelay:     500 * time.Millisecond,
		Logger:           log.With("component", "bank131-sandbox"),
		StateFile:        filepath.Join(cfg.DataDir, "bank131-sandbox.json"),
	})
	if err != nil {
		return err
	}
	defer sandbox.Close()
	sandboxSrv := app.Server(cfg.Bank131.SandboxAddr, sandbox)
	go serve(sandboxSrv, sandboxLn, log)
	defer sandboxSrv.Close()

	// The bePaid sandbox, sending notifications and verification requests to the URLs each payout gives.
	bepaidSandbox, err := bepaid.OpenSandbox(bepaid.SandboxConfig{
		ShopID:     devShopID,
		SecretKey:  devShopSecret,
		SigningKey: bepaidKey,
		Delay:      500 * time.Millisecond,
		Logger:     log.With("component", "bepaid-sandbox"),
		StateFile:  filepath.Join(cfg.DataDir, "bepaid-sandbox.json"),
	})
	if err != nil {
		return err
	}
	defer bepaidSandbox.Close()
	bepaidSrv := app.Server(cfg.BePaid.SandboxAddr, bepaidSandbox)
	go serve(bepaidSrv, bepaidLn, log)
	defer bepaidSrv.Close()

	// The Mandarin sandbox, sending callbacks to the URL each payout gives.
	mandarinSandbox, err := mandarin.OpenSandbox(mandarin.SandboxConfig{
		MerchantID: devMerchantID,
		Secret:     devMandarin,
		Delay:      500 * time.Millisecond,
		PublicURL:  "http://" + mandarinLn.Addr().String(),
		Logger:     log.With("component", "mandarin-sandbox"),
		StateFile:  filepath.Join(cfg.DataDir, "mandarin-sandbox.json"),
	})
	if err != nil {
		return err
	}
	defer mandarinSandbox.Close()
	mandarinSrv := app.Server(cfg.Mandarin.SandboxAddr, mandarinSandbox)
	go serve(mandarinSrv, mandarinLn, log)
	defer mandarinSrv.Close()

	// Temporal and its UI.
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

	// The client, the worker and the API, configured as in production but pointed at the sandbox.
	cfg.Bank131.BaseURL = "http://" + sandboxLn.Addr().String()
	cfg.Bank131.Project = devProject
	cfg.Bank131.PrivateKeyFile = filepath.Join(keys, "bank131-partner.pem")
	cfg.Bank131.PublicKeyFile = filepath.Join(keys, "bank131-sandbox.pub.pem")
	cfg.BePaid.BaseURL = "http://" + bepaidLn.Addr().String()
	cfg.BePaid.ShopID, cfg.BePaid.SecretKey = devShopID, devShopSecret
	cfg.BePaid.PublicKeyFile = filepath.Join(keys, "bepaid-sandbox.pub")
	cfg.BePaid.Test = true
	cfg.Mandarin.BaseURL = "http://" + mandarinLn.Addr().String()
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
	ps, err := app.Configured(cfg)
	if err != nil {
		return err
	}
	c, dc, err := cfg.Dial(cd, log)
	if err != nil {
		return err
	}
	defer c.Close()
	w := app.NewWorker(c, cfg.TaskQueue, codecKey, ps.List...)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()
	apiSrv := app.Server(cfg.APIAddr, app.NewAPI(cfg, app.API{
		Client: c, DataConverter: dc, CodecKey: codecKey, Logger: log,
		Webhooks: ps.Webhooks, Verifications: ps.Verifications, Providers: ps.List, Keys: apiKeys, Policy: pol,
	}))
	go serve(apiSrv, apiLn, log)
	codecSrv := app.Server(cfg.CodecAddr, app.NewCodecHandler(cfg, cd, log))
	go serve(codecSrv, codecLn, log)
	defer codecSrv.Close()

	banner(cfg, ts.UIURL(), sandboxLn.Addr().String(), bepaidLn.Addr().String(), mandarinLn.Addr().String(),
		filepath.Join(cfg.DataDir, "dev-api-key"))
	<-ctx.Done()
	log.Info("stopping")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = apiSrv.Shutdown(shutdown)
	return nil
}

func serve(srv *http.Server, ln net.Listener, log *slog.Logger) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("http server stopped", "addr", ln.Addr().String(), "error", err)
	}
}

func banner(cfg config.Config, uiURL, sandboxAddr, bepaidAddr, mandarinAddr, keyFile string) {
	fmt.Printf(`
payoutflow is running. Ctrl-C stops everything.

  REST API + webhooks   %[1]s            (API_ADDR=%[2]s)
  Codec for the UI      %[8]s  (CODEC_ADDR, loopback only)
  Temporal UI           %[3]s      (UI_ADDR)
  Temporal frontend     %[4]s        (TEMPORAL_ADDRESS, namespace %[5]s)
  Bank 131 sandbox      http://%[6]s       (BANK131_SANDBOX_ADDR)
  bePaid sandbox        http://%[9]s       (BEPAID_SANDBOX_ADDR)
  Mandarin sandbox      http://%[11]s       (MANDARIN_SANDBOX_ADDR)
  Data                  %[7]s  (DATA_DIR: Temporal's SQLite file, keys)

The API wants a key: the development key (every scope) is in %[10]s.
Try a payout (card 4242424242424242 succeeds):

  export PAYOUTFLOW_KEY=$(cat %[10]s)
  curl -s -X POST %[1]s/v1/payouts -H "Authorization: Bearer $PAYOUTFLOW_KEY" -H 'Content-Type: application/json' \
    -H "Idempotency-Key: $(date +%%s)" \
    -d '{"provider":"bank131","amount":{"value":10000,"currency":"RUB"},"destination":{"type":"card","card":{"number":"4242424242424242"}},"recipient":{"full_name":"Ivanov Ivan"},"description":"Payout for order 123"}'

then approve it in Temporal UI (search: PayoutStatus="awaiting_approval", More Actions → Send a Signal → confirm,
{"by": "your name", "reason": "checked"}) or by API:
  curl -s -X POST %[1]s/v1/payouts/<id>/confirm -H "Authorization: Bearer $PAYOUTFLOW_KEY" -d '{"reason":"checked"}'

`, cfg.PublicURL, cfg.APIAddr, uiURL, cfg.TemporalAddress, cfg.Namespace, sandboxAddr, absPath(cfg.DataDir), cfg.CodecURL, bepaidAddr, absPath(keyFile), mandarinAddr)
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
