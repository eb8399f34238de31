// Package delivery sends webhooks and notifications the way a provider does: in the background, each retried with
// a doubling back-off until it is answered 200 or its attempts run out, one after the other for the same session,
// and all of them stopped at once when their background.Group is closed.
package delivery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/payoutflow/payoutflow/providers/internal/background"
)

// Policy is how a delivery is retried.
type Policy struct {
	// Attempts is how many tries a delivery gets before it is abandoned.
	Attempts int
	// FirstBackoff is the wait after the first failed try; it doubles after each further one, up to MaxBackoff.
	FirstBackoff time.Duration
	MaxBackoff   time.Duration
}

// Queue runs deliveries in the goroutines of a background.Group: closing the group stops them.
type Queue struct {
	group  *background.Group
	what   string
	policy Policy
	log    *slog.Logger
}

// Line keeps deliveries in order: one sent on a Line starts once the one sent before it on the same Line is
// delivered or abandoned. The zero Line is empty and ready to use. A Line is not safe for concurrent use: its
// owner sends on it under the lock that guards it.
type Line struct {
	last chan struct{}
}

// NewQueue returns a queue that runs its deliveries in group, and whose log lines name them what ("webhook",
// "notification"). log gets a line for each try: Debug when delivered, Warn when it will be retried, Error when
// abandoned.
func NewQueue(group *background.Group, what string, policy Policy, log *slog.Logger) *Queue {
	return &Queue{group: group, what: what, policy: policy, log: log}
}

// Send delivers in the background, after the deliveries sent on line before. attempt makes one try, with the
// group's context, and reports with a nil error that it was delivered; delivered, unless nil, runs once after the
// try that succeeded, before the next delivery on line starts. attrs name the delivery in log lines. Once the group
// is closed, Send does nothing, and a delivery under way or waiting for its turn ends without another try.
func (q *Queue) Send(line *Line, attempt func(ctx context.Context) error, delivered func(), attrs ...any) {
	attrs = attrs[:len(attrs):len(attrs)] // each log line appends its own
	ctx := q.group.Context()
	prev, done := line.last, make(chan struct{})
	started := q.group.Go(func() {
		defer close(done)
		if prev != nil {
			select {
			case <-prev:
			case <-ctx.Done():
				return
			}
		}
		if q.deliver(ctx, attempt, attrs) && delivered != nil {
			delivered()
		}
	})
	if started {
		line.last = done
	}
}

// deliver tries until a try succeeds, the attempts run out or ctx is cancelled, and reports whether it was
// delivered.
func (q *Queue) deliver(ctx context.Context, attempt func(ctx context.Context) error, attrs []any) bool {
	backoff := q.policy.FirstBackoff
	for n := 1; ; n++ {
		if ctx.Err() != nil {
			return false // closed while waiting for its turn
		}
		err := attempt(ctx)
		if err == nil {
			q.log.Debug(q.what+" delivered", append(attrs, "attempt", n)...)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if n >= q.policy.Attempts {
			q.log.Error(q.what+" abandoned", append(attrs, "attempts", n, "err", err)...)
			return false
		}
		q.log.Warn(q.what+" not delivered, will retry", append(attrs, "attempt", n, "retry_in", backoff, "err", err)...)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		}
		backoff = min(2*backoff, q.policy.MaxBackoff)
	}
}

// drainLimit bounds how much of an answer Check reads before it closes it.
const drainLimit = 64 << 10

// Check reads what one try got, the result of http.Client.Do: an error, or an answer that must be 200. It drops
// the answer's body (reading up to 64 KiB of it, so that the connection can be reused) and closes it.
func Check(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}
