package driver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/status"

	"github.com/payoutflow/payoutflow/internal/bench/peer"
)

// Peer runs the peer's payouts through the Temporal SDK: start the workflow, confirm by an Update that its handler
// completes once ready_to_confirm came (one call, no polling, as payoutflow's long-poll GET and confirm are two),
// wait for the result.
type Peer struct {
	Client client.Client
	Logf   func(format string, args ...any)
}

func (p *Peer) Name() string { return "peer" }

// Payout runs one payout.
func (p *Peer) Payout(ctx context.Context, key string, rec *Recorder) (string, error) {
	id := "peer-" + key
	run, err := p.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: peer.TaskQueue},
		peer.WorkflowName, peer.Input{PayoutID: id, Amount: 10000})
	if err != nil {
		return id, grpcFailure("start", err)
	}
	// An update the server aborted (its store write timed out under load) is sent again under the same id, which the
	// server deduplicates, as payoutflow's driver sends a confirm again after a 5xx.
	for {
		h, err := p.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, RunID: run.GetRunID(),
			UpdateID: id + "-confirm", UpdateName: peer.UpdateConfirm, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err == nil {
			break
		}
		var app *temporal.ApplicationError
		if ctx.Err() != nil || errors.As(err, &app) {
			return id, grpcFailure("confirm", err)
		}
		if rec.Error(grpcFailure("confirm (retried)", err).Kind) == 1 {
			p.Logf("peer: first confirm sent again: %v", err)
		}
		if sleep(ctx, 100*time.Millisecond) != nil {
			return id, grpcFailure("confirm", err)
		}
	}
	var result string
	if err := run.Get(ctx, &result); err != nil {
		return id, grpcFailure("result", err)
	}
	if result != peer.StatusSucceeded {
		return id, &Failure{Kind: "ended " + result}
	}
	return id, nil
}

// Events counts a payout's history.
func (p *Peer) Events(ctx context.Context, id string) (int, error) {
	return historyLength(ctx, p.Client, id)
}

// grpcFailure counts an SDK error by its gRPC code.
func grpcFailure(what string, err error) *Failure {
	if s, ok := status.FromError(err); ok {
		return &Failure{Kind: fmt.Sprintf("%s: %s", what, s.Code()), Err: err}
	}
	return &Failure{Kind: what + ": error", Err: err}
}
