package metrics

import "github.com/prometheus/client_golang/prometheus"

// EventDeliveries counts the attempts to deliver an event to a backend's endpoint, by endpoint (an EVENTS_URL
// entry without its query) and outcome (delivered, failed): a failing endpoint shows as a rising failed count.
var EventDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "payoutflow_event_deliveries_total",
	Help: "Attempts to deliver a payout event to an endpoint, by endpoint and outcome (delivered, failed).",
}, []string{"endpoint", "outcome"})

func init() { Registry.MustRegister(EventDeliveries) }
