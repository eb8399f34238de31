package metrics

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// countingHandler counts the handlers and instruments it makes; each instrument adds to total.
type countingHandler struct {
	tags  map[string]string
	made  *int
	total map[string]int64
}

func (h countingHandler) WithTags(tags map[string]string) client.MetricsHandler {
	*h.made++
	merged := map[string]string{}
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	return countingHandler{tags: merged, made: h.made, total: h.total}
}

func (h countingHandler) Counter(name string) client.MetricsCounter {
	*h.made++
	key := name + fmt.Sprint(h.tags)
	return counterFunc(func(d int64) { h.total[key] += d })
}

func (h countingHandler) Gauge(name string) client.MetricsGauge {
	*h.made++
	return client.MetricsNopHandler.Gauge(name)
}

func (h countingHandler) Timer(name string) client.MetricsTimer {
	*h.made++
	return client.MetricsNopHandler.Timer(name)
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

func TestCachedHandler_HandsOutTheSameHandlersAndInstrumentsAndCountsAsBefore(t *testing.T) {
	made := 0
	total := map[string]int64{}
	h := cached(countingHandler{made: &made, total: total})

	for range 3 {
		tagged := h.WithTags(map[string]string{"namespace": "default", "task_queue": "payouts"})
		tagged.Counter("temporal_request").Inc(1)
		tagged.Timer("temporal_request_latency").Record(time.Millisecond)
		tagged.Gauge("temporal_sticky_cache_size").Update(1)
		h.WithTags(map[string]string{"task_queue": "payouts", "namespace": "default"}).Counter("temporal_request").Inc(1)
	}
	h.WithTags(map[string]string{"namespace": "other"}).Counter("temporal_request").Inc(5)

	require.Equal(t, 6, made, "two tag sets, three instruments of the first and one of the second: each made once")
	require.Equal(t, map[string]int64{
		"temporal_request" + fmt.Sprint(map[string]string{"namespace": "default", "task_queue": "payouts"}): 6,
		"temporal_request" + fmt.Sprint(map[string]string{"namespace": "other"}):                            5,
	}, total, "every count reaches the instrument of its own tags")
	require.IsType(t, countingHandler{}, h.Unwrap(), "Unwrap gives the handler underneath")
}

func TestCachedHandler_BeyondItsLimitMakesAnewAndStillCounts(t *testing.T) {
	made := 0
	total := map[string]int64{}
	h := cached(countingHandler{made: &made, total: total})
	for i := range cacheLimit + 10 {
		h.WithTags(map[string]string{"n": fmt.Sprint(i)})
	}
	require.Equal(t, cacheLimit+10, made)

	h.WithTags(map[string]string{"n": fmt.Sprint(cacheLimit + 5)}).Counter("c").Inc(1)
	h.WithTags(map[string]string{"n": fmt.Sprint(cacheLimit + 5)}).Counter("c").Inc(1)
	require.Equal(t, cacheLimit+10+4, made, "a tag set past the limit is made at each ask")
	require.Equal(t, int64(2), total["c"+fmt.Sprint(map[string]string{"n": fmt.Sprint(cacheLimit + 5)})])
}

func TestCachedHandler_TagValuesHoldingTheKeysSeparatorStillReachTheirOwnInstrument(t *testing.T) {
	made := 0
	total := map[string]int64{}
	h := cached(countingHandler{made: &made, total: total})
	a := map[string]string{"method": "card\x00provider\x00x", "provider": "y"}
	b := map[string]string{"method": "card", "provider": "x\x00provider\x00y"}
	h.WithTags(a).Counter("c").Inc(1)
	h.WithTags(b).Counter("c").Inc(1)
	require.Equal(t, map[string]int64{"c" + fmt.Sprint(a): 1, "c" + fmt.Sprint(b): 1}, total)
}

func TestCachedHandler_CountsFromManyGoroutinesAllReachPrometheusByTheirTags(t *testing.T) {
	counted := func() (sum float64, series int) {
		families, err := Registry.Gather()
		require.NoError(t, err)
		for _, f := range families {
			if f.GetName() == "payoutflow_concurrent_test_total" {
				for _, m := range f.GetMetric() {
					sum += m.GetCounter().GetValue()
					series++
				}
			}
		}
		return sum, series
	}
	before, _ := counted()
	h := cached(SDK().(*cachedHandler).Unwrap())
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				tagged := h.WithTags(map[string]string{"g": fmt.Sprint(g % 4), "i": fmt.Sprint(i % 7)})
				tagged.WithTags(map[string]string{"x": "y"}).Counter("payoutflow_concurrent_test").Inc(1)
				tagged.Gauge("payoutflow_concurrent_test_gauge").Update(1)
			}
		})
	}
	wg.Wait()
	after, series := counted()
	require.Equal(t, 16*200.0, after-before)
	require.Equal(t, 4*7, series)
}

func TestCachedHandler_ExtractMetricsHandlerUnwrapsToTheTaggedOpenTelemetryHandler(t *testing.T) {
	require.NotNil(t, temporalotel.ExtractMetricsHandler(SDK()))
	o := temporalotel.ExtractMetricsHandler(SDK().WithTags(map[string]string{"a": "1"}).WithTags(map[string]string{"b": "2"}))
	require.NotNil(t, o)
	attrs := o.GetAttributes()
	for k, want := range map[string]string{"a": "1", "b": "2"} {
		v, ok := attrs.Value(attribute.Key(k))
		require.True(t, ok, k)
		require.Equal(t, want, v.AsString(), k)
	}
}

func TestSDK_ACachedCounterStillReachesPrometheus(t *testing.T) {
	total := func() float64 { return firstMetric(t, "payoutflow_cache_test_total").GetCounter().GetValue() }
	before := total() // the registry is the process's: another run of the test counted into it
	SDK().WithTags(map[string]string{"provider": "cache-test"}).Counter("payoutflow_cache_test").Inc(1)
	SDK().WithTags(map[string]string{"provider": "cache-test"}).Counter("payoutflow_cache_test").Inc(2)
	require.Equal(t, 3.0, total()-before)
}

// BenchmarkSDK_TaggedTimer is what the SDK does at each task, poll and call: a tagged handler, a timer, a record.
func BenchmarkSDK_TaggedTimer(b *testing.B) {
	tags := map[string]string{"namespace": "default", "task_queue": "payouts", "workflow_type": "PayoutWorkflow"}
	for _, bc := range []struct {
		name string
		h    client.MetricsHandler
	}{{"cached", SDK()}, {"uncached", SDK().(*cachedHandler).Unwrap()}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				bc.h.WithTags(tags).Timer("temporal_bench_latency").Record(time.Millisecond)
			}
		})
	}
}
