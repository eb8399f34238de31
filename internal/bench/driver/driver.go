// Package driver drives payouts through one side of the benchmark at a fixed number in flight and measures a
// window of steady state: payouts per second, latency, errors, CPU and memory of each process, history events.
package driver

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/payoutflow/payoutflow/internal/bench/procstat"
	"github.com/payoutflow/payoutflow/internal/bench/stats"
)

// A Side runs payouts end to end: payoutflow through its REST API, or the peer through the SDK.
type Side interface {
	Name() string
	// Payout runs one payout, named by key, to its end and returns its workflow id. Errors met on the way that it
	// got past (a GET answered 500, then retried) are noted in rec; an error returned ends the payout's attempt.
	Payout(ctx context.Context, key string, rec *Recorder) (string, error)
	// Events is the number of events in a finished payout's workflow history.
	Events(ctx context.Context, id string) (int, error)
}

// Failure is an error of a kind the report counts, such as "create: HTTP 500".
type Failure struct {
	Kind string
	Err  error
}

func (f *Failure) Error() string {
	if f.Err == nil {
		return f.Kind
	}
	return f.Kind + ": " + f.Err.Error()
}

func (f *Failure) Unwrap() error { return f.Err }

// Recorder counts errors by kind.
type Recorder struct {
	mu     sync.Mutex
	counts map[string]int
}

// Error counts one error of kind and returns how many of that kind there are now.
func (r *Recorder) Error(kind string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts = map[string]int{}
	}
	r.counts[kind]++
	return r.counts[kind]
}

// Counts are the errors counted so far, by kind.
func (r *Recorder) Counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]int, len(r.counts))
	for k, v := range r.counts {
		m[k] = v
	}
	return m
}

// Options size a run.
type Options struct {
	InFlight int
	// The measured window ends once WindowFactor×InFlight payouts (at least MinWindow) completed in it and
	// MinDuration passed, or at MaxDuration. Warm-up: until InFlight payouts completed and WarmUp passed.
	WindowFactor float64
	MinWindow    int
	MinDuration  time.Duration
	MaxDuration  time.Duration
	WarmUp       time.Duration
	// PayoutTimeout bounds one payout; after the window, payouts in flight get this long to finish.
	PayoutTimeout time.Duration
	// Procs are the processes whose CPU and memory are read, by name.
	Procs map[string]int
	// Samples is how many payouts of the window have their history counted.
	Samples int
	// KeyPrefix makes the payouts' keys unique across runs.
	KeyPrefix string
	Logf      func(format string, args ...any)
}

// Result is one run's figures.
type Result struct {
	Side          string             `json:"side"`
	InFlight      int                `json:"in_flight"`
	Rep           int                `json:"rep"`
	WarmUpSeconds float64            `json:"warm_up_seconds"`
	WindowSeconds float64            `json:"window_seconds"`
	Completed     int                `json:"completed"`
	PerSecond     float64            `json:"payouts_per_second"`
	P50Ms         float64            `json:"latency_p50_ms"`
	P99Ms         float64            `json:"latency_p99_ms"`
	Errors        map[string]int     `json:"errors,omitempty"`
	CPUMs         map[string]float64 `json:"cpu_ms_per_payout"`
	RSSMB         map[string]float64 `json:"rss_mb"`
	HWMMB         map[string]float64 `json:"peak_rss_mb"`
	Events        float64            `json:"history_events_per_payout"`
	EventsSampled int                `json:"history_events_sampled"`
	Cut           bool               `json:"window_cut,omitempty"`    // MaxDuration ended the warm-up or the window before its count
	Undrained     int                `json:"undrained,omitempty"`     // payouts still in flight after PayoutTimeout
	DrainSeconds  float64            `json:"drain_seconds,omitempty"` // after the window, until the last payout ended
}

type done struct {
	id         string
	start, end time.Time
	err        error
}

// Run drives side at opts.InFlight payouts in flight (each slot starts its next payout when its last one ends),
// measures one window and lets the payouts in flight finish.
func Run(ctx context.Context, side Side, opts Options) (Result, error) {
	res := Result{Side: side.Name(), InFlight: opts.InFlight}
	rec := &Recorder{}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stopping atomic.Bool
	var seq, active atomic.Int64
	out := make(chan done, opts.InFlight)
	var wg sync.WaitGroup
	begin := time.Now()
	for range opts.InFlight {
		active.Add(1)
		wg.Go(func() {
			defer active.Add(-1)
			for !stopping.Load() && runCtx.Err() == nil {
				key := fmt.Sprintf("%s-%d", opts.KeyPrefix, seq.Add(1))
				pctx, pcancel := context.WithTimeout(runCtx, opts.PayoutTimeout)
				d := done{start: time.Now()}
				d.id, d.err = side.Payout(pctx, key, rec)
				d.end = time.Now()
				pcancel()
				if d.err != nil {
					k := kind(d.err, pctx)
					if rec.Error(k) == 1 {
						opts.Logf("%s: first %q: %v", side.Name(), k, d.err)
					}
					if runCtx.Err() == nil {
						time.Sleep(100 * time.Millisecond) // an error is not a reason to hammer
					}
				}
				select {
				case out <- d:
				case <-runCtx.Done(): // Run returned early
					return
				}
			}
		})
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()

	// Warm-up: until InFlight payouts completed and WarmUp passed, or MaxDuration (then the window is marked cut).
	ok := 0
	for ok < opts.InFlight || time.Since(begin) < opts.WarmUp {
		select {
		case d := <-out:
			if d.err == nil {
				ok++
			}
		case <-time.After(time.Second):
		case <-ctx.Done():
			return res, ctx.Err()
		}
		if time.Since(begin) > opts.MaxDuration {
			if ok == 0 {
				return res, fmt.Errorf("%s at %d in flight: no payout completed in %s (errors: %v)",
					side.Name(), opts.InFlight, opts.MaxDuration, rec.Counts())
			}
			res.Cut = true
			break
		}
	}
	res.WarmUpSeconds = time.Since(begin).Seconds()

	// The window.
	target := max(int(opts.WindowFactor*float64(opts.InFlight)), opts.MinWindow)
	before, err := sample(opts.Procs)
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	var window []done
	for len(window) < target || time.Since(t0) < opts.MinDuration {
		if time.Since(t0) > opts.MaxDuration {
			res.Cut = true
			break
		}
		select {
		case d := <-out:
			if d.err == nil {
				window = append(window, d)
			}
		case <-time.After(time.Second):
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	t1 := time.Now()
	after, err := sample(opts.Procs)
	if err != nil {
		return res, err
	}

	// Drain: no new payouts; those in flight finish (their figures are not counted).
	stopping.Store(true)
	drainStart := time.Now()
	timeout := time.After(opts.PayoutTimeout + 10*time.Second)
drain:
	for {
		select {
		case <-out:
		case <-allDone:
			break drain
		case <-timeout:
			res.Undrained = int(active.Load())
			cancel()
			timeout = nil
		}
	}
	res.DrainSeconds = time.Since(drainStart).Seconds()

	res.WindowSeconds = t1.Sub(t0).Seconds()
	res.Completed = len(window)
	res.PerSecond = float64(len(window)) / t1.Sub(t0).Seconds()
	lat := make([]float64, len(window))
	for i, d := range window {
		lat[i] = float64(d.end.Sub(d.start).Microseconds()) / 1000
	}
	res.P50Ms, res.P99Ms = stats.Percentile(lat, 50), stats.Percentile(lat, 99)
	res.Errors = rec.Counts()
	res.CPUMs, res.RSSMB, res.HWMMB = map[string]float64{}, map[string]float64{}, map[string]float64{}
	for name, a := range after {
		if len(window) > 0 {
			res.CPUMs[name] = float64((a.CPU - before[name].CPU).Microseconds()) / 1000 / float64(len(window))
		}
		res.RSSMB[name], res.HWMMB[name] = mb(a.RSS), mb(a.HWM)
	}
	res.Events, res.EventsSampled = events(ctx, side, window, opts.Samples, opts.Logf)
	return res, nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// kind is what an error of a payout counts as.
func kind(err error, ctx context.Context) string {
	var f *Failure
	switch {
	case errors.As(err, &f):
		return f.Kind
	case ctx.Err() != nil:
		return "payout timed out"
	default:
		return "error: " + err.Error()
	}
}

func sample(procs map[string]int) (map[string]procstat.Sample, error) {
	m := map[string]procstat.Sample{}
	for name, pid := range procs {
		s, err := procstat.Read(pid)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		m[name] = s
	}
	return m, nil
}

// events is the median history length of up to n payouts spread over the window.
func events(ctx context.Context, side Side, window []done, n int, logf func(string, ...any)) (float64, int) {
	if n <= 0 || len(window) == 0 {
		return 0, 0
	}
	sorted := append([]done(nil), window...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].end.Before(sorted[j].end) })
	var counts []float64
	for i := range min(n, len(sorted)) {
		d := sorted[i*len(sorted)/min(n, len(sorted))]
		c, err := side.Events(ctx, d.id)
		if err != nil {
			logf("history of %s: %v", d.id, err)
			continue
		}
		counts = append(counts, float64(c))
	}
	return stats.Median(counts), len(counts)
}
