package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/workflows"
)

// maxWait is the longest a GET waits for a payout (?wait=).
const maxWait = 60 * time.Second

// waitRetry is the first pause before a watcher whose Temporal call failed watches again; it doubles up to
// waitRetryMax while the calls fail (an overloaded Temporal is not asked more often by its watchers).
const (
	waitRetry    = time.Second
	waitRetryMax = 8 * time.Second
)

// endRecheck is how often a watcher that waits for the payout's run to close reads the payout again meanwhile: an
// operator's mark publishes a final state while the run goes on.
const endRecheck = 10 * time.Second

// waitParams are a GET's long-poll parameters: wait=<duration up to 60s>, until=<status,status,...>.
type waitParams struct {
	wait  time.Duration
	until []payout.Status
}

// parseWait reads wait and until; none given is no wait.
func parseWait(c echo.Context) (waitParams, error) {
	var w waitParams
	q := c.QueryParams()
	if v, ok := q["wait"]; ok {
		d, err := time.ParseDuration(v[0])
		if err != nil || d <= 0 || d > maxWait || len(v) > 1 {
			return w, fieldError(http.StatusBadRequest, "wait", "invalid_wait",
				"wait is a duration greater than 0 and at most 60s, such as 30s or 500ms")
		}
		w.wait = d
	}
	if v, ok := q["until"]; ok {
		if w.wait == 0 {
			return w, fieldError(http.StatusBadRequest, "until", "wait_required", "until is used only with wait, such as wait=30s")
		}
		for _, name := range strings.Split(strings.Join(v, ","), ",") {
			name = strings.TrimSpace(name)
			if !slices.Contains(statuses, name) {
				return w, fieldError(http.StatusBadRequest, "until", "invalid_status",
					fmt.Sprintf("until names %q, which is not a payout status; use some of %s", name, strings.Join(statuses, ", ")))
			}
			w.until = append(w.until, payout.Status(name))
		}
	}
	return w, nil
}

// met reports whether a waiting GET answers: the payout is in one of until, or final.
func (w waitParams) met(st payout.State) bool {
	return st.Status.Final() || slices.Contains(w.until, st.Status)
}

// endOnly reports whether only a final state meets w: no status of until is one a payout passes through.
func (w waitParams) endOnly() bool {
	return !slices.ContainsFunc(w.until, func(s payout.Status) bool { return !s.Final() })
}

// read is a payout's state as read by one Describe, with where it came from and the Describe.
type read struct {
	st     payout.State
	source string
	desc   *workflowservice.DescribeWorkflowExecutionResponse
}

// awaitState waits, up to w.wait, until the payout's state meets w (first is its state read at first), and returns
// the state it answers with and whether the condition was met. The waiters of one payout share one watcher, which
// a first waiter starts from its read; those waiting for its end only share one that waits for its run to close.
func (s *Server) awaitState(ctx context.Context, id string, first read, w waitParams) (payout.State, string, bool) {
	st, source := first.st, first.source
	if w.met(st) || w.wait <= 0 {
		return st, source, w.met(st)
	}
	waitCtx, cancel := context.WithTimeout(ctx, w.wait)
	defer cancel()
	key := watchKey{id: id, endOnly: w.endOnly() && !s.deliversEvents()}
	wt := s.watches.join(s, key, first)
	defer s.watches.leave(key, wt)
	for {
		got, gotSource, changed := wt.current()
		if gotSource != "" && !got.UpdatedAt.Before(st.UpdatedAt) {
			st, source = got, gotSource
			if w.met(st) {
				return st, source, true
			}
		}
		select {
		case <-waitCtx.Done():
			if key.endOnly && ctx.Err() == nil {
				// The end-only watcher reads the payout only every endRecheck: the answer is the state of this
				// moment, as a history-following one's is.
				st, source = s.readAtWaitsEnd(ctx, id, st, source)
			}
			return st, source, w.met(st)
		case <-changed:
		}
	}
}

// waitsEndRead bounds the read a waiting GET makes when its wait has passed.
const waitsEndRead = 2 * time.Second

// readAtWaitsEnd reads the payout once more when a wait for its end has passed; what it last knew (st) if the read
// fails or is older.
func (s *Server) readAtWaitsEnd(ctx context.Context, id string, st payout.State, source string) (payout.State, string) {
	ctx, cancel := context.WithTimeout(ctx, waitsEndRead)
	defer cancel()
	now, err := s.readWatched(ctx, id)
	if err != nil || now.st.UpdatedAt.Before(st.UpdatedAt) {
		return st, source
	}
	return now.st, now.source
}

// deliversEvents reports whether the API's payouts deliver events to endpoints (EVENTS_URL, EVENTS_FOR): such a
// payout's run stays open after its final state until its events are delivered, so a wait for its end follows its
// history rather than waiting for its run to close.
func (s *Server) deliversEvents() bool {
	return len(s.cfg.Events.Endpoints) > 0 || s.cfg.EventsFor != nil
}

// watchers are the payouts being waited for, one watcher each (two when some wait for the payout's end only and
// others for a status on the way), shared by its waiters.
type watchers struct {
	mu sync.Mutex
	m  map[watchKey]*watcher
}

// watchKey names a watcher: the payout, and whether it follows only the end of the payout's run (a close-event long
// poll, which reads no history until the run closes) or every state it publishes (its history, by long poll).
type watchKey struct {
	id      string
	endOnly bool
}

// watcher follows one payout, by its history (watch) or by its run's end (watchEnd): each state its workflow
// publishes (an upserted memo) wakes its waiters, with no query and no worker.
type watcher struct {
	waiters int
	stop    context.CancelFunc

	mu      sync.Mutex
	st      payout.State
	source  string
	changed chan struct{}
}

func (ws *watchers) join(s *Server, key watchKey, first read) *watcher {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.m == nil {
		ws.m = map[watchKey]*watcher{}
	}
	w, ok := ws.m[key]
	if !ok {
		ctx, stop := context.WithCancel(context.Background())
		w = &watcher{stop: stop, changed: make(chan struct{})}
		ws.m[key] = w
		if key.endOnly {
			go s.watchEnd(ctx, key.id, w, first)
		} else {
			go s.watch(ctx, key.id, w, first)
		}
	}
	w.waiters++
	return w
}

func (ws *watchers) leave(key watchKey, w *watcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if w.waiters--; w.waiters == 0 {
		w.stop()
		delete(ws.m, key)
	}
}

// count is how many payouts are watched.
func (ws *watchers) count() int {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return len(ws.m)
}

func (w *watcher) current() (payout.State, string, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st, w.source, w.changed
}

func (w *watcher) publish(st payout.State, source string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.st, w.source = st, source
	close(w.changed)
	w.changed = make(chan struct{})
}

// watch publishes the payout's state to w until ctx ends (follow), with each state its workflow publishes
// (followHistory).
func (s *Server) watch(ctx context.Context, id string, w *watcher, first read) {
	s.follow(ctx, id, w, first, func(ctx context.Context, r read) bool { return s.followHistory(ctx, id, w, r) })
}

// followHistory publishes to w each memo the payout's workflow upserts after the read r, as its history tells by
// long poll, until the run closes (ended, or continued as new: read it again) or a final state is published (true).
// A payout that publishes nothing (release 1's) is read again after each of its workflow tasks.
func (s *Server) followHistory(ctx context.Context, id string, w *watcher, r read) bool {
	info := r.desc.GetWorkflowExecutionInfo()
	seen := info.GetHistoryLength()
	events := s.cfg.Client.GetWorkflowHistory(ctx, id, info.GetExecution().GetRunId(), true,
		enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for events.HasNext() {
		ev, err := events.Next()
		if err != nil {
			if ctx.Err() == nil {
				s.logger(ctx).Warn("watch payout: history", "payout_id", id, "error", err)
				sleepCtx(ctx, waitRetry)
			}
			return false
		}
		if ev.GetEventId() <= seen {
			continue
		}
		if r.source == stateLive && ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			return false // read again: release 1 tells its state only when asked
		}
		p, ok := ev.GetWorkflowPropertiesModifiedEventAttributes().GetUpsertedMemo().GetFields()[workflows.MemoState]
		if !ok {
			continue
		}
		var next payout.State
		if err := s.cfg.DataConverter.FromPayload(p, &next); err != nil {
			s.logger(ctx).Warn("watch payout: read published state", "payout_id", id, "error", err)
			return false
		}
		s.normaliseFailure(ctx, &next)
		w.publish(next, statePublished)
		if next.Status.Final() {
			return true
		}
	}
	return false // the run closed (ended, or continued as new): read it again
}

// watchEnd publishes the payout's state to w until ctx ends (follow), for waiters that only its end answers: read
// again each time its run closes (ended, or continued as new), or endRecheck passes. It waits with a close-event
// long poll, which Temporal answers from the payout's mutable state, reading no history until the run closes: the
// payout's history is not read, nor sent, at each of its workflow tasks. A payout that needs attention may be ended
// by an operator's mark while its run goes on (listening for its provider): its history is followed. The recheck
// finds such a final state in the other cases.
func (s *Server) watchEnd(ctx context.Context, id string, w *watcher, first read) {
	s.follow(ctx, id, w, first, func(ctx context.Context, r read) bool {
		if r.st.Status == payout.StatusNeedsAttention {
			return s.followHistory(ctx, id, w, r)
		}
		cycle, cancel := context.WithTimeout(ctx, endRecheck)
		defer cancel()
		events := s.cfg.Client.GetWorkflowHistory(cycle, id, r.desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(), true,
			enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
		var err error
		if events.HasNext() {
			_, err = events.Next()
		}
		if err != nil && cycle.Err() == nil && ctx.Err() == nil {
			s.logger(ctx).Warn("watch payout: wait for its end", "payout_id", id, "error", err)
			sleepCtx(ctx, waitRetry)
		}
		return false
	})
}

// follow publishes the payout's state to w until ctx ends: first (the first waiter's read; else read by a
// Describe), then after each wait, which watches for what comes next and tells whether what it published was
// final, a Describe's again; until the state is final or the run ended. A read that fails is tried again after a
// pause that doubles while reads fail.
func (s *Server) follow(ctx context.Context, id string, w *watcher, first read, wait func(context.Context, read) (final bool)) {
	r, pause := first, time.Duration(0)
	for ctx.Err() == nil {
		if r.desc == nil {
			var err error
			if r, err = s.readWatched(ctx, id); err != nil {
				if ctx.Err() == nil {
					s.logger(ctx).Warn("watch payout: read", "payout_id", id, "error", err)
				}
				pause = min(max(2*pause, waitRetry), waitRetryMax)
				sleepCtx(ctx, pause)
				continue
			}
			pause = 0
		}
		w.publish(r.st, r.source)
		if r.st.Status.Final() || ended(r.desc) || wait(ctx, r) {
			<-ctx.Done()
			return
		}
		r = read{}
	}
}

// readWatched reads the payout for a watcher: its state, its failure in the vocabulary, and the Describe.
func (s *Server) readWatched(ctx context.Context, id string) (read, error) {
	st, source, desc, err := s.readDescribed(ctx, id)
	if err != nil {
		return read{}, err
	}
	s.normaliseFailure(ctx, &st)
	return read{st: st, source: source, desc: desc}, nil
}

// ended reports whether the payout's run ended (terminated, failed, timed out) and was not continued: whatever it
// published last is all it will publish.
func ended(desc *workflowservice.DescribeWorkflowExecutionResponse) bool {
	info := desc.GetWorkflowExecutionInfo()
	return info.GetCloseTime() != nil && info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
