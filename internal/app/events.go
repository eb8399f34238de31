package app

import (
	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/metrics"
)

// EventSender is the worker's sender of events to the configured endpoints; nil when there is none.
func EventSender(cfg config.Events) *activities.EventSender {
	if len(cfg.Endpoints) == 0 {
		return nil
	}
	eps := make([]activities.Endpoint, len(cfg.Endpoints))
	for i, e := range cfg.Endpoints {
		eps[i] = activities.Endpoint{URL: e.URL, Secrets: e.Secrets}
	}
	s := activities.NewEventSender(cfg.Timeout, eps...)
	s.OnAttempt = func(endpoint string, delivered bool) {
		outcome := "failed"
		if delivered {
			outcome = "delivered"
		}
		metrics.EventDeliveries.WithLabelValues(endpoint, outcome).Inc()
	}
	return s
}
