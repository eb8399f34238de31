package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/workflows"
)

// unpublishedReadTimeout bounds the query of a payout that published no state (release 1's): time for a worker to
// replay its history; past it the read is refused as unavailable rather than held while no worker answers.
const unpublishedReadTimeout = 10 * time.Second

// Where a payout's state was read from (header Payout-State-Source): what its workflow published to its memo with
// the task that changed it (published), which needs no worker and is as current as the payout's history; or, for a
// payout that publishes nothing (release 1's), its workflow (live). Payout-State-As-Of tells how fresh it is.
const (
	stateLive      = "live"
	statePublished = "published"
)

// state reads a payout's state (readState).
func (s *Server) state(ctx context.Context, id string) (payout.State, error) {
	st, _, err := s.readState(ctx, id)
	return st, err
}

// readRawState reads a payout's state: the state its workflow published to its memo (one Describe, answered by
// Temporal from the payout's mutable state, with no worker), or, for a payout that publishes none, the state its
// workflow answers to a query.
func (s *Server) readRawState(ctx context.Context, id string) (payout.State, string, error) {
	st, source, _, err := s.readDescribed(ctx, id)
	return st, source, err
}

// readDescribed is readRawState that also returns the Describe it read the state from.
func (s *Server) readDescribed(ctx context.Context, id string) (payout.State, string, *workflowservice.DescribeWorkflowExecutionResponse, error) {
	var st payout.State
	desc, err := s.cfg.Client.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return st, "", nil, apiError(http.StatusNotFound, "payout_not_found", "no payout with id "+id)
	case err != nil:
		return st, "", nil, fmt.Errorf("describe payout %s: %w", id, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	p, ok := info.GetMemo().GetFields()[workflows.MemoState]
	if initial, fresh := info.GetMemo().GetFields()[memoInitialState]; !ok && fresh && (versioned(info) || s.notRunYet(ctx, id, info)) {
		// No workflow task has completed yet, or the worker that ran it records a version (release 1 does not)
		// and has published nothing since (a change no backend acts on waits, workflows.versionQuiet): the state
		// the API started it with is the state.
		p, ok = initial, true
	}
	if ok {
		if err := s.cfg.DataConverter.FromPayload(p, &st); err != nil {
			return st, "", nil, fmt.Errorf("read published state of payout %s: %w", id, err)
		}
		return st, statePublished, desc, nil
	}
	// A payout run by release 1 (started by it, or by this API and taken by its worker) publishes nothing: it is
	// read only by asking its workflow, given the time a worker needs to replay it.
	qctx, cancel := context.WithTimeout(ctx, unpublishedReadTimeout)
	defer cancel()
	v, err := s.cfg.Client.QueryWorkflow(qctx, id, "", workflows.QueryState)
	if err != nil && qctx.Err() != nil && ctx.Err() == nil {
		return st, "", nil, apiError(http.StatusServiceUnavailable, "payout_unavailable", fmt.Sprintf("payout %s has published no state and no "+
			"worker answered for it within %s; try again", id, unpublishedReadTimeout))
	}
	if err != nil {
		return st, "", nil, fmt.Errorf("query payout %s: %w", id, err)
	}
	if err := v.Get(&st); err != nil {
		return st, "", nil, fmt.Errorf("read state of payout %s: %w", id, err)
	}
	return st, stateLive, desc, nil
}

// changeVersionAttr is the search attribute the Temporal SDK records a workflow's versions in (workflow.GetVersion).
const changeVersionAttr = "TemporalChangeVersion"

// versioned reports whether a worker that records the workflow's version has run the payout: every release since
// release 1 does, in its first workflow task (the TemporalChangeVersion search attribute).
func versioned(info *workflowpb.WorkflowExecutionInfo) bool {
	_, ok := info.GetSearchAttributes().GetIndexedFields()[changeVersionAttr]
	return ok
}

// notRunYet reports whether no workflow task of the payout's run has completed: its history is no longer than a
// first task's, or holds no completed task (its first task timed out or failed on a busy worker, and is tried
// again). A payout whose task completed without publishing was run by release 1.
func (s *Server) notRunYet(ctx context.Context, id string, info *workflowpb.WorkflowExecutionInfo) bool {
	if info.GetHistoryLength() <= firstTaskEvents {
		return true
	}
	events := s.cfg.Client.GetWorkflowHistory(ctx, id, info.GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for events.HasNext() {
		ev, err := events.Next()
		if err != nil {
			return false // asked of the workflow instead
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			return false
		}
	}
	return true
}
