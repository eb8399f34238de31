package api

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
)

// defaultBusyBudget is how long a request keeps asking a Temporal that refuses or times out its calls for want of
// capacity before it is answered 503: under the official client's 30 s timeout, which then sends it again.
const defaultBusyBudget = 20 * time.Second

// Back-off between two attempts of a call Temporal refused for want of capacity or time.
const (
	busyPauseFirst = 50 * time.Millisecond
	busyPauseMax   = time.Second
)

// busyBudget is Config.BusyBudget, or its default.
func (s *Server) busyBudget() time.Duration {
	if s.cfg.BusyBudget > 0 {
		return s.cfg.BusyBudget
	}
	return defaultBusyBudget
}

// withBusyBudget is ctx ending within busyBudget, or within at least d (a GET's wait).
func (s *Server) withBusyBudget(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, max(s.busyBudget(), d))
}

// untilServed calls call until it is served, fails for another reason than Temporal's want of capacity or time
// (temporalBusy), finds Temporal unreachable, or ctx ends (its deadline is the request's budget, busyBudget): an overloaded Temporal (a create waiting its
// turn for the one SQLite connection past its call's deadline, a rate limit) is asked again after a short,
// growing, jittered pause. Only calls that are safe to repeat are given to it: reads, a start under its payout's
// workflow ID (a repeat is "already started"), a decision (a repeat is ignored by the payout). It returns call's
// last error.
func untilServed(ctx context.Context, call func(ctx context.Context) error) error {
	pause := busyPauseFirst
	for {
		err := call(ctx)
		if err == nil || !temporalBusy(err) || unreachable(err) || ctx.Err() != nil {
			return err
		}
		sleepCtx(ctx, pause/2+rand.N(pause/2+1))
		if ctx.Err() != nil {
			return err
		}
		pause = min(2*pause, busyPauseMax)
	}
}

// unreachable reports whether err says that no connection to Temporal could be made (the SDK has already tried for
// its call's time): Temporal is down, not busy, and the client is told so at once.
func unreachable(err error) bool {
	var unavailable *serviceerror.Unavailable
	if !errors.As(err, &unavailable) {
		return false
	}
	msg := unavailable.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "connection error") ||
		strings.Contains(msg, "no such host")
}

// signalFailed answers a decision whose signal did not get through: to a payout that ended meanwhile (its closed
// workflow is not found), as to any decision on a finished payout; otherwise with the error.
func (s *Server) signalFailed(ctx context.Context, c echo.Context, id, signal string, err error) error {
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		if st, _, rerr := s.readOwn(ctx, c, id); rerr == nil && st.Status.Final() {
			return finished(id, st)
		}
	}
	return fmt.Errorf("signal %s to payout %s: %w", signal, id, err)
}

// listWorkflow reads a page of executions from visibility, asked again while Temporal is too busy (untilServed).
func (s *Server) listWorkflow(ctx context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	var res *workflowservice.ListWorkflowExecutionsResponse
	err := untilServed(ctx, func(ctx context.Context) (err error) {
		res, err = s.cfg.Client.ListWorkflow(ctx, req)
		return err
	})
	return res, err
}
