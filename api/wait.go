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

// read is a payout's state as read by one Describe, with where it came from and the Describe.
type read struct {
	st     payout.State
	source string
	desc   *workflowservice.DescribeWorkflowExecutionResponse
}

// awaitState waits, up to w.wait, until the payout's state meets w (first is its state read at first), and returns
// the state it answers with and whether the condition was met. The waiters of one payout share one watcher, which
// a first waiter starts from its read.
func (s *Server) awaitState(ctx context.Context, id string, first read, w waitParams) (payout.State, string, bool) {
	st, source := first.st, first.source
	if w.met(st) || w.wait <= 0 {
		return st, source, w.met(st)
	}
	ctx, cancel := context.WithTimeout(ctx, w.wait)
	defer cancel()
	wt := s.watches.join(s, id, first)
	defer s.watches.leave(id, wt)
	for {
		got, gotSource, changed := wt.current()
		if gotSource != "" && !got.UpdatedAt.Before(st.UpdatedAt) {
			st, source = got, gotSource
			if w.met(st) {
				return st, source, true
			}
		}
		select {
		case <-ctx.Done():
			return st, source, false
		case <-changed:
		}
	}
}

// watchers are the payouts being waited for, one watcher each, shared by its waiters.
type watchers struct {
	mu sync.Mutex
	m  map[string]*watcher
}

// watcher follows one payout's history with a long poll (GetWorkflowHistory, WaitNewEvent): each state its
// workflow publishes (an upserted memo) wakes its waiters, with no query and no worker.
type watcher struct {
	waiters int
	stop    context.CancelFunc

	mu      sync.Mutex
	st      payout.State
	source  string
	changed chan struct{}
}

func (ws *watchers) join(s *Server, id string, first read) *watcher {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.m == nil {
		ws.m = map[string]*watcher{}
	}
	w, ok := ws.m[id]
	if !ok {
		ctx, stop := context.WithCancel(context.Background())
		w = &watcher{stop: stop, changed: make(chan struct{})}
		ws.m[id] = w
		go s.watch(ctx, id, w, first)
	}
	w.waiters++
	return w
}

func (ws *watchers) leave(id string, w *watcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if w.waiters--; w.waiters == 0 {
		w.stop()
		delete(ws.m, id)
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

// watch publishes the payout's state to w until ctx ends: first (the first waiter's read; else read once by a
// Describe), then each memo its workflow upserts after that read, as its history tells by long poll; a closed run
// (ended, or continued as new) is read again. A payout that publishes nothing (release 1's) is read again after
// each of its workflow tasks.
func (s *Server) watch(ctx context.Context, id string, w *watcher, first read) {
	pause := waitRetry
	for ctx.Err() == nil {
		st, source, desc := first.st, first.source, first.desc
		if desc == nil {
			var err error
			st, source, desc, err = s.readDescribed(ctx, id)
			if err != nil {
				if ctx.Err() == nil {
					s.logger(ctx).Warn("watch payout: read", "payout_id", id, "error", err)
				}
				sleepCtx(ctx, pause)
				pause = min(2*pause, waitRetryMax)
				continue
			}
			s.normaliseFailure(ctx, &st)
		}
		first, pause = read{}, waitRetry
		w.publish(st, source)
		if st.Status.Final() {
			<-ctx.Done()
			return
		}
		info := desc.GetWorkflowExecutionInfo()
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
				break
			}
			if ev.GetEventId() <= seen {
				continue
			}
			if source == stateLive && ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
				break // read again: release 1 tells its state only when asked
			}
			p, ok := ev.GetWorkflowPropertiesModifiedEventAttributes().GetUpsertedMemo().GetFields()[workflows.MemoState]
			if !ok {
				continue
			}
			var next payout.State
			if err := s.cfg.DataConverter.FromPayload(p, &next); err != nil {
				s.logger(ctx).Warn("watch payout: read published state", "payout_id", id, "error", err)
				break
			}
			s.normaliseFailure(ctx, &next)
			w.publish(next, statePublished)
			if next.Status.Final() {
				<-ctx.Done()
				return
			}
		}
		// The run closed (ended, or continued as new), or its history could not be read: read it again.
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
