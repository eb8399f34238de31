package app

import (
	"go.temporal.io/sdk/client"

	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/internal/ops"
	"github.com/payoutflow/payoutflow/providers"
)

// Gauges counts the payout gauges of /metrics from Temporal every METRICS_REFRESH; the API runs it.
func Gauges(cfg config.Config, c client.Client, ps *providers.Registry) ops.Visibility {
	return ops.Visibility{Client: c, Namespace: cfg.Namespace, TaskQueue: cfg.TaskQueue, Providers: ps.Names(),
		Every: cfg.MetricsRefresh, Logger: cfg.Logger().With("component", "metrics")}
}
