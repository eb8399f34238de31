package integration

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"

	"github.com/payoutflow/payoutflow/codec"
	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/internal/telemetry"
	"github.com/payoutflow/payoutflow/payout"
	mandarinsandbox "github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
)

// tracedStack is an API and a worker on the shared Temporal server and sandboxes, traced as OTEL_EXPORTER_OTLP_ENDPOINT
// traces them in production, into spans kept in memory.
type tracedStack struct {
	spans *tracetest.InMemoryExporter
	api   string
}

func startTraced(t *testing.T) tracedStack {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	cfg := st.cfg
	cfg.TaskQueue = "payouts-traced"
	cfg.Tracing = telemetry.New(tp)
	ic, err := cfg.Tracing.Interceptor()
	require.NoError(t, err)
	c := st.ts.NewClientWithOptions(client.Options{DataConverter: st.dc, FailureConverter: codec.FailureConverter(st.dc),
		Logger: config.SDKLogger(st.logger()), Interceptors: []interceptor.ClientInterceptor{ic}})
	t.Cleanup(c.Close)

	apiHandler := &switchHandler{}
	srv := httptest.NewServer(apiHandler)
	t.Cleanup(srv.Close)
	ps, err := st.newProviders(srv.URL, cfg.Tracing.HTTPClient(0))
	require.NoError(t, err)
	apiHandler.h = app.NewAPI(cfg, app.API{Client: c, DataConverter: st.dc, CodecKeys: st.codecKeys, Logger: st.logger(),
		Keys: st.keys, Policy: st.policy, Providers: st.registryOf(ps)})
	w := app.NewWorker(c, cfg.TaskQueue, st.codecKeys, ps...)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	return tracedStack{spans: spans, api: srv.URL}
}

// One payout of each provider is one trace: the API's request span, the workflow's start, its run, an activity,
// and the activity's HTTP call to the provider; a provider's webhook is a trace from its receipt to the signal the
// workflow handles. No span holds a card number, a phone or the recipient's name.
func TestTracing_APayoutIsOneTraceFromTheAPIToTheProvidersHTTPCall(t *testing.T) {
	ts := startTraced(t)
	tests := []struct {
		provider, body string
		webhook        bool // the provider's webhook comes to this API (Bank 131's go to the shared one)
		secrets        []string
	}{
		{"bank131", cardPayout(cardSucceeds), false, []string{cardSucceeds, "Ivanov Ivan"}},
		{"bepaid", bePaidCardPayout(bpCardSucceeds, 4711), true, []string{bpCardSucceeds, "Ivan Ivanov", "IVAN IVANOV", "MP1234567"}},
		{"mandarin", mandarinSBP(mandarinsandbox.SandboxPhoneSucceeds, "Иванов Петр Сергеевич", false), true,
			[]string{"9001234567", "Иванов", "Петр"}},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			r := create(t, ts.api, t.Name(), tt.body)
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			id := r.state(t).ID
			waitFor(t, id, payout.StatusAwaitingApproval)
			require.Equal(t, http.StatusAccepted, decide(t, ts.api, "alice", id, "confirm", "checked").Status)
			waitFor(t, id, payout.StatusSucceeded)

			spans := indexSpans(ts.spans.GetSpans())
			start := spans.find(func(s tracetest.SpanStub) bool {
				return s.Name == "StartWorkflow:PayoutWorkflow" && attr(s, "temporalWorkflowID") == id
			})
			require.NotNil(t, start, "the API started the payout's workflow in a span")
			request := spans.parent(*start)
			require.NotNil(t, request, "the start's parent is the API's request")
			require.Equal(t, "POST /v1/payouts", request.Name)
			require.Equal(t, trace.SpanKindServer, request.SpanKind)

			// The provider's HTTP call, reached from the request through the workflow and an activity.
			call := spans.find(func(s tracetest.SpanStub) bool {
				return s.SpanKind == trace.SpanKindClient && s.SpanContext.TraceID() == request.SpanContext.TraceID() &&
					attr(s, "http.request.method") != ""
			})
			require.NotNil(t, call, "the provider's HTTP call is in the request's trace")
			chain := spans.chain(*call)
			t.Log(names(chain), len(ts.spans.GetSpans()), attr(*call, "url.full"))
			require.Equal(t, request.SpanContext.SpanID(), chain[len(chain)-1].SpanContext.SpanID(), "%s", names(chain))
			require.Contains(t, names(chain), "StartWorkflow:PayoutWorkflow")
			require.Contains(t, names(chain), "RunWorkflow:PayoutWorkflow")
			require.True(t, strings.HasPrefix(chain[1].Name, "RunActivity:"), "%s", names(chain))
			require.True(t, strings.HasPrefix(chain[2].Name, "StartActivity:"), "%s", names(chain))

			// The approval is traced into the workflow too.
			confirm := spans.find(func(s tracetest.SpanStub) bool {
				return s.Name == "SignalWorkflow:confirm" && attr(s, "temporalWorkflowID") == id
			})
			require.NotNil(t, confirm)
			require.Equal(t, "POST /v1/payouts/:id/confirm", spans.parent(*confirm).Name)
			require.NotNil(t, spans.find(func(s tracetest.SpanStub) bool {
				return s.Name == "HandleSignal:confirm" && s.Parent.SpanID() == confirm.SpanContext.SpanID()
			}), "the workflow handles the confirm in the signal's trace")

			if tt.webhook {
				signal := spans.find(func(s tracetest.SpanStub) bool {
					return strings.HasPrefix(s.Name, "SignalWorkflow:") && attr(s, "temporalWorkflowID") == id &&
						spans.parent(s) != nil && spans.parent(s).Name == "POST /webhooks/:provider"
				})
				require.NotNil(t, signal, "the provider's webhook is received and signalled in one trace")
				require.NotNil(t, spans.find(func(s tracetest.SpanStub) bool {
					return strings.HasPrefix(s.Name, "HandleSignal:") && s.Parent.SpanID() == signal.SpanContext.SpanID()
				}), "the workflow handles the webhook's signal in its trace")
			}
			for _, s := range ts.spans.GetSpans() {
				requireNoSecret(t, s, tt.secrets...)
			}
		})
	}
}

// requireNoSecret checks everything a span carries: its name, status, attributes, and its events' names and
// attributes (a recorded error's message among them). The secrets are named: a pattern such as
// payout.LooksLikeCardNumber also finds a Luhn-valid run of digits in a random id (a request's, a run's).
func requireNoSecret(t *testing.T, s tracetest.SpanStub, secrets ...string) {
	t.Helper()
	texts := []string{s.Name, s.Status.Description}
	add := func(kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			texts = append(texts, string(kv.Key), kv.Value.Emit())
		}
	}
	add(s.Attributes)
	add(s.Resource.Attributes())
	for _, e := range s.Events {
		texts = append(texts, e.Name)
		add(e.Attributes)
	}
	for _, l := range s.Links {
		add(l.Attributes)
	}
	for _, text := range texts {
		for _, secret := range secrets {
			require.NotContains(t, text, secret, "span %s", s.Name)
		}
	}
}

// spanIndex finds spans and their parents.
type spanIndex struct {
	all  []tracetest.SpanStub
	byID map[trace.SpanID]tracetest.SpanStub
}

func indexSpans(all tracetest.SpanStubs) spanIndex {
	ix := spanIndex{all: all, byID: map[trace.SpanID]tracetest.SpanStub{}}
	for _, s := range all {
		ix.byID[s.SpanContext.SpanID()] = s
	}
	return ix
}

func (ix spanIndex) find(match func(tracetest.SpanStub) bool) *tracetest.SpanStub {
	for _, s := range ix.all {
		if match(s) {
			return &s
		}
	}
	return nil
}

func (ix spanIndex) parent(s tracetest.SpanStub) *tracetest.SpanStub {
	if p, ok := ix.byID[s.Parent.SpanID()]; ok && s.Parent.IsValid() {
		return &p
	}
	return nil
}

// chain is s and its ancestors, up to the first whose parent was not recorded here.
func (ix spanIndex) chain(s tracetest.SpanStub) []tracetest.SpanStub {
	out := []tracetest.SpanStub{s}
	for p := ix.parent(s); p != nil; p = ix.parent(*p) {
		out = append(out, *p)
	}
	return out
}

func names(spans []tracetest.SpanStub) string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return fmt.Sprint(out)
}

func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}
