package deploytest

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/stacktest"
	"github.com/payoutflow/payoutflow/internal/telemetry/telemetrytest"
)

// TestTracing_TheAPIAndTheWorkerProcessesExportOneTracePerPayoutOverOTLP runs the worker and the API in their own
// processes, as production does, exporting to a collector (OTEL_EXPORTER_OTLP_ENDPOINT) and logging JSON
// (LOG_FORMAT=json). For one payout of each provider the API's request span and the worker's call to the provider
// are one trace, carried from one process to the other by Temporal; no span and no log line holds a card number,
// phone or name, and every log line about a payout names it and its provider.
func TestTracing_TheAPIAndTheWorkerProcessesExportOneTracePerPayoutOverOTLP(t *testing.T) {
	col := telemetrytest.Start(t)
	_, s, bin, keys := productionStack(t)
	traced := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + col.Endpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=", "LOG_FORMAT=json"}
	worker := s.start(partWorker, bin, "today", append(traced, "OTEL_SERVICE_NAME=payoutflow-worker")...)
	apiProc := s.start(partAPI, bin, "today", append(traced, "OTEL_SERVICE_NAME=payoutflow-api")...)
	a := &api{t: t, API: stacktest.API{URL: s.apiURL, Keys: keys, HTTP: &http.Client{Timeout: 30 * time.Second}}}

	payouts := map[string]string{"bank131": bodyBank131Card, "bepaid": bodyBePaid, "mandarin": bodyMandarinSBP}
	ids := map[string]string{}
	for provider, body := range payouts {
		ids[provider] = a.create("backend", "tracing-"+provider, body)
	}
	for provider, id := range ids {
		a.waitFor(provider, id, "awaiting_approval", time.Minute, func(st payoutState) bool { return st.Status == "awaiting_approval" })
		a.decide("backend", provider, id, "confirm")
	}
	for provider, id := range ids {
		a.waitFor(provider, id, "succeeded", time.Minute, func(st payoutState) bool { return st.Status == "succeeded" })
	}

	// The worker exports in batches (every 5 s): wait for each payout's chain.
	chains := map[string][]telemetrytest.Span{}
	require.Eventually(t, func() bool {
		spans := col.Spans()
		for provider, id := range ids {
			chains[provider] = providerCallChain(spans, id)
		}
		return len(chains["bank131"]) > 0 && len(chains["bepaid"]) > 0 && len(chains["mandarin"]) > 0
	}, time.Minute, 500*time.Millisecond, "a chain from the API's request to the provider's call for each payout")
	for provider, chain := range chains {
		var names, services []string
		for _, sp := range chain {
			names, services = append(names, sp.Name), append(services, sp.Service)
		}
		require.Equal(t, "POST /v1/payouts", names[len(names)-1], provider)
		require.Equal(t, "payoutflow-api", services[len(services)-1], provider)
		require.Equal(t, "payoutflow-worker", services[0], "%s: %v", provider, names)
		require.Contains(t, names, "RunWorkflow:PayoutWorkflow", provider)
	}

	// Named, not matched by pattern: payout.LooksLikeCardNumber also finds Luhn-valid digits in random trace ids.
	secrets := []string{"4242424242424242", "4200000000000000", "9001234567", "Ivanov", "IVAN", "Иванов", "MP1234567"}
	for _, sp := range col.Spans() {
		texts := append([]string{sp.Name}, sp.Texts...)
		for k, v := range sp.Attributes {
			texts = append(texts, k, v)
		}
		for _, text := range texts {
			for _, secret := range secrets {
				require.NotContains(t, text, secret, "span %s (%s)", sp.Name, sp.Service)
			}
		}
	}

	providerOf := map[string]string{}
	for provider, id := range ids {
		providerOf[id] = provider
	}
	for _, p := range []*proc{worker, apiProc} {
		f, err := os.Open(p.log)
		require.NoError(t, err)
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		lines := 0
		for sc.Scan() {
			line := sc.Text()
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &m), "%s logs JSON: %s", p.part, line)
			for _, secret := range secrets {
				require.NotContains(t, line, secret, p.part)
			}
			if id, ok := m["payout_id"].(string); ok && providerOf[id] != "" {
				require.Equal(t, providerOf[id], m["provider"], "%s names the payout's provider: %s", p.part, line)
			}
			lines++
		}
		require.NoError(t, sc.Err())
		require.NotZero(t, lines, p.part)
	}
}

// productionStack builds cmd/dev from the tree and starts Temporal and the sandboxes, each in its own process,
// with env added to the stack's environment; the test starts the worker and the API from bin. It returns the
// tree's root, the stack, bin and the API keys (a backend's). It skips the test with -short.
func productionStack(t *testing.T, env ...string) (root string, s *stack, bin string, keys map[string]string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds cmd/dev and runs the stack")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	dir := t.TempDir()
	bin = filepath.Join(dir, "dev")
	t.Logf("built cmd/dev in %s", buildDev(t, root, bin).Round(time.Second))

	run := filepath.Join(dir, "run")
	require.NoError(t, os.MkdirAll(run, 0o755))
	keysFile := filepath.Join(run, "api-keys.json")
	keys, err = stacktest.WriteAPIKeys(keysFile, "backend")
	require.NoError(t, err)
	s = newStack(t, run, append([]string{"API_KEYS_FILE=" + keysFile, "PROVIDER_POLL_AFTER=2s", "PROVIDER_POLL_MAX=5s",
		"PROVIDER_WATCH_EVERY=500ms", "LOG_LEVEL=info"}, env...)...)
	t.Cleanup(func() {
		s.stopAll()
		if t.Failed() {
			t.Log("logs of the stack:\n" + s.logTails(40))
		}
	})
	s.start(partTemporal, bin, "today")
	s.start(partSandboxes, bin, "today")
	return root, s, bin, keys
}

// providerCallChain is the chain of spans from the worker's HTTP call to the payout's provider up to the API's
// request that created the payout (call first), or nil while it is not all exported.
func providerCallChain(spans []telemetrytest.Span, payoutID string) []telemetrytest.Span {
	byID := map[string]telemetrytest.Span{}
	var start telemetrytest.Span
	for _, sp := range spans {
		byID[sp.SpanID] = sp
		if sp.Name == "StartWorkflow:PayoutWorkflow" && sp.Attributes["temporalWorkflowID"] == payoutID {
			start = sp
		}
	}
	request, ok := byID[start.Parent]
	if start.SpanID == "" || !ok {
		return nil
	}
	for _, sp := range spans {
		if sp.TraceID != start.TraceID || sp.Attributes["http.request.method"] == "" || !strings.HasPrefix(sp.Name, "HTTP ") {
			continue
		}
		chain := []telemetrytest.Span{sp}
		for p, ok := byID[sp.Parent]; ok; p, ok = byID[p.Parent] {
			chain = append(chain, p)
			if p.SpanID == request.SpanID {
				return chain
			}
		}
	}
	return nil
}
