// Package metrics holds payoutflow's Prometheus metrics: the registry every process serves at /metrics
// (METRICS_ADDR), the Temporal SDK's metrics handler that feeds it, and the application's own counters, histograms
// and gauges. No label carries a card number, phone or name: labels are providers, methods, statuses, codes and
// outcomes, each from a small fixed set.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is the process's registry: the Go runtime's and the process's metrics, the SDK's and payoutflow's.
var Registry = newRegistry()

func newRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Handler serves the registry in Prometheus's exposition format.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{Registry: Registry, ErrorHandling: promhttp.ContinueOnError})
}
