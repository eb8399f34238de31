package payout

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEventID_ParsesBackAndSortsByTimeThenPayoutThenSequence(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 22, 0, 0, 123456000, time.UTC)
	ids := []string{
		EventID(t0.Add(time.Second), "po_a", 1),
		EventID(t0, "po_b", 2),
		EventID(t0, "po_b", 10),
		EventID(t0, "po_a", 3),
		EventID(t0.Add(-time.Hour), "po_z", 1),
	}
	slices.SortFunc(ids, strings.Compare)
	require.Equal(t, []string{
		EventID(t0.Add(-time.Hour), "po_z", 1), EventID(t0, "po_a", 3), EventID(t0, "po_b", 2), EventID(t0, "po_b", 10),
		EventID(t0.Add(time.Second), "po_a", 1),
	}, ids)

	created, id, seq, err := ParseEventID(EventID(t0, "po_0123abcd", 7))
	require.NoError(t, err)
	require.Equal(t, t0, created)
	require.Equal(t, "po_0123abcd", id)
	require.Equal(t, 7, seq)
}

func TestParseEventID_RefusesWhatEventIDDoesNotMake(t *testing.T) {
	for _, id := range []string{"", "evt_", "evt_123_po_1_0001", "evt_000000000000000x_po_1_0001", "evt_0000000000000001_po_1_000a",
		"evt_0000000000000001_po_1_0000", "ev_0000000000000001_po_1_0001", "evt_0000000000000001po_1_0001"} {
		_, _, _, err := ParseEventID(id)
		require.Error(t, err, id)
	}
}

func TestEventFor_EveryStatusButSubmittedHasAnEvent(t *testing.T) {
	for s, want := range map[Status]EventType{
		StatusCreated: EventCreated, StatusSubmitted: "", StatusAwaitingApproval: EventAwaitingApproval,
		StatusConfirmed: EventConfirmed, StatusSucceeded: EventSucceeded, StatusFailed: EventFailed,
		StatusCancelled: EventCancelled, StatusNeedsAttention: EventNeedsAttention,
	} {
		require.Equal(t, want, EventFor(s), s)
	}
}

func TestNewEvent_DataIsASnapshot(t *testing.T) {
	s := NewState("po_1", Request{Provider: "bank131"}, time.Now())
	ev := NewEvent(EventCreated, s, 1, s.CreatedAt)
	s.Timeline = append(s.Timeline[:1], Entry{Note: "later"})
	s.Timeline[0].Note = "changed"
	require.Equal(t, "payout created", ev.Data.Timeline[0].Note)
	require.Len(t, ev.Data.Timeline, 1)
}
