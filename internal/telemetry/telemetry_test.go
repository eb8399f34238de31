package telemetry

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/telemetry/telemetrytest"
)

func TestSetup_WithoutAnEndpointTracingCostsNothing(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	tr, err := Setup(t.Context(), "payoutflow-test")
	require.NoError(t, err)
	require.False(t, tr.On())
	ic, err := tr.Interceptor()
	require.NoError(t, err)
	require.Nil(t, ic, "no interceptor on the Temporal client")
	require.Nil(t, tr.HTTPClient(0), "the providers keep their own clients")
	_, span := tr.TracerProvider().Tracer("t").Start(t.Context(), "nothing")
	require.False(t, span.IsRecording(), "a no-op tracer")
	require.NoError(t, tr.Close())
}

func TestSetup_WithAnEndpointSpansAreExportedOverOTLP(t *testing.T) {
	col := telemetrytest.Start(t)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.Endpoint)
	t.Setenv("OTEL_SERVICE_NAME", "")
	tr, err := Setup(t.Context(), "payoutflow-test")
	require.NoError(t, err)
	require.True(t, tr.On())
	ic, err := tr.Interceptor()
	require.NoError(t, err)
	require.NotNil(t, ic)

	// A provider's call through the traced client is a span of its own.
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Empty(t, r.Header.Get("traceparent"), "our trace context is not sent to providers")
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(provider.Close)
	ctx, span := tr.TracerProvider().Tracer("t").Start(t.Context(), "activity")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, provider.URL+"/status", nil)
	require.NoError(t, err)
	resp, err := tr.HTTPClient(0).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	span.End()

	require.NoError(t, tr.Close(), "Close exports what is batched")
	var names []string
	for _, s := range col.Spans() {
		require.Equal(t, "payoutflow-test", s.Service)
		names = append(names, s.Name)
	}
	require.ElementsMatch(t, []string{"HTTP GET", "activity"}, names)
}
