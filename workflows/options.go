package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/activities"
)

// TaskQueue is the default task queue of payout workflows and their activities.
const TaskQueue = "payouts"

// Register registers the payout workflow and its activities on a worker.
func Register(w worker.Registry, a *activities.Activities) {
	w.RegisterWorkflowWithOptions(PayoutWorkflow, workflowRegisterOptions())
	w.RegisterActivity(a)
}

// withOneAttempt is for calls that move money or change the payout at the provider: never retried by Temporal.
// The client's own timeout is 30 s; the activity gets a little more.
func withOneAttempt(ctx workflow.Context) workflow.Context {
	return withOneAttemptFor(ctx, time.Minute)
}

// heartbeatTimeout is how soon a worker that died during a call that moves money is noticed: its outcome is then
// looked up. The activities heartbeat every 5 s.
const heartbeatTimeout = 30 * time.Second

// withOneAttemptFor is withOneAttempt for a call the provider advises to give more time (a create that may take 10 minutes).
func withOneAttemptFor(ctx workflow.Context, timeout time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		HeartbeatTimeout:    heartbeatTimeout,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
}

// withSafeRetries is for calls that move no money: retried with back-off for a few minutes.
func withSafeRetries(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, safeRetries())
}

// safeRetries are the activity options of withSafeRetries.
func safeRetries() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrRejected, activities.ErrConfig},
		},
	}
}

// withLookupRetries is for status lookups: retried for up to an hour before the payout is handed to an operator.
func withLookupRetries(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, lookupRetries())
}

// lookupRetries are the activity options of withLookupRetries.
func lookupRetries() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrConfig},
		},
	}
}

func workflowRegisterOptions() workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: WorkflowName}
}
