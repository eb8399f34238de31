package telemetry

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
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

// collector is an OTLP/gRPC trace receiver on loopback that keeps what it is sent.
type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu   sync.Mutex
	reqs []*collectortrace.ExportTraceServiceRequest
}

func (c *collector) Export(_ context.Context, r *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, r)
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// spans are the names of the spans received, by service.name.
func (c *collector) spans() map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string][]string{}
	for _, r := range c.reqs {
		for _, rs := range r.GetResourceSpans() {
			service := ""
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.GetKey() == "service.name" {
					service = kv.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					out[service] = append(out[service], s.GetName())
				}
			}
		}
	}
	return out
}

func TestSetup_WithAnEndpointSpansAreExportedOverOTLP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	col := &collector{}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, col)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)

	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+ln.Addr().String()) // http: plaintext gRPC
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
	require.ElementsMatch(t, []string{"HTTP GET", "activity"}, col.spans()["payoutflow-test"])
}
