package metrics

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.temporal.io/sdk/client"
)

// cacheLimit bounds what one cached handler keeps: tag sets and instruments beyond it are made anew at each use, as
// without the cache. The SDK's tags (namespace, task queue, workflow and activity type, operation) and payoutflow's
// (provider, method) are a few dozen.
const cacheLimit = 1000

// cachedHandler keeps the handlers and instruments the SDK asks for, by tags and by name. The SDK asks again for
// each task, poll and call (WithTags, then Counter, Timer or Gauge), and OpenTelemetry's handler builds an attribute
// set and looks its instrument up at each ask: about 5% of the worker's CPU under load.
type cachedHandler struct {
	inner client.MetricsHandler

	mu       sync.RWMutex
	children map[string]*cachedHandler
	counters map[string]client.MetricsCounter
	gauges   map[string]client.MetricsGauge
	timers   map[string]client.MetricsTimer
}

// cached returns h with what it hands out kept for the next ask.
func cached(h client.MetricsHandler) *cachedHandler {
	return &cachedHandler{
		inner:    h,
		children: map[string]*cachedHandler{},
		counters: map[string]client.MetricsCounter{},
		gauges:   map[string]client.MetricsGauge{},
		timers:   map[string]client.MetricsTimer{},
	}
}

// Unwrap returns the handler the cache holds (the SDK's convention for a handler that wraps another).
func (h *cachedHandler) Unwrap() client.MetricsHandler { return h.inner }

// WithTags returns the handler with tags added, the same one each time for the same tags.
func (h *cachedHandler) WithTags(tags map[string]string) client.MetricsHandler {
	return get(h, h.children, tagsKey(tags), func() *cachedHandler { return cached(h.inner.WithTags(tags)) })
}

// Counter returns the counter called name, the same one each time.
func (h *cachedHandler) Counter(name string) client.MetricsCounter {
	return get(h, h.counters, name, func() client.MetricsCounter { return h.inner.Counter(name) })
}

// Gauge returns the gauge called name, the same one each time.
func (h *cachedHandler) Gauge(name string) client.MetricsGauge {
	return get(h, h.gauges, name, func() client.MetricsGauge { return h.inner.Gauge(name) })
}

// Timer returns the timer called name, the same one each time.
func (h *cachedHandler) Timer(name string) client.MetricsTimer {
	return get(h, h.timers, name, func() client.MetricsTimer { return h.inner.Timer(name) })
}

// get returns m[key], made by build and kept if it is not there yet and m has room.
func get[V any](h *cachedHandler, m map[string]V, key string, build func() V) V {
	h.mu.RLock()
	v, ok := m[key]
	h.mu.RUnlock()
	if ok {
		return v
	}
	v = build()
	h.mu.Lock()
	defer h.mu.Unlock()
	if kept, ok := m[key]; ok {
		return kept
	}
	if len(m) < cacheLimit {
		m[key] = v
	}
	return v
}

// tagsKey is tags in one string, the same for the same tags in any order and different for different tags: each
// key and value is preceded by its length, so a separator inside one cannot make two tag sets one.
func tagsKey(tags map[string]string) string {
	var b strings.Builder
	size := 0
	for k, v := range tags {
		size += len(k) + len(v) + 8
	}
	b.Grow(size)
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		for _, s := range [2]string{k, tags[k]} {
			b.WriteString(strconv.Itoa(len(s)))
			b.WriteByte(':')
			b.WriteString(s)
		}
	}
	return b.String()
}
