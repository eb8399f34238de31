// Package telemetry sets up OpenTelemetry tracing for payoutflow's processes: one trace from an API request through
// the payout's workflow and activities to the provider's HTTP call, exported over OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, and costing nothing when it is not.
package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Tracing is a process's tracing; nil, or made by Setup without an endpoint, is off: every method then answers
// what costs nothing (no interceptor, the transport as given, a no-op tracer provider).
type Tracing struct {
	provider trace.TracerProvider
	shutdown func(context.Context) error
}

// Endpoint is the OTLP endpoint the environment names for traces, "" when none.
func Endpoint() string {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if v := strings.TrimSpace(os.Getenv(name)); v != "" {
			return v
		}
	}
	return ""
}

// Setup starts tracing for the service (its service.name unless OTEL_SERVICE_NAME says otherwise) when the
// environment names an OTLP endpoint: spans are batched and exported over OTLP/gRPC, configured by the standard
// OTEL_EXPORTER_OTLP_* variables (headers, TLS, timeout) and sampled by OTEL_TRACES_SAMPLER (default: every trace,
// or as the caller's traceparent says). Without an endpoint it returns tracing that is off.
func Setup(ctx context.Context, service string) (*Tracing, error) {
	if Endpoint() == "" {
		return nil, nil
	}
	exp, err := otlptracegrpc.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName(service)), resource.WithFromEnv(),
		resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Tracing{provider: tp, shutdown: tp.Shutdown}, nil
}

// New returns tracing to tp (the tests give a provider that keeps spans in memory).
func New(tp trace.TracerProvider) *Tracing { return &Tracing{provider: tp} }

// On reports whether spans are recorded.
func (t *Tracing) On() bool { return t != nil && t.provider != nil }

// TracerProvider is the provider spans are made by: a no-op one when tracing is off.
func (t *Tracing) TracerProvider() trace.TracerProvider {
	if !t.On() {
		return noop.NewTracerProvider()
	}
	return t.provider
}

// Interceptor is the Temporal client interceptor that carries the trace from a client call (start, signal,
// update, query) into the workflow, and from the workflow into its activities; nil when tracing is off. Set on the
// client, it serves the client's workers too.
func (t *Tracing) Interceptor() (interceptor.ClientInterceptor, error) {
	if !t.On() {
		return nil, nil
	}
	return temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            t.provider.Tracer("go.temporal.io/sdk"),
		TextMapPropagator: Propagator,
	})
}

// Propagator is how a trace travels between payoutflow's processes and from callers of the API: W3C traceparent.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// HTTPClient returns the client a provider's API client sends its calls with: a span per call, and no trace
// context sent to the provider (our trace ids are ours). It follows no redirect, as the providers' own default
// clients do, and times out after timeout (none: the caller's context bounds each call). Nil when tracing is off:
// the provider then uses its own default client.
func (t *Tracing) HTTPClient(timeout time.Duration) *http.Client {
	if !t.On() {
		return nil
	}
	return &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithTracerProvider(t.provider),
			otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator())),
	}
}

// Close exports the spans still batched, waiting at most 5 s; a no-op when tracing is off or was not made by Setup.
func (t *Tracing) Close() error {
	if t == nil || t.shutdown == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return t.shutdown(ctx)
}
