// Command api serves payoutflow's REST API, the providers' webhook receiver and the codec endpoint for Temporal UI,
// against any Temporal cluster (TEMPORAL_ADDRESS).
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/internal/ops"
	"github.com/payoutflow/payoutflow/internal/telemetry"
	"github.com/payoutflow/payoutflow/workflows"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := cfg.Logger()
	if cfg.Tracing, err = telemetry.Setup(context.Background(), "payoutflow-api"); err != nil {
		return err
	}
	defer cfg.Tracing.Close()
	cd, codecKeys, err := cfg.Codec(false)
	if err != nil {
		return err
	}
	ps, err := app.Configured(cfg)
	if err != nil {
		return err
	}
	keys, pol, err := app.Access(cfg)
	if err != nil {
		return err
	}
	// The operators' listener first, so that it answers while the API connects.
	metricsAddr := cfg.MetricsListen(":9091")
	opsMux := ops.Mux()
	if cfg.Perf.Pprof {
		ops.Pprof(opsMux)
	}
	stopOps, err := ops.Start(metricsAddr, opsMux, log)
	if err != nil {
		return err
	}
	defer stopOps()
	// Connected lazily: with Temporal down at start the API still serves its probes (readiness: temporal failing)
	// and its calls work once Temporal answers.
	c, dc, err := cfg.DialLazy(cd, log)
	if err != nil {
		return err
	}
	defer c.Close()
	// Readiness on the API's listener and on the operators' listener, checked from now on.
	checks, stopChecks := context.WithCancel(context.Background())
	defer stopChecks()
	checker := app.APIHealth(cfg, app.Health{Client: c, Codec: cd, Providers: ps, Logger: log})
	checker.Start(checks)
	checker.Register(opsMux)
	// New payouts carry search attributes that a worker of an older version did not register: register them too,
	// where this API's credentials allow it (the worker does it in any case).
	ensure, cancelEnsure := context.WithTimeout(context.Background(), 30*time.Second)
	if err := workflows.EnsureSearchAttributes(ensure, c, cfg.Namespace); err != nil {
		log.Warn("search attributes not registered by the API; a worker of this version registers them", "error", err)
	}
	cancelEnsure()

	srv := app.Server(cfg.APIAddr, app.NewAPI(cfg, app.API{
		Client: c, DataConverter: dc, CodecKeys: codecKeys, Logger: log,
		Providers: ps, Keys: keys, Policy: pol, Health: checker,
	}))
	codecSrv := app.Server(cfg.CodecAddr, app.NewCodecHandler(cfg, cd, log))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if metricsAddr != "" {
		go app.Gauges(cfg, c, ps).Run(ctx)
	}
	errc := make(chan error, 2)
	go func() { errc <- fmt.Errorf("listen on %s (API_ADDR): %w", cfg.APIAddr, srv.ListenAndServe()) }()
	go func() { errc <- fmt.Errorf("listen on %s (CODEC_ADDR): %w", cfg.CodecAddr, codecSrv.ListenAndServe()) }()
	log.Info("api listening", "addr", cfg.APIAddr, "codec", cfg.CodecAddr, "metrics", metricsAddr, "public_url", cfg.PublicURL,
		"temporal", cfg.TemporalAddress, "connection", cfg.TemporalTLS())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = codecSrv.Shutdown(shutdown)
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
