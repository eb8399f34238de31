package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// traced wraps the API in a server span per request when tp is given, continuing a caller's trace (W3C
// traceparent); the Temporal client's interceptor carries it on into the payout's workflow. Without tp, the API is
// served as it is.
func traced(e *echo.Echo, tp trace.TracerProvider) http.Handler {
	if tp == nil {
		return e
	}
	e.Use(spanRoute)
	return otelhttp.NewHandler(e, "payoutflow-api", otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(propagation.TraceContext{}))
}

// spanRoute names the request's span by its route ("POST /v1/payouts/:id/confirm"), not by its path, which holds a
// payout's id, and gives it the request id and the route; the path otelhttp recorded (url.path) is replaced by one
// whose card numbers are masked, as is the query when it holds one.
func spanRoute(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		span := trace.SpanFromContext(r.Context())
		route := c.Path()
		span.SetName(r.Method + " " + route)
		span.SetAttributes(semconv.HTTPRoute(route), semconv.URLPath(maskedPath(r.URL.Path)),
			semconv.HTTPRequestHeader("x-request-id", RequestID(r.Context())))
		if q := maskedPath(r.URL.RawQuery); q != r.URL.RawQuery {
			span.SetAttributes(semconv.URLQuery(q))
		}
		return next(c)
	}
}
