// Command worker runs payoutflow's Temporal worker against any Temporal cluster (TEMPORAL_ADDRESS): the payout
// workflow and the provider activities. Start as many as the load needs; they share the task queue.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

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
	stopOps, err := ops.Start(metricsAddr, opsMux, log)
	if err != nil {
		return err
	}
	defer stopOps()
	c, _, err := cfg.Dial(cd, log)
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := workflows.EnsureSearchAttributes(ctx, c, cfg.Namespace); err != nil {
		return err
	}
	log.Info("worker started", "temporal", cfg.TemporalAddress, "namespace", cfg.Namespace, "connection", cfg.TemporalTLS(),
		"task_queue", cfg.TaskQueue, "metrics", metricsAddr)
	return app.NewWorkerWithEvents(c, cfg.TaskQueue, codecKeys, cfg.Events, ps.Providers()...).Run(worker.InterruptCh())
}
