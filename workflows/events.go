// Events for backends: the payout records an event when it enters a status backends act on (payout.EventFor) or
// when its provider contradicts how it ended, publishes them in its memo (MemoEvents) with the time of the last one
// as a search attribute (AttrEventAt), for GET /v1/events, and delivers them to the operator's endpoints
// (EVENTS_URL), each endpoint in its own goroutine, in order, at least once, while the payout's story goes on
// unhindered (README, "Events").

package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/metrics"
	"github.com/payoutflow/payoutflow/payout"
)

// MemoEvents is the memo field the workflow publishes its events to ([]payout.Event), for GET /v1/events.
const MemoEvents = "events"

// Delivery timing: a delivery is tried again with back-off, from deliveryFirstRetry up to EventsInput.RetryMax
// (DefaultDeliveryRetryMax when zero) between attempts, for DeliveryGiveUp in all; an attempt is bounded by
// deliveryAttempt (the worker's HTTP timeout is shorter).
const (
	deliveryFirstRetry      = time.Second
	DefaultDeliveryRetryMax = time.Hour
	DeliveryGiveUp          = 72 * time.Hour
	deliveryAttempt         = time.Minute
)

// EventsInput is what a payout knows of its events when it starts.
type EventsInput struct {
	// Endpoints are the URLs the payout's events are delivered to (EVENTS_URL when it was created); the worker
	// holds their secrets. None: events are only published, for GET /v1/events.
	Endpoints []string `json:"endpoints,omitempty"`
	// RetryMax is the longest wait between two attempts of a delivery; DefaultDeliveryRetryMax when zero.
	RetryMax time.Duration `json:"retry_max,omitempty"`
	// Created is when the API created the payout and published its payout.created event (memo and AttrEventAt);
	// zero when the API did not, and the workflow publishes it.
	Created time.Time `json:"created,omitempty"`
}

// eventLog is a payout's events and how far each endpoint has been delivered; it is carried across
// continue-as-new (Resume.Events).
type eventLog struct {
	Events []payout.Event `json:"events"`
	// Status is the status of the last status event; Contradicted, whether payout.contradiction was recorded.
	Status       payout.Status `json:"status"`
	Contradicted bool          `json:"contradicted,omitempty"`
	// Next is, by endpoint, the index in Events of the next event to deliver.
	Next map[string]int `json:"next,omitempty"`
}

// eventsOn reports whether the payout records events (versionEvents or later).
func (p *run) eventsOn() bool { return p.version >= versionEvents }

// startEvents sets up the payout's events: carried from the run before (resumed), or begun with the payout.created
// event the API published; then one delivery goroutine per endpoint.
func (p *run) startEvents(ctx workflow.Context, resumed *Resume) {
	if !p.eventsOn() {
		return
	}
	switch {
	case resumed != nil && resumed.Events != nil:
		p.ev = *resumed.Events
	case resumed != nil:
		// A run before events: what it went through is not told again.
		p.ev = eventLog{Status: p.state.Status, Contradicted: p.state.Contradiction != nil}
	case !p.in.Events.Created.IsZero():
		st := payout.NewState(p.in.ID, p.in.Request, p.in.Events.Created)
		st.CreatedBy, st.ApprovalsRequired = p.state.CreatedBy, p.state.ApprovalsRequired
		p.state = st
		p.ev = eventLog{Status: payout.StatusCreated,
			Events: []payout.Event{payout.NewEvent(payout.EventCreated, p.state, 1, p.in.Events.Created)}}
	}
	if len(p.in.Events.Endpoints) == 0 {
		return
	}
	if p.ev.Next == nil {
		p.ev.Next = map[string]int{}
	}
	for _, url := range p.in.Events.Endpoints {
		if _, ok := p.ev.Next[url]; !ok {
			p.ev.Next[url] = 0
		}
		workflow.Go(ctx, func(ctx workflow.Context) { p.deliver(ctx, url) })
	}
}

// recordEvents records the events of what changed since the last publish: a status backends act on, a
// contradiction.
func (p *run) recordEvents(ctx workflow.Context) {
	add := func(typ payout.EventType) {
		p.ev.Events = append(p.ev.Events, payout.NewEvent(typ, p.state, len(p.ev.Events)+1, workflow.Now(ctx)))
	}
	if p.state.Status != p.ev.Status {
		p.ev.Status = p.state.Status
		if typ := payout.EventFor(p.state.Status); typ != "" {
			add(typ)
		}
	}
	if p.state.Contradiction != nil && !p.ev.Contradicted {
		p.ev.Contradicted = true
		add(payout.EventContradiction)
	}
}

// searchAttributes are the payout's search attributes: its state's, and the time of its last event.
func (p *run) searchAttributes() []temporal.SearchAttributeUpdate {
	sa := SearchAttributes(p.state)
	if p.eventsOn() && len(p.ev.Events) > 0 {
		sa = append(sa, AttrEventAt.ValueSet(p.ev.Events[len(p.ev.Events)-1].Created))
	}
	return sa
}

// memo is what the payout publishes to its memo: its state, and its events.
func (p *run) memo() map[string]any {
	m := map[string]any{MemoState: p.state}
	if p.eventsOn() {
		m[MemoEvents] = p.ev.Events
	}
	return m
}

// deliver delivers the payout's events to one endpoint, one after another in sequence, each until it is taken or
// DeliveryGiveUp has passed. It runs beside the payout's story, which never waits for it.
func (p *run) deliver(ctx workflow.Context, url string) {
	actx := workflow.WithActivityOptions(ctx, deliveryOptions(p.in.Events))
	for {
		_ = workflow.Await(ctx, func() bool { return p.ev.Next[url] < len(p.ev.Events) })
		ev := p.ev.Events[p.ev.Next[url]]
		err := workflow.ExecuteActivity(actx, (*activities.Activities).DeliverEvent,
			activities.Delivery{URL: url, Event: ev}).Get(ctx, nil)
		if err != nil {
			if !workflow.IsReplaying(ctx) {
				metrics.EventDelivered(metrics.EventAbandoned)
			}
			// Given up: the event stays listed by GET /v1/events for the backend to catch up.
			workflow.GetLogger(ctx).Error("event not delivered: the endpoint did not take it in time; "+
				"the backend can read it from GET /v1/events", "event_id", ev.ID,
				"type", ev.Type, "error", err)
		}
		p.ev.Next[url]++
	}
}

// deliveryOptions are the activity options of one delivery: retried with back-off for DeliveryGiveUp.
func deliveryOptions(in EventsInput) workflow.ActivityOptions {
	retryMax := in.RetryMax
	if retryMax <= 0 {
		retryMax = DefaultDeliveryRetryMax
	}
	return workflow.ActivityOptions{
		StartToCloseTimeout:    deliveryAttempt,
		ScheduleToCloseTimeout: DeliveryGiveUp,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    min(deliveryFirstRetry, retryMax),
			BackoffCoefficient: 2,
			MaximumInterval:    retryMax,
		},
	}
}

// deliveriesPending reports whether an endpoint has an event still to deliver.
func (p *run) deliveriesPending() bool {
	for _, url := range p.in.Events.Endpoints {
		if p.ev.Next[url] < len(p.ev.Events) {
			return true
		}
	}
	return false
}

// awaitDeliveries keeps a payout that has ended open while its events are being delivered.
func (p *run) awaitDeliveries(ctx workflow.Context) {
	if !p.eventsOn() || len(p.in.Events.Endpoints) == 0 {
		return
	}
	_ = workflow.Await(ctx, func() bool { return !p.deliveriesPending() })
}
