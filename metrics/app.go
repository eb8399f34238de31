package metrics

import (
	"errors"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/payoutflow/payoutflow/providers"
)

// Outcomes of a provider call.
const (
	OutcomeOK      = "ok"      // the provider answered
	OutcomeRefused = "refused" // the provider refused: nothing happened
	OutcomeUnknown = "unknown" // timeout, 5xx, connection lost: the call may or may not have taken effect
)

// Results of a webhook (or a provider's verification request), one per event it carries once it is verified.
const (
	WebhookAccepted      = "accepted"      // delivered to its payout
	WebhookForged        = "forged"        // the signature is missing or wrong: nothing in it was believed
	WebhookMalformed     = "malformed"     // signed, but not understood
	WebhookUnroutable    = "unroutable"    // for no payout of ours
	WebhookDuplicate     = "duplicate"     // for a payout already finished, agreeing with how it ended
	WebhookContradiction = "contradiction" // for a payout already finished, contradicting how it ended
	WebhookFailed        = "failed"        // not delivered now (Temporal unavailable); the provider resends it
)

// Results of an event's delivery to a backend.
const (
	EventDeliveredOK = "delivered" // the backend took it
	EventFailed      = "failed"    // this attempt failed; it is retried
	EventAbandoned   = "abandoned" // no more attempts
)

var (
	payoutsCreated = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "payoutflow_payouts_created_total",
		Help: "Payouts created by the API (a repeated create of the same payout is not counted), by provider and method.",
	}, []string{"provider", "method"})
	providerCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "payoutflow_provider_calls_total",
		Help: "Calls to providers by provider, operation and outcome (ok, refused, unknown).",
	}, []string{"provider", "operation", "outcome"})
	providerCallSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "payoutflow_provider_call_duration_seconds",
		Help:    "How long provider calls take, by provider, operation and outcome.",
		Buckets: latencyBuckets,
	}, []string{"provider", "operation", "outcome"})
	webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "payoutflow_webhooks_total",
		Help: "Webhooks and verification requests received, by provider and result (accepted, forged, malformed, unroutable, duplicate, contradiction, failed).",
	}, []string{"provider", "result"})
	eventDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "payoutflow_event_deliveries_total",
		Help: "Deliveries of events to backends, by result (delivered, failed, abandoned).",
	}, []string{"result"})
)

func init() {
	Registry.MustRegister(payoutsCreated, providerCalls, providerCallSeconds, webhooks, eventDeliveries)
	// Every result of every counter is exposed from the start at 0, so that rules and rate() see the series before
	// the first event.
	for _, r := range []string{EventDeliveredOK, EventFailed, EventAbandoned} {
		eventDeliveries.WithLabelValues(r)
	}
}

// Provider readies the series of a configured provider at 0: its webhooks of every result, so that an alert on
// forgeries fires on the first one.
func Provider(name string) {
	for _, r := range []string{WebhookAccepted, WebhookForged, WebhookMalformed, WebhookUnroutable, WebhookDuplicate,
		WebhookContradiction, WebhookFailed} {
		webhooks.WithLabelValues(name, r)
	}
}

// PayoutCreated counts a payout the API created.
func PayoutCreated(provider, method string) {
	payoutsCreated.WithLabelValues(provider, method).Inc()
}

// ProviderCall counts a call to a provider, begun at start and ended with err, by its outcome, and how long it took.
func ProviderCall(provider, operation string, start time.Time, err error) {
	o := Outcome(err)
	providerCalls.WithLabelValues(provider, operation, o).Inc()
	providerCallSeconds.WithLabelValues(provider, operation, o).Observe(time.Since(start).Seconds())
}

// Outcome is how a provider call that returned err ended: OutcomeOK, OutcomeRefused (the provider said no, or that
// the payout exists: nothing happened) or OutcomeUnknown.
func Outcome(err error) string {
	var pe *providers.Error
	switch {
	case err == nil:
		return OutcomeOK
	case errors.As(err, &pe) && (pe.Certainty == providers.Known || pe.Exists):
		return OutcomeRefused
	}
	return OutcomeUnknown
}

// Webhook counts a webhook of provider with its result, one of the Webhook*.
func Webhook(provider, result string) {
	webhooks.WithLabelValues(provider, result).Inc()
}

// EventDelivered counts one delivery attempt of an event to a backend: result is EventDeliveredOK, EventFailed or
// EventAbandoned (anything else counts as failed).
func EventDelivered(result string) {
	switch result {
	case EventDeliveredOK, EventFailed, EventAbandoned:
	default:
		result = EventFailed
	}
	eventDeliveries.WithLabelValues(result).Inc()
}

var labelRE = regexp.MustCompile(`^[a-z0-9_.-]{1,48}$`)

// Code is a failure code fit for a label: the code as it is when it is short and plain (payoutflow's failure codes,
// a provider's), "other" otherwise, "" as "none"; a label never carries free text.
func Code(code string) string {
	switch {
	case code == "":
		return "none"
	case labelRE.MatchString(code):
		return code
	}
	return "other"
}
