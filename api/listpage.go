package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// Temporal's SQL visibility (SQLite, PostgreSQL, MySQL) takes no ORDER BY: it lists running workflows first and
// closed ones by close time. The list is sorted by creation time here: a page is the newest payouts created before
// the page's cursor, found in windows of StartTime that widen until they hold a page (and narrow when one holds more
// than windowCap), and the page token is that cursor, signed so that a token this API did not give is refused
// without asking Temporal.

const (
	// firstWindow is the first window tried: narrow, so that a burst of payouts does not make the first read large;
	// it widens (×4) while it holds less than a page.
	firstWindow = time.Minute
	// minWindowCap is the least a window may hold to be read: four pages, at least this. A window that holds more
	// is halved, down to a second, which is read whole.
	minWindowCap = 100
	// allTime is the widest window: past it, the last window has no lower bound.
	allTime = 30 * 365 * 24 * time.Hour
)

// cursor is where the next page starts: the payouts created before At, and those created at At but not in Seen.
type cursor struct {
	At   time.Time `json:"at"`
	Seen []string  `json:"seen,omitempty"`
}

// pageToken signs a cursor for the query it pages through.
func (s *Server) pageToken(query string, c cursor) string {
	b, _ := json.Marshal(c) // a time and strings always marshal
	return base64.RawURLEncoding.EncodeToString(append(s.tokenMAC(query, b), b...))
}

// readPageToken returns the cursor of a token this API gave for this query; anything else is 400.
func (s *Server) readPageToken(query, token string) (cursor, error) {
	bad := fieldError(http.StatusBadRequest, "page_token", "invalid_page_token",
		"page_token is not one this API gave for this list; start again without it")
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < sha256.Size/2 {
		return cursor{}, bad
	}
	mac, b := raw[:sha256.Size/2], raw[sha256.Size/2:]
	var c cursor
	if !hmac.Equal(mac, s.tokenMAC(query, b)) || json.Unmarshal(b, &c) != nil || c.At.IsZero() {
		return cursor{}, bad
	}
	return c, nil
}

func (s *Server) tokenMAC(query string, b []byte) []byte {
	m := hmac.New(sha256.New, append([]byte("payoutflow list page token\x00"), s.cfg.DecisionKey...))
	m.Write([]byte(query))
	m.Write([]byte{0})
	m.Write(b)
	return m.Sum(nil)[:sha256.Size/2]
}

// newest lists up to limit payouts that match query (which bounds them by after, if set) created before the
// cursor, newest first; next is the cursor of the page after, nil when there is none.
func (s *Server) newest(ctx context.Context, query string, after time.Time, from cursor, limit int) ([]*workflowpb.WorkflowExecutionInfo, *cursor, error) {
	var found []*workflowpb.WorkflowExecutionInfo
	upper, w := from.At, firstWindow
	seen := from.Seen
	windowCap := max(4*limit, minWindowCap)
	grow := time.Duration(4) // how much the next window widens: no more once one was too full
	for {
		lower, last := upper.Add(-w), false
		switch {
		case !after.IsZero() && !lower.After(after):
			lower, last = time.Time{}, true // the query's own StartTime >= after bounds the last window
		case after.IsZero() && w >= allTime:
			lower, last = time.Time{}, true
		}
		window := fmt.Sprintf("%s AND StartTime <= '%s'", query, upper.Format(time.RFC3339Nano))
		if !lower.IsZero() {
			window += fmt.Sprintf(" AND StartTime > '%s'", lower.Format(time.RFC3339Nano))
		}
		// Counted first: a count carries no memo, so a window too full to sort here costs the server little.
		var n *workflowservice.CountWorkflowExecutionsResponse
		err := untilServed(ctx, func(ctx context.Context) (err error) {
			n, err = s.cfg.Client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: window})
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("count payouts: %w", err)
		}
		if n.GetCount() > int64(windowCap) && w > time.Second {
			w, grow = w/2, 1 // too many to sort here: a narrower window, and windows no wider after it
			continue
		}
		var got []*workflowpb.WorkflowExecutionInfo
		if n.GetCount() > 0 {
			// The whole window (those created within one second too, however many, or some would be skipped).
			if got, err = s.listAll(ctx, window); err != nil {
				return nil, nil, err
			}
		}
		for _, e := range got {
			if !(e.GetStartTime().AsTime().Equal(upper) && slices.Contains(seen, e.GetExecution().GetWorkflowId())) {
				found = append(found, e)
			}
		}
		if len(found) >= limit || last {
			break
		}
		upper, seen, w = lower, nil, w*grow
	}
	slices.SortStableFunc(found, func(a, b *workflowpb.WorkflowExecutionInfo) int {
		if c := b.GetStartTime().AsTime().Compare(a.GetStartTime().AsTime()); c != 0 {
			return c
		}
		return strings.Compare(a.GetExecution().GetWorkflowId(), b.GetExecution().GetWorkflowId())
	})
	if len(found) < limit {
		return found, nil, nil
	}
	found = found[:limit]
	next := &cursor{At: found[limit-1].GetStartTime().AsTime()}
	for _, e := range found {
		if e.GetStartTime().AsTime().Equal(next.At) {
			next.Seen = append(next.Seen, e.GetExecution().GetWorkflowId())
		}
	}
	if next.At.Equal(from.At) {
		next.Seen = append(next.Seen, from.Seen...) // still at the same instant: what came before stays seen
	}
	return found, next, nil
}

// listAll reads every execution of a query.
func (s *Server) listAll(ctx context.Context, query string) ([]*workflowpb.WorkflowExecutionInfo, error) {
	var out []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		res, err := s.listWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			PageSize: 1000, NextPageToken: token, Query: query,
		})
		if err != nil {
			return nil, fmt.Errorf("list payouts: %w", err)
		}
		out = append(out, res.GetExecutions()...)
		if token = res.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}
