package metrics

import (
	"log/slog"
	"strings"
	"sync"

	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// Histogram buckets, in seconds.
var (
	// latencyBuckets: a call or a task, from a millisecond to minutes.
	latencyBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 600}
	// waitBuckets: a payout's life or its wait for a person, from a second to a week.
	waitBuckets = []float64{1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600,
		3 * 24 * 3600, 7 * 24 * 3600}
)

// sdkFailures are the SDK's counters of failures the dashboard and the alerts read.
var sdkFailures = []string{"temporal_workflow_task_execution_failed", "temporal_activity_execution_failed",
	"temporal_request_failure", "temporal_sticky_cache_miss"}

var (
	sdkOnce    sync.Once
	sdkHandler client.MetricsHandler
)

// SDK is the Temporal SDK's metrics handler of the process (client.Options.MetricsHandler): the SDK's metrics
// (temporal_workflow_task_schedule_to_start_latency_seconds, temporal_activity_execution_failed_total,
// temporal_sticky_cache_size, …) and those workflow code emits through workflow.GetMetricsHandler, which skips
// replays, exported to Registry by OpenTelemetry's Prometheus exporter; the handlers and instruments it hands out are
// kept for the next ask (sdkcache.go).
func SDK() client.MetricsHandler {
	sdkOnce.Do(func() {
		exporter, err := otelprom.New(otelprom.WithRegisterer(Registry), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
		if err != nil {
			slog.Error("the Temporal SDK's metrics are not exported", "error", err)
			sdkHandler = client.MetricsNopHandler
			return
		}
		provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithView(buckets))
		sdkHandler = cached(temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
			Meter:                provider.Meter("temporal-sdk-go"),
			UseMonotonicCounters: true,
			OnError:              func(err error) { slog.Warn("a Temporal SDK metric is not recorded", "error", err) },
		}))
		// The SDK's failure counters appear at their first failure; exposed at 0 from the start, rates and alerts
		// see them before it.
		for _, name := range sdkFailures {
			sdkHandler.Counter(name).Inc(0)
		}
	})
	return sdkHandler
}

// buckets gives the SDK's timers (seconds) latency buckets, and payoutflow's waits (payoutflow_*) wait buckets.
func buckets(i sdkmetric.Instrument) (sdkmetric.Stream, bool) {
	if i.Kind != sdkmetric.InstrumentKindHistogram {
		return sdkmetric.Stream{}, false
	}
	b := latencyBuckets
	if strings.HasPrefix(i.Name, "payoutflow_") {
		b = waitBuckets
	}
	return sdkmetric.Stream{
		Name: i.Name, Description: i.Description, Unit: i.Unit,
		Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: b},
	}, true
}
