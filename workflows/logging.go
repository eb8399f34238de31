package workflows

import (
	"context"
	"errors"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/activities"
)

// PayoutLogging is the worker interceptor that makes every line the payout's workflow and activities log name the
// payout (payout_id) and its provider (provider), and logs how a provider call ended, at the level it deserves: a
// refusal is expected (INFO), an unknown outcome is looked up by the workflow (WARN). Add it to the worker's
// options (worker.Options.Interceptors) as &PayoutLogging{}.
type PayoutLogging struct {
	interceptor.WorkerInterceptorBase
}

// InterceptActivity implements interceptor.WorkerInterceptor.
func (*PayoutLogging) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	a := &activityLogging{}
	a.Next = next
	return a
}

// InterceptWorkflow implements interceptor.WorkerInterceptor.
func (*PayoutLogging) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	w := &workflowLogging{}
	w.Next = next
	return w
}

type workflowLogging struct {
	interceptor.WorkflowInboundInterceptorBase
	provider string
}

func (w *workflowLogging) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	o := &workflowLoggingOut{in: w}
	o.Next = outbound
	return w.Next.Init(o)
}

func (w *workflowLogging) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	if len(in.Args) > 0 {
		if input, ok := in.Args[0].(Input); ok {
			w.provider = input.Request.Provider
		}
	}
	return w.Next.ExecuteWorkflow(ctx, in)
}

type workflowLoggingOut struct {
	interceptor.WorkflowOutboundInterceptorBase
	in *workflowLogging
}

// GetLogger adds the payout's fields to the SDK's logger, which stays replay-safe (silent while replaying).
func (o *workflowLoggingOut) GetLogger(ctx workflow.Context) log.Logger {
	return log.With(o.Next.GetLogger(ctx), "payout_id", workflow.GetInfo(ctx).WorkflowExecution.ID, "provider", o.in.provider)
}

type activityLogging struct {
	interceptor.ActivityInboundInterceptorBase
	provider string
}

func (a *activityLogging) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	o := &activityLoggingOut{in: a}
	o.Next = outbound
	return a.Next.Init(o)
}

func (a *activityLogging) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	if len(in.Args) > 0 {
		switch c := in.Args[0].(type) {
		case activities.Call:
			a.provider = c.Provider
		case activities.SubmitCall:
			a.provider = c.Provider
		case activities.WatchCall:
			a.provider = c.Provider
		case activities.Delivery:
			a.provider = c.Event.Data.Provider
		}
	}
	out, err := a.Next.ExecuteActivity(ctx, in)
	var ae *temporal.ApplicationError
	if err != nil && errors.As(err, &ae) {
		lg := activity.GetLogger(ctx)
		switch ae.Type() {
		case activities.ErrRejected, activities.ErrExists:
			var r activities.Rejection
			_ = ae.Details(&r)
			lg.Info("provider refused", "kind", ae.Type(), "code", r.Code)
		case activities.ErrUnknownOutcome:
			lg.Warn("provider call of unknown outcome; the payout looks it up before anything else")
		}
	}
	return out, err
}

type activityLoggingOut struct {
	interceptor.ActivityOutboundInterceptorBase
	in *activityLogging
}

// GetLogger adds the payout's fields to the activity's logger: the workflow's id is the payout's.
func (o *activityLoggingOut) GetLogger(ctx context.Context) log.Logger {
	l := log.With(o.Next.GetLogger(ctx), "payout_id", o.Next.GetInfo(ctx).WorkflowExecution.ID)
	if o.in.provider != "" {
		l = log.With(l, "provider", o.in.provider)
	}
	return l
}
