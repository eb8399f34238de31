package driver

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// timed is a side whose payouts take a fixed time, every fifth failing with an HTTP 500 and each noting a
// retried GET: enough to check what Run counts.
type timed struct {
	took  time.Duration
	n     atomic.Int64
	inFly atomic.Int64
	most  atomic.Int64
}

func (s *timed) Name() string { return "timed" }

func (s *timed) Payout(ctx context.Context, key string, rec *Recorder) (string, error) {
	now := s.inFly.Add(1)
	defer s.inFly.Add(-1)
	for m := s.most.Load(); now > m && !s.most.CompareAndSwap(m, now); m = s.most.Load() {
	}
	rec.Error("GET: HTTP 503")
	select {
	case <-time.After(s.took):
	case <-ctx.Done():
		return key, ctx.Err()
	}
	if s.n.Add(1)%5 == 0 {
		return key, &Failure{Kind: "create: HTTP 500"}
	}
	return key, nil
}

func (s *timed) Events(ctx context.Context, id string) (int, error) { return 35, nil }

func TestRun_MeasuresAWindowAtTheGivenLoadAndCountsErrors(t *testing.T) {
	side := &timed{took: 20 * time.Millisecond}
	res, err := Run(t.Context(), side, Options{InFlight: 4, WindowFactor: 5, MinWindow: 10, MinDuration: 200 * time.Millisecond,
		MaxDuration: 10 * time.Second, WarmUp: 50 * time.Millisecond, PayoutTimeout: time.Second,
		Procs: map[string]int{"self": os.Getpid()}, Samples: 3, KeyPrefix: "k", Logf: t.Logf})
	require.NoError(t, err)
	require.Equal(t, int64(4), side.most.Load(), "never more than InFlight at once")
	require.Zero(t, side.inFly.Load(), "drained")
	require.GreaterOrEqual(t, res.Completed, 20)
	require.GreaterOrEqual(t, res.WindowSeconds, 0.2)
	// 4 slots, 20 ms each, a fifth failing: about 160 successes a second, less the overhead.
	require.InDelta(t, 160, res.PerSecond, 100)
	require.GreaterOrEqual(t, res.P50Ms, 20.0)
	require.GreaterOrEqual(t, res.P99Ms, res.P50Ms)
	require.Positive(t, res.Errors["create: HTTP 500"])
	require.Greater(t, res.Errors["GET: HTTP 503"], res.Errors["create: HTTP 500"])
	require.Contains(t, res.CPUMs, "self")
	require.Positive(t, res.RSSMB["self"])
	require.Equal(t, 35.0, res.Events)
	require.Equal(t, 3, res.EventsSampled)
	require.False(t, res.Cut)
}

func TestRun_CutsAWarmUpOrAWindowThatCannotFillAndNamesAStuckRun(t *testing.T) {
	res, err := Run(t.Context(), &timed{took: 50 * time.Millisecond}, Options{InFlight: 2, WindowFactor: 1, MinWindow: 1000,
		MaxDuration: 500 * time.Millisecond, PayoutTimeout: time.Second, KeyPrefix: "k", Logf: t.Logf})
	require.NoError(t, err)
	require.True(t, res.Cut)
	require.Positive(t, res.Completed)

	res, err = Run(t.Context(), &timed{took: 100 * time.Millisecond}, Options{InFlight: 50, WindowFactor: 0, MinWindow: 1,
		WarmUp: time.Hour, MaxDuration: 300 * time.Millisecond, PayoutTimeout: time.Second, KeyPrefix: "k", Logf: t.Logf})
	require.NoError(t, err, "a warm-up that cannot reach its count goes on to the window")
	require.True(t, res.Cut)
	require.Positive(t, res.Completed)

	_, err = Run(t.Context(), &timed{took: time.Hour}, Options{InFlight: 2, MaxDuration: 300 * time.Millisecond,
		PayoutTimeout: 100 * time.Millisecond, KeyPrefix: "k", Logf: t.Logf})
	require.ErrorContains(t, err, "no payout completed")
}

func TestKind_CountsFailuresByKindAndTimeoutsAsSuch(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	require.Equal(t, "confirm: HTTP 500", kind(&Failure{Kind: "confirm: HTTP 500", Err: errors.New("x")}, ctx))
	require.Equal(t, "error: boom", kind(errors.New("boom"), ctx))
	cancel()
	require.Equal(t, "payout timed out", kind(errors.New("context canceled"), ctx))
}
