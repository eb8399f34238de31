package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/payoutflow/payoutflow/codec"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/workflows"
)

// defaultEventsSettle is how old an event must be before GET /v1/events lists it, when Config.EventsSettle is zero.
const defaultEventsSettle = 5 * time.Second

// EventList is a page of GET /v1/events: events in id order (time, then payout, then sequence).
type EventList struct {
	Events []payout.Event `json:"events"`
	// HasMore tells that more events follow the last one: ask again with after set to its id.
	HasMore bool `json:"has_more"`
}

// defaultEventsCommitBound is Config.EventsCommitBound when zero: Temporal's default workflow task timeout.
const defaultEventsCommitBound = 10 * time.Second

// eventsCommitBound is the longest an event takes from its stamp to its commit: the API stamps payout.created
// before the start, which it gives that long (its deadline), and a workflow stamps its events with workflow.Now,
// the start of the task whose completion commits them, which times out within it (payoutTaskTimeout).
func (s *Server) eventsCommitBound() time.Duration {
	if s.cfg.EventsCommitBound > 0 {
		return s.cfg.EventsCommitBound
	}
	return defaultEventsCommitBound
}

// maxPayoutTaskTimeout bounds a payout's workflow task timeout: a task held by a worker that died goes to another
// worker after it, in time to answer a provider's verification (VerifyWait).
const maxPayoutTaskTimeout = 5 * time.Second

// payoutTaskTimeout is a payout's WorkflowTaskTimeout: the events' commit bound, at most maxPayoutTaskTimeout.
// Its continued runs keep it (continue-as-new inherits it).
func (s *Server) payoutTaskTimeout() time.Duration {
	return min(s.eventsCommitBound(), maxPayoutTaskTimeout)
}

// withCreatedEvent gives a new payout its events configuration (the endpoints of the API key that creates it) and
// publishes its payout.created event with its start (memo and the PayoutEventAt search attribute), so that GET
// /v1/events finds it from the first moment. Its workflow tasks time out within the events' commit bound.
func (s *Server) withCreatedEvent(opts *client.StartWorkflowOptions, in *workflows.Input, initial payout.State, now time.Time) {
	opts.WorkflowTaskTimeout = s.payoutTaskTimeout()
	in.Events = s.cfg.Events
	if s.cfg.EventsFor != nil {
		in.Events.Endpoints = s.cfg.EventsFor(initial.CreatedBy) // its backend's endpoints, never another's
	}
	in.Events.Created = now
	opts.Memo[workflows.MemoEvents] = []payout.Event{payout.NewEvent(payout.EventCreated, initial, 1, now)}
	opts.TypedSearchAttributes = searchAttributes(initial, workflows.AttrEventAt.ValueSet(now.UTC()))
}

// listEvents lists payout events after a cursor, for backends that pull or catch up:
// GET /v1/events?after=<event id>&limit=20. It reads what the payouts published (memo and PayoutEventAt), never
// their workflows: the payouts whose last event is no older than the cursor, their events after it, sorted by id.
// An event is listed once it is EventsCommitBound + EventsSettle old: committed by then (eventsCommitBound), and
// shown by the visibility store within EventsSettle, it is never passed by a cursor.
func (s *Server) listEvents(c echo.Context) error {
	q := c.QueryParams()
	for name := range q {
		if !slices.Contains([]string{"after", "limit"}, name) {
			return fieldError(http.StatusBadRequest, name, "unknown_parameter", name+" is not a parameter of this list")
		}
	}
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return fieldError(http.StatusBadRequest, "limit", "invalid_limit", "limit must be a number from 1 to 100")
		}
		limit = n
	}
	after := q.Get("after")
	from := time.Unix(0, 0) // every store takes the epoch; not every one year 0
	if after != "" {
		t, _, _, err := payout.ParseEventID(after)
		if err != nil {
			return fieldError(http.StatusBadRequest, "after", "invalid_cursor", "after must be the id of an event this API listed or sent")
		}
		if t = t.Add(-time.Second); t.After(from) { // the store may keep datetimes to the second
			from = t
		}
	}
	settle := s.cfg.EventsSettle
	if settle <= 0 {
		settle = defaultEventsSettle
	}
	until := time.Now().Add(-settle - s.eventsCommitBound())
	ctx, cancel := s.withBusyBudget(c.Request().Context(), 0)
	defer cancel()
	events, err := s.eventsAfter(ctx, caller(c), from, after, until)
	if err != nil {
		return err
	}
	// A backend pulls the events of its own payouts only (mayReach), as it reads only those.
	events = slices.DeleteFunc(events, func(ev payout.Event) bool { return !mayReach(caller(c), ev.Data) })
	out := EventList{Events: events}
	if len(out.Events) > limit {
		out.Events, out.HasMore = out.Events[:limit], true
	}
	return c.JSON(http.StatusOK, out)
}

// eventsAfter reads the events published by payouts whose last event is at from or later, keeps those after the
// cursor id after and created by until, and sorts them by id. Runs of one payout (continue-as-new) carry the same
// events: each is kept once.
func (s *Server) eventsAfter(ctx context.Context, me Key, from time.Time, after string, until time.Time) ([]payout.Event, error) {
	query := fmt.Sprintf("WorkflowType = '%s' AND %s >= '%s'", workflows.WorkflowName, workflows.AttrEventAt.GetName(),
		from.UTC().Format(time.RFC3339Nano))
	if isBackend(me) {
		// A backend's own payouts only: another's are never even read (key names hold no quote: keyNameRE).
		query += fmt.Sprintf(" AND %s = '%s'", workflows.AttrCreatedBy.GetName(), me.Name)
	}
	seen := map[string]bool{}
	events := []payout.Event{}
	var token []byte
	for {
		res, err := s.listWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			PageSize: 1000, NextPageToken: token, Query: query,
		})
		if err != nil {
			return nil, fmt.Errorf("list payouts with events: %w", err)
		}
		for _, e := range res.GetExecutions() {
			p, ok := e.GetMemo().GetFields()[workflows.MemoEvents]
			if !ok {
				continue
			}
			var evs []payout.Event
			if err := s.cfg.DataConverter.FromPayload(p, &evs); err != nil {
				var de *codec.DecodeError
				if !errors.As(err, &de) {
					return nil, fmt.Errorf("read events of payout %s: %w", e.GetExecution().GetWorkflowId(), err)
				}
				// One payout this server cannot decrypt does not stop every backend's feed: its events are left
				// out, and a person must add its key back (README, "Rotating the codec key").
				s.logger(ctx).Error("events of a payout left out of GET /v1/events: its data does not decrypt with this "+
					"server's keyring", "payout_id", e.GetExecution().GetWorkflowId(), "key_id", de.KeyID, "key_missing", de.Missing)
				continue
			}
			for _, ev := range evs {
				if seen[ev.ID] || strings.Compare(ev.ID, after) <= 0 || ev.Created.After(until) {
					continue
				}
				seen[ev.ID] = true
				events = append(events, ev)
			}
		}
		if token = res.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	slices.SortFunc(events, func(a, b payout.Event) int { return strings.Compare(a.ID, b.ID) })
	return events, nil
}
