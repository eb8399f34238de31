package app

import (
	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/internal/config"
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
	return activities.NewEventSender(cfg.Timeout, eps...)
}
