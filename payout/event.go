package payout

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EventType names what happened to a payout, as backends receive it (README, "Events").
type EventType string

// The events of a payout: one per status it enters that backends act on, and one when the provider contradicts how
// it ended.
const (
	EventCreated          EventType = "payout.created"
	EventAwaitingApproval EventType = "payout.awaiting_approval"
	EventConfirmed        EventType = "payout.confirmed"
	EventSucceeded        EventType = "payout.succeeded"
	EventFailed           EventType = "payout.failed"
	EventCancelled        EventType = "payout.cancelled"
	EventNeedsAttention   EventType = "payout.needs_attention"
	EventContradiction    EventType = "payout.contradiction"
)

// EventFor is the event of a payout entering status s; "" for a status that has none (submitted).
func EventFor(s Status) EventType {
	switch s {
	case StatusCreated:
		return EventCreated
	case StatusAwaitingApproval:
		return EventAwaitingApproval
	case StatusConfirmed:
		return EventConfirmed
	case StatusSucceeded:
		return EventSucceeded
	case StatusFailed:
		return EventFailed
	case StatusCancelled:
		return EventCancelled
	case StatusNeedsAttention:
		return EventNeedsAttention
	}
	return ""
}

// Event is one thing that happened to a payout, as pushed to backends and listed by GET /v1/events. Data is the
// payout as GET /v1/payouts/{id} returned it at that moment.
type Event struct {
	ID       string    `json:"id"`
	Type     EventType `json:"type"`
	Created  time.Time `json:"created"`
	PayoutID string    `json:"payout_id"`
	// Sequence numbers a payout's events from 1, in the order they happened.
	Sequence int   `json:"sequence"`
	Data     State `json:"data"`
}

// NewEvent is the event of type typ of the payout in state s, the sequence-th of the payout, at created.
func NewEvent(typ EventType, s State, sequence int, created time.Time) Event {
	created = created.UTC()
	s.Timeline, s.Approvals = slices.Clone(s.Timeline), slices.Clone(s.Approvals) // a snapshot: the payout goes on
	return Event{ID: EventID(created, s.ID, sequence), Type: typ, Created: created, PayoutID: s.ID, Sequence: sequence, Data: s}
}

// eventIDPrefix starts every event id.
const eventIDPrefix = "evt_"

// EventID is the id of a payout's sequence-th event, created at created: "evt_<16-digit Unix microseconds>_<payout
// id>_<4-digit sequence>". Ids sort as strings by time, then payout, then sequence, so that a backend's cursor (the
// last id it read) orders every event.
func EventID(created time.Time, payoutID string, sequence int) string {
	return fmt.Sprintf("%s%016d_%s_%04d", eventIDPrefix, created.UnixMicro(), payoutID, sequence)
}

// ParseEventID reads the time, payout id and sequence out of an event id made by EventID.
func ParseEventID(id string) (created time.Time, payoutID string, sequence int, err error) {
	rest, ok := strings.CutPrefix(id, eventIDPrefix)
	if !ok || len(rest) < 16+1+1+1+4 || rest[16] != '_' || rest[len(rest)-5] != '_' {
		return time.Time{}, "", 0, fmt.Errorf("event id %q is not one payoutflow made", id)
	}
	micros, err1 := strconv.ParseInt(rest[:16], 10, 64)
	seq, err2 := strconv.Atoi(rest[len(rest)-4:])
	if err1 != nil || err2 != nil || micros < 0 || seq < 1 {
		return time.Time{}, "", 0, fmt.Errorf("event id %q is not one payoutflow made", id)
	}
	return time.UnixMicro(micros).UTC(), rest[17 : len(rest)-5], seq, nil
}
