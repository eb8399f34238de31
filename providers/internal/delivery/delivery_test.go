package delivery

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers/internal/background"
)

var fastRetries = Policy{Attempts: 4, FirstBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}

// syncBuffer is a log sink that goroutines can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// recorder records what the deliveries of a test did, in order.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string{}, r.events...)
}

// failing is an attempt that fails its first n tries, recording each.
func (r *recorder) failing(name string, n int) func(context.Context) error {
	tries := 0
	return func(context.Context) error {
		tries++
		r.add(name + " try")
		if tries <= n {
			return errors.New("refused")
		}
		return nil
	}
}

func newQueue(t *testing.T, policy Policy) (*Queue, *background.Group, *syncBuffer) {
	t.Helper()
	g := background.NewGroup()
	t.Cleanup(g.Close)
	logs := &syncBuffer{}
	return NewQueue(g, "webhook", policy, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))), g, logs
}

func TestQueue_RetriesUntilDeliveredOrAbandoned(t *testing.T) {
	tests := []struct {
		name      string
		failures  int
		delivered bool
		tries     int
		logged    []string
	}{
		{"delivered at once", 0, true, 1, []string{`level=DEBUG msg="webhook delivered" session=ps_1 attempt=1`}},
		{"delivered after retries", 2, true, 3, []string{
			`level=WARN msg="webhook not delivered, will retry" session=ps_1 attempt=1 retry_in=1ms err=refused`,
			`level=WARN msg="webhook not delivered, will retry" session=ps_1 attempt=2 retry_in=2ms err=refused`,
			`level=DEBUG msg="webhook delivered" session=ps_1 attempt=3`,
		}},
		{"abandoned when the attempts run out", 100, false, 4, []string{
			`retry_in=4ms`, // the back-off doubles up to its maximum
			`level=ERROR msg="webhook abandoned" session=ps_1 attempts=4 err=refused`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _, logs := newQueue(t, fastRetries)
			rec := &recorder{}
			done := make(chan struct{})
			var line Line

			q.Send(&line, rec.failing("a", tt.failures), func() { rec.add("a delivered") }, "session", "ps_1")
			q.Send(&line, func(context.Context) error { close(done); return nil }, nil)
			<-done

			want := slices.Repeat([]string{"a try"}, tt.tries)
			if tt.delivered {
				want = append(want, "a delivered")
			}
			require.Equal(t, want, rec.list(), "delivered runs after the try that succeeded, and only then")
			for _, line := range tt.logged {
				require.Contains(t, logs.String(), line)
			}
		})
	}
}

func TestQueue_KeepsOrderOnALineOnly(t *testing.T) {
	q, _, _ := newQueue(t, Policy{Attempts: 100, FirstBackoff: 5 * time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	rec := &recorder{}
	var first, second Line
	otherDone := make(chan struct{})
	allDone := make(chan struct{})

	q.Send(&first, rec.failing("a", 3), func() { rec.add("a delivered") })
	q.Send(&first, rec.failing("b", 0), func() { rec.add("b delivered"); close(allDone) })
	q.Send(&second, rec.failing("other", 0), func() { close(otherDone) })

	select {
	case <-otherDone:
	case <-time.After(5 * time.Second):
		t.Fatal("a delivery on another line waited")
	}
	<-allDone
	var onFirst []string
	for _, e := range rec.list() {
		if !strings.HasPrefix(e, "other") {
			onFirst = append(onFirst, e)
		}
	}
	require.Equal(t, []string{"a try", "a try", "a try", "a try", "a delivered", "b try", "b delivered"}, onFirst,
		"b starts once a is delivered")
}

func TestQueue_ClosingTheGroupStopsDeliveries(t *testing.T) {
	q, g, _ := newQueue(t, Policy{Attempts: 1000, FirstBackoff: time.Hour, MaxBackoff: time.Hour})
	rec := &recorder{}
	var line Line
	tried := make(chan struct{})
	var once sync.Once
	q.Send(&line, func(context.Context) error {
		once.Do(func() { close(tried) })
		rec.add("a try")
		return errors.New("refused")
	}, func() { rec.add("a delivered") })
	q.Send(&line, rec.failing("b", 0), nil) // waits for a
	<-tried

	start := time.Now()
	g.Close()

	require.Less(t, time.Since(start), time.Second, "Close does not wait for the back-off")
	q.Send(&line, rec.failing("c", 0), nil)
	time.Sleep(20 * time.Millisecond)
	require.Equal(t, []string{"a try"}, rec.list(), "no try after Close, and nothing new starts")
}

func TestQueue_AnAttemptUnderWayIsCancelled(t *testing.T) {
	q, g, _ := newQueue(t, fastRetries)
	var line Line
	started := make(chan struct{})
	ended := make(chan error, 1)
	q.Send(&line, func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		ended <- ctx.Err()
		return ctx.Err()
	}, nil)
	<-started

	g.Close()

	require.ErrorIs(t, <-ended, context.Canceled)
}

// body is a response body that records whether it was read to the end and closed.
type body struct {
	io.Reader
	closed bool
}

func (b *body) Close() error { b.closed = true; return nil }

func TestCheck(t *testing.T) {
	transport := errors.New("connection refused")
	tests := []struct {
		name    string
		resp    *http.Response
		err     error
		wantErr string
	}{
		{name: "answered 200", resp: &http.Response{StatusCode: 200, Status: "200 OK"}},
		{name: "answered 500", resp: &http.Response{StatusCode: 500, Status: "500 Internal Server Error"},
			wantErr: "answered 500 Internal Server Error"},
		{name: "answered 204: only 200 delivers", resp: &http.Response{StatusCode: 204, Status: "204 No Content"},
			wantErr: "answered 204 No Content"},
		{name: "no answer", err: transport, wantErr: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b *body
			if tt.resp != nil {
				b = &body{Reader: strings.NewReader(strings.Repeat("x", 100<<10))}
				tt.resp.Body = b
			}

			err := Check(tt.resp, tt.err)

			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
			}
			if b != nil {
				require.True(t, b.closed, "the body is closed")
				rest, _ := io.ReadAll(b.Reader)
				require.Len(t, rest, 100<<10-drainLimit, "up to 64 KiB is read")
			}
		})
	}
}
