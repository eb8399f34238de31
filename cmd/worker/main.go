// Command worker runs payoutflow's Temporal worker against any Temporal cluster (TEMPORAL_ADDRESS): the payout
// workflow and the provider activities. Start as many as the load needs; they share the task queue.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/internal/ops"
	"github.com/payoutflow/payoutflow/internal/telemetry"
	"github.com/payoutflow/payoutflow/workflows"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := cfg.Logger()
	if cfg.Tracing, err = telemetry.Setup(context.Background(), "payoutflow-worker"); err != nil {
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
	// The operators' listener first, so that it answers while the worker connects.
	metricsAddr := cfg.MetricsListen(":9090")
	opsMux := ops.Mux()
	if cfg.Perf.Pprof {
		ops.Pprof(opsMux)
	}
	stopOps, err := ops.Start(metricsAddr, opsMux, log)
	if err != nil {
		return err
	}
	defer stopOps()
	// Connected lazily: with Temporal down at start, or the namespace not there yet, the worker serves its probes
	// (readiness says which) and starts polling once both are.
	c, _, err := cfg.DialLazy(cd, log)
	if err != nil {
		return err
	}
	defer c.Close()
	// Readiness on the operators' listener, checked from now on: what is wrong shows while the worker starts.
	checks, stopChecks := context.WithCancel(context.Background())
	defer stopChecks()
	checker := app.WorkerHealth(cfg, app.Health{Client: c, Codec: cd, Providers: ps, Logger: log})
	checker.Start(checks)
	checker.Register(opsMux)
	interrupt := worker.InterruptCh()
	if !ensureSearchAttributes(c, cfg.Namespace, interrupt, log) {
		return nil
	}
	log.Info("worker started", "temporal", cfg.TemporalAddress, "namespace", cfg.Namespace, "connection", cfg.TemporalTLS(),
		"task_queue", cfg.TaskQueue, "metrics", metricsAddr)
	return app.NewConfiguredWorker(c, cfg, codecKeys, ps.Providers()...).Run(interrupt)
}

// setupRetry is how often the worker retries its setup while Temporal or the namespace is not there; setupLog how
// often it says so.
const setupRetry, setupLog = 2 * time.Second, time.Minute

// ensureSearchAttributes sets up the namespace's search attributes, retrying until it can (Temporal up, the
// namespace created) or the worker is interrupted (false). A person must act meanwhile: it logs at ERROR, once a
// minute.
func ensureSearchAttributes(c client.Client, namespace string, interrupt <-chan interface{}, log *slog.Logger) bool {
	var logged time.Time
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := workflows.EnsureSearchAttributes(ctx, c, namespace)
		cancel()
		if err == nil {
			if !logged.IsZero() {
				log.Info("worker setup done: Temporal and the namespace answer", "namespace", namespace)
			}
			return true
		}
		if time.Since(logged) >= setupLog {
			log.Error("worker cannot start polling: Temporal or the namespace is not there; retrying (see /readyz on METRICS_ADDR)",
				"namespace", namespace, "error", err)
			logged = time.Now()
		}
		select {
		case <-interrupt:
			return false
		case <-time.After(setupRetry):
		}
	}
}
