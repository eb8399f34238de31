package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/client"

	"github.com/payoutflow/payoutflow/api"
	"github.com/payoutflow/payoutflow/internal/health"
)

// review15CardInPath sends requests with a card number in the URL path to the API and returns its JSON log and
// the spans it made: a backend that puts a card number where a
// payout id goes (GET /v1/payouts/<card number>, a bug on the caller's side or a probe) must not get it written to
// the API's JSON log or to a span attribute: "a card number never appears in plain text in logs" (RULES) and "no
// card number, phone or name in any span attribute" (issue 15, item 2). Real HTTP on loopback, the API's real
// logger and a real OpenTelemetry SDK with an in-memory exporter.
const review15Card = "4111111111111111"

func review15CardInPath(t *testing.T, check func(t *testing.T, logs string, spans tracetest.SpanStubs)) {
	const card = review15Card
	for _, path := range []string{
		"/v1/payouts/" + card,
		"/v1/payouts/" + card + "/confirm",
		"/webhooks/" + card,
	} {
		t.Run(path, func(t *testing.T) {
			var logs bytes.Buffer
			spans := tracetest.NewInMemoryExporter()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
			srv := httptest.NewServer(api.New(api.Config{
				Logger:         slog.New(slog.NewJSONHandler(&logs, nil)),
				TracerProvider: tp,
			}))
			defer srv.Close()

			method := http.MethodGet
			if !strings.HasPrefix(path, "/v1/payouts/"+card) || strings.HasSuffix(path, "/confirm") {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(`{}`))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer pf_unknown")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			require.GreaterOrEqual(t, resp.StatusCode, 400, "the request is refused")

			check(t, logs.String(), spans.GetSpans())
		})
	}
}

func TestAPI_ACardNumberInTheURLPathReachesNoLogLine(t *testing.T) {
	review15CardInPath(t, func(t *testing.T, logs string, _ tracetest.SpanStubs) {
		for _, line := range strings.Split(logs, "\n") {
			require.NotContains(t, line, review15Card, "the API's log holds the card number")
		}
	})
}

func TestAPI_ACardNumberInTheURLPathReachesNoSpanAttribute(t *testing.T) {
	review15CardInPath(t, func(t *testing.T, _ string, spans tracetest.SpanStubs) {
		require.NotEmpty(t, spans)
		for _, s := range spans {
			require.NotContains(t, s.Name, review15Card)
			for _, a := range s.Attributes {
				require.NotContains(t, a.Value.Emit(), review15Card, "span %q attribute %s holds the card number", s.Name, a.Key)
			}
		}
	})
}

// TestAPI_ThePublicReadyzTellsStrangersNothingOfTheInside: the API serves /readyz on API_ADDR, behind the https
// proxy that PUBLIC_URL names (README: "your https proxy, which forwards to the API on :8080"), without an API key.
// Its JSON names Temporal's address, the namespace, the task queue and each provider's endpoint in its error
// messages: anyone on the internet learns the inside's topology. The load balancer needs the status code; the
// details belong on the operators' listener (METRICS_ADDR).
func TestAPI_ThePublicReadyzTellsStrangersNothingOfTheInside(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	temporalAddr := ln.Addr().String()
	require.NoError(t, ln.Close()) // Temporal is down: its address shows in the message
	c, err := client.NewLazyClient(client.Options{HostPort: temporalAddr, Namespace: "payouts-prod"})
	require.NoError(t, err)
	defer c.Close()
	checker := health.New(health.Options{Client: c, Address: temporalAddr, Namespace: "payouts-prod",
		TaskQueue: "payouts-internal-queue", Workers: true, Every: 50 * time.Millisecond, Timeout: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	checker.Start(ctx)
	srv := httptest.NewServer(api.New(api.Config{Health: checker.Handler()}))
	defer srv.Close()

	var body string
	require.Eventually(t, func() bool {
		resp, err := http.Get(srv.URL + "/readyz") // no API key
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, `"failing"`)
	}, 10*time.Second, 50*time.Millisecond)
	require.NotContains(t, body, temporalAddr, "the public /readyz names Temporal's address: %s", body)
}

// TestAPI_APhoneAsXRequestIdReachesNeitherALogLineNorASpan: the API takes a caller's X-Request-Id as it is
// unless it looks like a card number, and writes it on every log line and as a span attribute. A backend that ids
// its requests by the recipient's phone (an SBP payout's key) gets the phone into the logs and the traces, which
// "no card number, phone or name in any span attribute" (issue 15, item 2) forbids.
func TestAPI_APhoneAsXRequestIdReachesNeitherALogLineNorASpan(t *testing.T) {
	const phone = "+79001234567"
	var logs bytes.Buffer
	spans := tracetest.NewInMemoryExporter()
	srv := httptest.NewServer(api.New(api.Config{
		Logger:         slog.New(slog.NewJSONHandler(&logs, nil)),
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)),
	}))
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/payouts", nil)
	require.NoError(t, err)
	req.Header.Set("X-Request-Id", phone)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()

	require.NotEqual(t, phone, resp.Header.Get("X-Request-Id"), "the phone is taken as the request id")
	require.NotContains(t, logs.String(), strings.TrimPrefix(phone, "+"), "the API's log holds the phone")
	for _, s := range spans.GetSpans() {
		for _, a := range s.Attributes {
			require.NotContains(t, a.Value.Emit(), strings.TrimPrefix(phone, "+"), "span %q attribute %s", s.Name, a.Key)
		}
	}
}
