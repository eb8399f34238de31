package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/metrics"
	"github.com/payoutflow/payoutflow/payout"
)

// DefaultDeliveryTimeout bounds one delivery attempt's HTTP request.
const DefaultDeliveryTimeout = 10 * time.Second

// Delivery is the input of DeliverEvent: one event for one endpoint.
type Delivery struct {
	URL   string       `json:"url"`
	Event payout.Event `json:"event"`
}

// Endpoint is where events are delivered, and the secrets that sign them (the first is the current one; more while
// a secret is rotated).
type Endpoint struct {
	URL     string
	Secrets []string
}

// EventSender delivers events to the operator's endpoints. It is a field of Activities, not an activity.
type EventSender struct {
	secrets map[string][]string
	client  *http.Client
}

// NewEventSender returns the sender of events to endpoints, each HTTP request bounded by timeout
// (DefaultDeliveryTimeout when zero). Redirects are not followed.
func NewEventSender(timeout time.Duration, endpoints ...Endpoint) *EventSender {
	if timeout <= 0 {
		timeout = DefaultDeliveryTimeout
	}
	s := &EventSender{secrets: map[string][]string{}, client: &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	for _, e := range endpoints {
		s.secrets[e.URL] = e.Secrets
	}
	return s
}

// DeliverEvent posts one event to one endpoint, signed; a 2xx answer delivers it, anything else (another status, a
// timeout, no connection, an endpoint this worker has no secret for) fails the attempt, which the workflow retries
// with the same event.
func (a *Activities) DeliverEvent(ctx context.Context, d Delivery) error {
	where := redact(d.URL)
	fail := func(err error) error {
		metrics.EventDelivered(metrics.EventFailed)
		activity.GetLogger(ctx).Warn("event delivery failed; it is tried again", "endpoint", where,
			"event_id", d.Event.ID, "attempt", activity.GetInfo(ctx).Attempt, "error", err)
		return temporal.NewApplicationError(err.Error(), ErrEventDelivery, err)
	}
	if a.Events == nil || len(a.Events.secrets[d.URL]) == 0 {
		return fail(fmt.Errorf("events endpoint %s is not configured on this worker (EVENTS_URL and EVENTS_SECRET)", where))
	}
	body, err := json.Marshal(d.Event)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", d.Event.ID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return fail(fmt.Errorf("events endpoint %s: %w", where, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "payoutflow-events/1")
	req.Header.Set(client.SignatureHeader, client.Sign(time.Now(), body, a.Events.secrets[d.URL]...))
	resp, err := a.Events.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is named once, redacted
		}
		return fail(fmt.Errorf("post event %s to %s: %w", d.Event.ID, where, err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fail(fmt.Errorf("post event %s to %s: answered %s", d.Event.ID, where, resp.Status))
	}
	metrics.EventDelivered(metrics.EventDeliveredOK)
	return nil
}

// redact is an endpoint's URL as logs and errors show it: without user, query or fragment.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unreadable URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
