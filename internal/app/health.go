package app

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"go.temporal.io/sdk/client"

	"github.com/payoutflow/payoutflow/codec"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/internal/health"
	"github.com/payoutflow/payoutflow/providers"
)

// Health is what readiness checks beyond configuration.
type Health struct {
	Client    client.Client
	Codec     *codec.Codec
	Providers *providers.Registry
	Logger    *slog.Logger
}

// APIHealth returns the API's readiness checks, not started: Temporal, the namespace, some worker polling the task
// queue, the codec and each provider's credentials.
func APIHealth(cfg config.Config, h Health) *health.Checker {
	opts := healthOptions(cfg, h)
	opts.Workers = true
	return health.New(opts)
}

// WorkerHealth returns a worker's readiness checks, not started: Temporal, the namespace, this worker's polls of
// the task queue (NewWorker's identity), the codec and each provider's credentials.
func WorkerHealth(cfg config.Config, h Health) *health.Checker {
	opts := healthOptions(cfg, h)
	opts.Identity = WorkerIdentity()
	return health.New(opts)
}

func healthOptions(cfg config.Config, h Health) health.Options {
	opts := health.Options{
		Client: h.Client, Address: cfg.TemporalAddress, Namespace: cfg.Namespace, TaskQueue: cfg.TaskQueue,
		Providers: h.Providers, Every: cfg.HealthEvery, ProviderEvery: cfg.CredentialsEvery, Logger: h.Logger,
	}
	if h.Codec != nil {
		opts.Codec = h.Codec
	}
	return opts
}

// WorkerIdentity is the identity this process's workers poll under, as the Temporal SDK names a worker by default
// ("pid@host@"), set explicitly so that readiness can find the worker's own polls.
func WorkerIdentity() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "Unknown"
	}
	return fmt.Sprintf("%d@%s@", os.Getpid(), host)
}

// healthHandler is the checker's handler; nil for none.
func healthHandler(c *health.Checker) http.Handler {
	if c == nil {
		return nil
	}
	return c.Handler()
}
