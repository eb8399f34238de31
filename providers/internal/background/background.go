// Package background runs a component's goroutines (delayed steps, deliveries) so that one Close stops them all:
// their context is cancelled, no new one starts, and Close returns once the running ones have ended.
package background

import (
	"context"
	"sync"
	"time"
)

// Group is a set of goroutines that Close cancels and waits for. Its methods are safe for concurrent use.
type Group struct {
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu     sync.Mutex
	closed bool
}

// NewGroup returns a group with no goroutines.
func NewGroup() *Group {
	ctx, stop := context.WithCancel(context.Background())
	return &Group{ctx: ctx, stop: stop}
}

// Context is the goroutines' context: Close cancels it.
func (g *Group) Context() context.Context { return g.ctx }

// Go runs fn in a goroutine of the group and reports true, or, once the group is closed, does nothing and reports
// false.
func (g *Group) Go(fn func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Go(fn)
	return true
}

// After runs fn in a goroutine of the group once d has passed, unless the group is closed first.
func (g *Group) After(d time.Duration, fn func()) {
	g.Go(func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-g.ctx.Done():
			return
		}
		fn()
	})
}

// Close cancels the goroutines' context, starts no goroutine after, and waits for the running ones to end.
func (g *Group) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.stop()
	g.wg.Wait()
}
