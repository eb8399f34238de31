package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/metrics"
	"github.com/payoutflow/payoutflow/payout"
)

// Metrics a payout emits through workflow.GetMetricsHandler, which skips replays: each is emitted once, by the
// worker that runs the change. Prometheus sees counters with _total and timers with _seconds appended.
const (
	// MetricFinished counts payouts that reached a final status, by provider, method, status and failure_code.
	MetricFinished = "payoutflow_payouts_finished"
	// MetricDuration is the time from a payout's creation to its final status, by provider, method and status.
	MetricDuration = "payoutflow_payout_duration"
	// MetricApprovalWait is how long a payout waited for approval, by provider and what ended the wait (the status
	// it went to: confirmed, submitted, cancelled, …).
	MetricApprovalWait = "payoutflow_approval_wait"
)

// measure emits the metrics of a status change from prev to the payout's status now.
func (p *run) measure(ctx workflow.Context, prev payout.Status) {
	s := p.state.Status
	if s == prev {
		return
	}
	now := workflow.Now(ctx)
	h := workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"provider": p.state.Provider, "method": p.state.Method})
	switch {
	case s == payout.StatusAwaitingApproval:
		p.approvalSince = now
	case prev == payout.StatusAwaitingApproval && !p.approvalSince.IsZero():
		h.WithTags(map[string]string{"outcome": string(s)}).Timer(MetricApprovalWait).Record(now.Sub(p.approvalSince))
	}
	if s.Final() && !prev.Final() {
		code := ""
		if p.state.Failure != nil {
			code = p.state.Failure.Code
		}
		h = h.WithTags(map[string]string{"status": string(s)})
		h.WithTags(map[string]string{"failure_code": metrics.Code(code)}).Counter(MetricFinished).Inc(1)
		h.Timer(MetricDuration).Record(now.Sub(p.state.CreatedAt))
	}
}
