package ops

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/payoutflow/payoutflow/metrics"
	"github.com/payoutflow/payoutflow/workflows"
)

// Visibility counts, every Every, what operators watch from Temporal's visibility store into the gauges of package
// metrics: payouts needing attention and awaiting approval by provider, approvals waiting past each of
// metrics.ApprovalAges, payouts contradicted, and the task queue's pollers. Each is a count query or a describe:
// no payout is read, and a scrape asks Temporal nothing.
type Visibility struct {
	Client    client.Client
	Namespace string
	TaskQueue string
	Providers []string // the configured providers' names
	Every     time.Duration
	Logger    *slog.Logger
	Now       func() time.Time // time.Now when nil
}

// Run refreshes the gauges at once, then every v.Every, until ctx is done.
func (v Visibility) Run(ctx context.Context) {
	for _, p := range v.Providers {
		metrics.Provider(p)
	}
	t := time.NewTicker(v.Every)
	defer t.Stop()
	for {
		if err := v.Refresh(ctx); err != nil {
			metrics.VisibilityRefreshes.WithLabelValues("failed").Inc()
			if ctx.Err() == nil {
				v.Logger.Warn("payout gauges not refreshed; they keep their last counts", "error", err)
			}
		} else {
			metrics.VisibilityRefreshes.WithLabelValues("ok").Inc()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pollerAlive is how recently a worker must have polled to count: a worker's long poll is renewed every minute or
// so, and Temporal remembers a poller for minutes after it is gone.
const pollerAlive = 2 * time.Minute

// running selects the running payout workflows.
const running = `WorkflowType = '` + workflows.WorkflowName + `' AND ExecutionStatus = 'Running'`

// Refresh counts once.
func (v Visibility) Refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, max(v.Every, 10*time.Second))
	defer cancel()
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	for _, p := range v.Providers {
		provider := fmt.Sprintf(" AND %s = '%s'", workflows.AttrProvider.GetName(), p)
		n, err := v.count(ctx, running+" AND "+workflows.AttrNeedsAttention.GetName()+" = true"+provider)
		if err != nil {
			return err
		}
		metrics.NeedingAttention.WithLabelValues(p).Set(n)
		if n, err = v.count(ctx, running+" AND "+workflows.AttrAwaitingApproval.GetName()+" = true"+provider); err != nil {
			return err
		}
		metrics.AwaitingApproval.WithLabelValues(p).Set(n)
	}
	for _, age := range metrics.ApprovalAges {
		d, err := time.ParseDuration(age)
		if err != nil {
			return fmt.Errorf("approval age %q: %w", age, err)
		}
		n, err := v.count(ctx, fmt.Sprintf("%s AND %s = true AND StartTime < '%s'", running,
			workflows.AttrAwaitingApproval.GetName(), now().Add(-d).UTC().Format(time.RFC3339Nano)))
		if err != nil {
			return err
		}
		metrics.AwaitingApprovalLongerThan.WithLabelValues(age).Set(n)
	}
	n, err := v.count(ctx, fmt.Sprintf("WorkflowType = '%s' AND %s = true", workflows.WorkflowName, workflows.AttrContradiction.GetName()))
	if err != nil {
		return err
	}
	metrics.Contradicted.Set(n)
	for name, typ := range map[string]enumspb.TaskQueueType{
		"workflow": enumspb.TASK_QUEUE_TYPE_WORKFLOW, "activity": enumspb.TASK_QUEUE_TYPE_ACTIVITY,
	} {
		resp, err := v.Client.DescribeTaskQueue(ctx, v.TaskQueue, typ)
		if err != nil {
			return fmt.Errorf("describe task queue %s: %w", v.TaskQueue, err)
		}
		alive := 0
		for _, p := range resp.GetPollers() {
			if p.GetLastAccessTime().AsTime().After(now().Add(-pollerAlive)) {
				alive++
			}
		}
		metrics.TaskQueuePollers.WithLabelValues(name).Set(float64(alive))
	}
	return nil
}

func (v Visibility) count(ctx context.Context, query string) (float64, error) {
	resp, err := v.Client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: v.Namespace, Query: query})
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", query, err)
	}
	return float64(resp.GetCount()), nil
}
