package deploytest

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/stacktest"
)

// TestMetrics_OnePayoutOfEachProviderShowsInEveryMetricTheRulesAndTheDashboardUse runs the stack as production
// does, the worker and the API in their own processes with their own operators' listeners (METRICS_ADDR), pays one
// card payout of each provider, sends one forged webhook, and scrapes both: every metric that
// deploy/prometheus/alerts.yml and deploy/grafana/payoutflow.json use is exposed, the payouts are counted once
// each, and no card number, phone or name shows in any label.
func TestMetrics_OnePayoutOfEachProviderShowsInEveryMetricTheRulesAndTheDashboardUse(t *testing.T) {
	root, s, bin, keys := productionStack(t, "METRICS_REFRESH=500ms")
	workerMetrics, apiMetrics := freeAddr(t), freeAddr(t)
	s.start(partWorker, bin, "today", "METRICS_ADDR="+workerMetrics)
	s.start(partAPI, bin, "today", "METRICS_ADDR="+apiMetrics)
	a := &api{t: t, API: stacktest.API{URL: s.apiURL, Keys: keys, HTTP: &http.Client{Timeout: 30 * time.Second}}}

	// One card payout of each provider, approved and paid.
	payouts := map[string]string{"bank131": bodyBank131Card, "bepaid": bodyBePaid, "mandarin": bodyMandarinToken}
	methods := map[string]string{"bank131": "card_number", "bepaid": "card_number", "mandarin": "card_token"}
	ids := map[string]string{}
	for provider, body := range payouts {
		ids[provider] = a.create("backend", "metrics-"+provider, body)
	}
	for provider, id := range ids {
		a.waitFor(provider, id, "awaiting_approval", time.Minute, func(st payoutState) bool { return st.Status == "awaiting_approval" })
	}
	// The API counts them from Temporal's visibility every 500 ms.
	var waiting scrape
	require.Eventually(t, func() bool {
		waiting = scrapeMetrics(t, apiMetrics)
		return waiting.value("payoutflow_payouts_awaiting_approval") == 3
	}, 30*time.Second, 250*time.Millisecond, "awaiting approval: %v", waiting.families["payoutflow_payouts_awaiting_approval"])
	for provider := range payouts {
		require.Equal(t, 1.0, waiting.value("payoutflow_payouts_awaiting_approval", "provider", provider), provider)
	}
	require.Zero(t, waiting.value("payoutflow_payouts_awaiting_approval_longer_than", "age", "15m"))
	for provider, id := range ids {
		a.decide("backend", provider, id, "confirm")
	}
	for provider, id := range ids {
		a.waitFor(provider, id, "succeeded", time.Minute, func(st payoutState) bool { return st.Status == "succeeded" })
	}
	// A forged webhook: signed by nobody.
	resp, err := http.Post(s.apiURL+"/webhooks/bank131", "application/json", strings.NewReader(`{"type":"payment_finished"}`))
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// The gauges are counted every 500 ms: wait until the API has counted the payouts finished.
	var worker, apiSide scrape
	require.Eventually(t, func() bool {
		apiSide = scrapeMetrics(t, apiMetrics)
		return apiSide.value("payoutflow_payouts_awaiting_approval", "provider", "bank131") == 0 &&
			apiSide.value("payoutflow_task_queue_pollers", "type", "workflow") >= 1
	}, 30*time.Second, 250*time.Millisecond, "the API's gauges: %v", apiSide.families["payoutflow_payouts_awaiting_approval"])
	worker = scrapeMetrics(t, workerMetrics)

	t.Run("every metric of the rules and the dashboard is exposed", func(t *testing.T) {
		used := usedMetrics(t, filepath.Join(root, "deploy", "prometheus", "alerts.yml"), filepath.Join(root, "deploy", "grafana", "payoutflow.json"))
		require.NotEmpty(t, used)
		var missing []string
		for _, name := range used {
			if !worker.exposes(name) && !apiSide.exposes(name) {
				missing = append(missing, name)
			}
		}
		require.Empty(t, missing, "used by the rules or the dashboard, exposed by neither the worker nor the API; the "+
			"worker exposes %v", worker.names())
	})

	t.Run("the payouts are counted once each", func(t *testing.T) {
		for provider := range payouts {
			require.Equal(t, 1.0, apiSide.value("payoutflow_payouts_created_total", "provider", provider, "method", methods[provider]),
				"%s: %v", provider, apiSide.families["payoutflow_payouts_created_total"])
			// The workflow's metrics are at least once: a workflow task that timed out or was retried after the
			// change (a slow, loaded machine) emits them again. Once is the rule; twice is the retry; more is a bug.
			for _, m := range []struct {
				name   string
				labels []string
			}{
				{"payoutflow_payouts_finished_total", []string{"provider", provider, "method", methods[provider], "status", "succeeded", "failure_code", "none"}},
				{"payoutflow_payout_duration_seconds_count", []string{"provider", provider, "status", "succeeded"}},
				{"payoutflow_approval_wait_seconds_count", []string{"provider", provider}},
			} {
				v := worker.value(m.name, m.labels...)
				require.True(t, v == 1 || v == 2, "%s %s: %v, want 1 (2 after a retried workflow task): %v", provider, m.name, v,
					worker.families[m.name])
			}
			require.GreaterOrEqual(t, worker.value("payoutflow_provider_calls_total", "provider", provider, "outcome", "ok"), 1.0, provider)
			require.Zero(t, worker.value("payoutflow_provider_calls_total", "provider", provider, "outcome", "unknown"), provider)
			require.GreaterOrEqual(t, apiSide.value("payoutflow_webhooks_total", "provider", provider, "result", "accepted"), 1.0, provider)
			require.Zero(t, apiSide.value("payoutflow_payouts_needing_attention", "provider", provider), provider)
		}
		require.Equal(t, 1.0, apiSide.value("payoutflow_webhooks_total", "provider", "bank131", "result", "forged"))
		require.Zero(t, apiSide.value("payoutflow_webhooks_total", "provider", "bepaid", "result", "forged"))
		require.Zero(t, apiSide.value("payoutflow_payouts_contradicted"))
		require.Zero(t, apiSide.value("payoutflow_visibility_refreshes_total", "result", "failed"), "every count query is taken")
		require.GreaterOrEqual(t, worker.value("temporal_workflow_task_schedule_to_start_latency_seconds_count"), 3.0)
	})

	t.Run("no card number, phone or name in any label", func(t *testing.T) {
		for _, body := range []string{worker.body, apiSide.body} {
			for _, secret := range []string{"4242424242424242", "4200000000000000", "0eb51e74", "Ivanov", "IVAN", "ivan@"} {
				require.NotContains(t, body, secret)
			}
		}
	})
}

// scrape is one scrape of /metrics, parsed.
type scrape struct {
	body     string
	families map[string]*dto.MetricFamily
}

func scrapeMetrics(t *testing.T, addr string) scrape {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var parser expfmt.TextParser
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(b)))
	require.NoError(t, err, "parse the scrape of %s", addr)
	return scrape{body: string(b), families: families}
}

// names are the scrape's metric families.
func (s scrape) names() []string {
	var names []string
	for n := range s.families {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// exposes reports whether the scrape has a series of name: a family's name, or a histogram's _bucket, _sum or
// _count.
func (s scrape) exposes(name string) bool {
	if _, ok := s.families[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if f, ok := s.families[strings.TrimSuffix(name, suffix)]; ok && strings.HasSuffix(name, suffix) &&
			f.GetType() == dto.MetricType_HISTOGRAM {
			return true
		}
	}
	return false
}

// value sums the series of name (a histogram's _count or _sum included) whose labels have the given pairs.
func (s scrape) value(name string, labels ...string) float64 {
	family, part := name, ""
	if _, ok := s.families[name]; !ok {
		for _, suffix := range []string{"_count", "_sum"} {
			if strings.HasSuffix(name, suffix) {
				family, part = strings.TrimSuffix(name, suffix), suffix
			}
		}
	}
	f := s.families[family]
	var sum float64
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			match = match && have[labels[i]] == labels[i+1]
		}
		if !match {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		case m.GetHistogram() != nil && part == "_count":
			sum += float64(m.GetHistogram().GetSampleCount())
		case m.GetHistogram() != nil && part == "_sum":
			sum += m.GetHistogram().GetSampleSum()
		case m.GetUntyped() != nil:
			sum += m.GetUntyped().GetValue()
		}
	}
	return sum
}

// metricName is a metric name of payoutflow's or the Temporal SDK's in a PromQL expression.
var metricName = regexp.MustCompile(`\b(?:payoutflow|temporal)_[a-z0-9_]+\b`)

// usedMetrics lists the metric names the files' PromQL expressions use.
func usedMetrics(t *testing.T, paths ...string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, m := range metricName.FindAllString(string(b), -1) {
			seen[m] = true
		}
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
