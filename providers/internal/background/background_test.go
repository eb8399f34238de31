package background

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGroup_GoRunsUntilClosed(t *testing.T) {
	g := NewGroup()
	ran := make(chan struct{})

	require.True(t, g.Go(func() { close(ran) }))
	<-ran
	g.Close()

	var late atomic.Bool
	require.False(t, g.Go(func() { late.Store(true) }), "nothing starts after Close")
	require.False(t, late.Load())
}

func TestGroup_CloseCancelsTheContextAndWaits(t *testing.T) {
	g := NewGroup()
	started := make(chan struct{})
	var ended atomic.Bool
	g.Go(func() {
		close(started)
		<-g.Context().Done()
		time.Sleep(20 * time.Millisecond) // cleaning up
		ended.Store(true)
	})
	<-started
	require.NoError(t, g.Context().Err())

	g.Close()

	require.Error(t, g.Context().Err())
	require.True(t, ended.Load(), "Close returns once the goroutines have ended")
}

func TestGroup_After(t *testing.T) {
	tests := []struct {
		name    string
		delay   time.Duration
		closeAt time.Duration // when the group is closed, from the start
		ran     bool
	}{
		{"runs once the delay has passed", 10 * time.Millisecond, 200 * time.Millisecond, true},
		{"does not run when closed first", time.Hour, 10 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewGroup()
			start := time.Now()
			ranAt := make(chan time.Duration, 1)

			g.After(tt.delay, func() { ranAt <- time.Since(start) })
			time.Sleep(tt.closeAt)
			closing := time.Now()
			g.Close()

			require.Less(t, time.Since(closing), time.Second, "Close does not wait for the delay")
			select {
			case at := <-ranAt:
				require.True(t, tt.ran, "ran after %s", at)
				require.GreaterOrEqual(t, at, tt.delay)
			default:
				require.False(t, tt.ran, "did not run")
			}
		})
	}
}

func TestGroup_AfterOnAClosedGroupDoesNothing(t *testing.T) {
	g := NewGroup()
	g.Close()
	var ran atomic.Bool

	g.After(0, func() { ran.Store(true) })
	time.Sleep(20 * time.Millisecond)

	require.False(t, ran.Load())
}
