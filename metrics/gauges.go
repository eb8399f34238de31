package metrics

import "github.com/prometheus/client_golang/prometheus"

// ApprovalAges are the ages by which payouts awaiting approval are counted
// (payoutflow_payouts_awaiting_approval_longer_than), as Prometheus durations.
var ApprovalAges = []string{"15m", "1h", "4h", "12h", "24h"}

// Gauges counted from Temporal's visibility store on a timer (internal/ops.WatchVisibility): a scrape reads the
// last counts and asks nothing.
var (
	NeedingAttention = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "payoutflow_payouts_needing_attention",
		Help: "Running payouts in status needs_attention (an operator must act), by provider.",
	}, []string{"provider"})
	AwaitingApproval = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "payoutflow_payouts_awaiting_approval",
		Help: "Running payouts waiting for approval, by provider.",
	}, []string{"provider"})
	AwaitingApprovalLongerThan = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "payoutflow_payouts_awaiting_approval_longer_than",
		Help: "Payouts waiting for approval whose run started more than age ago (15m, 1h, 4h, 12h, 24h).",
	}, []string{"age"})
	Contradicted = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "payoutflow_payouts_contradicted",
		Help: "Payouts (running or closed, within the namespace's retention) whose provider contradicted how they ended.",
	})
	TaskQueuePollers = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "payoutflow_task_queue_pollers",
		Help: "Workers that polled the payouts' task queue in the last 2 minutes, as Temporal reports them, by task type (workflow, activity).",
	}, []string{"type"})
	// ProviderCredentialsOK is set by the readiness checks (internal/health), at start and every PROVIDER_CHECK_EVERY.
	ProviderCredentialsOK = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "payoutflow_provider_credentials_ok",
		Help: "1 when the provider accepted our credentials at the last check, 0 when it refused them, by provider.",
	}, []string{"provider"})
	VisibilityRefreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "payoutflow_visibility_refreshes_total",
		Help: "Refreshes of the gauges counted from Temporal, by result (ok, failed); a failed one leaves the last counts.",
	}, []string{"result"})
)

func init() {
	Registry.MustRegister(NeedingAttention, AwaitingApproval, AwaitingApprovalLongerThan, Contradicted, TaskQueuePollers,
		ProviderCredentialsOK, VisibilityRefreshes)
	VisibilityRefreshes.WithLabelValues("ok")
	VisibilityRefreshes.WithLabelValues("failed")
}
