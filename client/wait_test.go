package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// Wait pauses at least minPoll between reads, whatever WithPolling asks, and its pauses grow: a 1 ns polling
// does not make it hammer the API.
func TestWaitPollsNoFasterThanItsFloorWhateverWithPollingAsks(t *testing.T) {
	for _, tc := range []struct {
		name        string
		first, most time.Duration
	}{
		{"1ns and 1ns", time.Nanosecond, time.Nanosecond},
		{"1ns growing to 1s", time.Nanosecond, time.Second},
		{"zero", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reads atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reads.Add(1)
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"id":"po_1","status":"submitted"}`))
			}))
			t.Cleanup(srv.Close)
			c, err := New(srv.URL, "pf_key", WithPolling(tc.first, tc.most))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err = c.Wait(ctx, "po_1")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Wait: %v, want the deadline", err)
			}
			if n, most := reads.Load(), int64(300*time.Millisecond/minPoll)+1; n < 1 || n > most {
				t.Fatalf("Wait read the payout %d times in 300 ms, want 1 to %d", n, most)
			}
		})
	}
}

// Wait asks an API that long-polls to wait (wait and until), and asks again at once when the wait passed first:
// it learns the status when the API answers, without polls of its own.
func TestWaitLongPollsAnAPIThatWaits(t *testing.T) {
	var reads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := reads.Add(1)
		if r.URL.Query().Get("until") != "awaiting_approval,succeeded" {
			t.Errorf("until = %q", r.URL.Query().Get("until"))
		}
		if d, err := time.ParseDuration(r.URL.Query().Get("wait")); err != nil || d <= 0 || d > longPoll {
			t.Errorf("wait = %q", r.URL.Query().Get("wait"))
		}
		status, met := "submitted", "false"
		if n == 3 {
			status, met = "awaiting_approval", "true"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Payout-Wait-Met", met)
		_, _ = w.Write([]byte(`{"id":"po_1","status":"` + status + `"}`))
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "pf_key", WithPolling(time.Hour, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := c.Wait(ctx, "po_1", StatusAwaitingApproval, StatusSucceeded)
	if err != nil || p.Status != StatusAwaitingApproval {
		t.Fatalf("Wait: %v, %v", p, err)
	}
	if n := reads.Load(); n != 3 {
		t.Fatalf("Wait read the payout %d times, want 3 (no pause between long polls)", n)
	}
}
