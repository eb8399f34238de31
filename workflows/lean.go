// Less work per payout (versionLean, issue 17): every event of a payout's history, every memo or search-attribute
// upsert costs the Temporal server CPU and database writes, and every goroutine of a payout waiting in the worker's
// cache costs memory. A payout under versionLean publishes once per workflow task what the task changed, listens to
// its signals with one goroutine, asks the provider what moves no money (open, status) with local activities, and
// leaves a timer it no longer needs to fire unseen when the payout will be over or waiting on a sooner timer first.

package workflows

import (
	"encoding/json"
	"hash/fnv"
	"maps"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

// lean reports whether the payout runs under versionLean or later.
func (p *run) lean() bool { return p.version >= versionLean }

// quiet reports whether the payout runs under versionQuiet or later.
func (p *run) quiet() bool { return p.version >= versionQuiet }

// quietFor is the longest a change no backend acts on waits for a publication (versionQuiet): it is published
// with the next one that is urgent, or by the first workflow task this long after it was made.
const quietFor = 10 * time.Second

// changed tells the publisher that what the payout publishes may have changed (lean); unless made quietly, the
// change is urgent: published at the end of its workflow task.
func (p *run) changed() {
	if p.lean() {
		p.changes++
		if !p.hush {
			p.urgent = p.changes
		}
	}
}

// quietly makes what do changes as changes no backend acts on, when quiet holds and the payout runs under
// versionQuiet: they wait for the next urgent publication, or for quietFor (due). do must not block: another
// goroutine's changes made meanwhile would be quiet too.
func (p *run) quietly(quiet bool, do func()) {
	p.hush = quiet && p.quiet()
	defer func() { p.hush = false }()
	do()
}

// publisher publishes the payout's state at most once per workflow task: once something changed, it lets every
// other goroutine run on what the task brought (the story wakes on a signal its listener took, say), and publishes
// when a round of them changed nothing more.
//
// Under versionQuiet a change no backend acts on waits (due).
func (p *run) publisher(ctx workflow.Context) {
	for {
		_ = workflow.Await(ctx, func() bool { return p.changes != p.flushed && !p.localUnderWay(ctx) && p.due(ctx) })
		for seen := -1; seen != p.changes; {
			seen = p.changes
			yield(ctx)
		}
		p.flush(ctx)
	}
}

// due reports whether the changes not yet published are to be published in this workflow task: always before
// versionQuiet; under it, when one of them is urgent (publish) or the oldest was made quietFor ago or more.
func (p *run) due(ctx workflow.Context) bool {
	if !p.quiet() || p.urgent > p.flushed {
		return true
	}
	now := workflow.Now(ctx)
	if p.pendingSince.IsZero() {
		p.pendingSince = now // the task of the oldest change not published
	}
	return now.Sub(p.pendingSince) >= quietFor
}

// runLocal runs a local activity. Within the workflow task it started in, the publisher waits for it: what it
// answers is published with what came before it.
func (p *run) runLocal(ctx workflow.Context, name string, arg, out any) error {
	p.local++
	p.localTask = workflow.GetInfo(ctx).GetCurrentHistoryLength()
	err := workflow.ExecuteLocalActivity(ctx, name, arg).Get(ctx, out)
	p.local--
	return err
}

// localUnderWay reports whether a local activity started in this workflow task is under way. One that outlasts
// the task (the worker then starts another to show it is alive) no longer holds the publication back.
func (p *run) localUnderWay(ctx workflow.Context) bool {
	return p.local > 0 && workflow.GetInfo(ctx).GetCurrentHistoryLength() == p.localTask
}

// yield lets every other goroutine of the workflow run once: a goroutine started here runs after them, in the
// same workflow task, and the dispatcher goes round once more because it did.
func yield(ctx workflow.Context) {
	ran := false
	workflow.Go(ctx, func(workflow.Context) { ran = true })
	_ = workflow.Await(ctx, func() bool { return ran })
}

// flush publishes what changed since the last publication, if anything did.
func (p *run) flush(ctx workflow.Context) {
	if p.flushed == p.changes {
		return
	}
	p.flushed, p.pendingSince = p.changes, time.Time{}
	p.emit(ctx)
}

// leanMemo returns memo with each value as the JSON its upsert sends, and whether that differs from the memo
// published last (remembered as published): each value is marshalled once, for the comparison and the upsert.
func (p *run) leanMemo(memo map[string]any) (map[string]any, bool) {
	raw := make(map[string]any, len(memo))
	h := fnv.New64a()
	for _, k := range slices.Sorted(maps.Keys(memo)) {
		b, err := json.Marshal(memo[k])
		if err != nil {
			return memo, true // the upsert reports it
		}
		raw[k] = json.RawMessage(b)
		_, _ = h.Write([]byte(k))
		_, _ = h.Write(b)
	}
	sum := h.Sum64()
	if sum == p.memoSum {
		return raw, false
	}
	p.memoSum = sum
	return raw, true
}

// listenLean takes every signal in one goroutine. A provider's webhook is taken at once (its handler never waits);
// a decision, a resolution or a transfer's start may wait (a local activity checks the API's proof, a mark asks the
// provider), so each of those signals is handled in its turn, one after another in the order they came, by a
// goroutine that lives while it has any to handle.
func (p *run) listenLean(ctx workflow.Context) {
	sel := workflow.NewSelector(ctx)
	channel := func(name, desc string) workflow.ReceiveChannel {
		ch := workflow.GetSignalChannelWithOptions(ctx, name, workflow.SignalChannelOptions{Description: desc})
		p.signals = append(p.signals, ch)
		return ch
	}
	onEvent := func(name, desc string) {
		sel.AddReceive(channel(name, desc), func(c workflow.ReceiveChannel, _ bool) {
			var ev providers.Event
			c.Receive(ctx, &ev)
			p.onProviderEvent(ctx, name, ev)
		})
	}
	onDecision := func(name string, approve bool, desc string) {
		t := &turn{}
		sel.AddReceive(channel(name, desc), func(c workflow.ReceiveChannel, _ bool) {
			var d payout.Decision
			c.Receive(ctx, &d)
			p.inTurn(ctx, t, func(ctx workflow.Context) { p.onDecision(ctx, approve, d) })
		})
	}
	onEvent(SignalReadyToConfirm, descReadyToConfirm)
	onEvent(SignalPaymentFinish, descPaymentFinished)
	onEvent(SignalSBPStatus, descSBPStatus)
	onEvent(SignalActionRequired, descActionRequired)
	started := &turn{}
	sel.AddReceive(channel(SignalTransferStarted, descTransferStarted), func(c workflow.ReceiveChannel, _ bool) {
		var s TransferStarted
		c.Receive(ctx, &s)
		p.inTurn(ctx, started, func(ctx workflow.Context) { p.onTransferStarted(ctx, s) })
	})
	resolve := &turn{}
	sel.AddReceive(channel(SignalResolve, descResolve), func(c workflow.ReceiveChannel, _ bool) {
		var r Resolution
		c.Receive(ctx, &r)
		p.inTurn(ctx, resolve, func(ctx workflow.Context) { p.onResolve(ctx, r) })
	})
	onDecision(SignalConfirm, true, descConfirm)
	onDecision(SignalCancel, false, descCancel)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			sel.Select(ctx)
		}
	})
}

// turn is the queue of one signal's handlers, run one after another.
type turn struct{ queue []func(workflow.Context) }

// inTurn queues the handler of a signal behind the ones of the same signal still running; a goroutine runs the
// queue while it has any. p.handling counts them until they are done, for continue-as-new.
func (p *run) inTurn(ctx workflow.Context, t *turn, handle func(workflow.Context)) {
	p.handling++
	t.queue = append(t.queue, handle)
	if len(t.queue) > 1 {
		return // the queue's goroutine runs
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		for len(t.queue) > 0 {
			t.queue[0](ctx)
			t.queue[0] = nil
			t.queue = t.queue[1:]
			p.handling--
		}
	})
}

// staleTimer is a timer a wait no longer needs, left to fire unseen unless it would wake a payout that waits.
type staleTimer struct {
	fires  time.Time
	cancel workflow.CancelFunc
}

// awaitLean is awaitFor under versionLean: a timer no longer needed is not cancelled at once. The payout most
// often ends before it fires (an approval deadline after the approval), and a cancellation is an event. It is
// cancelled when the payout next waits on a timer that fires later, where it would wake the payout for nothing.
func (p *run) awaitLean(ctx workflow.Context, d time.Duration, summary string, cond func() bool) (bool, error) {
	if cond() {
		return true, nil
	}
	fires := workflow.Now(ctx).Add(d)
	p.cancelStaleTimers(ctx, fires)
	timerCtx, cancel := workflow.WithCancel(ctx)
	timer := workflow.NewTimerWithOptions(timerCtx, d, workflow.TimerOptions{Summary: summary})
	if err := workflow.Await(ctx, func() bool { return timer.IsReady() || cond() }); err != nil {
		cancel()
		return false, err
	}
	if !cond() {
		return false, nil
	}
	if !timer.IsReady() {
		p.stale = append(p.stale, staleTimer{fires: fires, cancel: cancel})
	}
	return true, nil
}

// cancelStaleTimers cancels the timers left behind that would fire by before, and forgets those that fired.
func (p *run) cancelStaleTimers(ctx workflow.Context, before time.Time) {
	now := workflow.Now(ctx)
	kept := p.stale[:0]
	for _, t := range p.stale {
		switch {
		case !t.fires.After(now):
			// fired already: nothing to cancel
		case !t.fires.After(before):
			t.cancel()
		default:
			kept = append(kept, t)
		}
	}
	clear(p.stale[len(kept):])
	p.stale = kept
}

// Local activities (versionLean) for the calls that move no money: one marker in the history instead of a
// scheduled, started and completed activity and the workflow task after it. The worker registers the activities
// by these names (Register).
const (
	localOpen   = "Open"
	localStatus = "Status"
)

// localOptions are the local activity options matching the activity options opts: the same timeouts and retries.
func localOptions(ctx workflow.Context, opts workflow.ActivityOptions) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    opts.StartToCloseTimeout,
		ScheduleToCloseTimeout: opts.ScheduleToCloseTimeout,
		RetryPolicy:            cloneRetry(opts.RetryPolicy),
	})
}

func cloneRetry(r *temporal.RetryPolicy) *temporal.RetryPolicy {
	if r == nil {
		return nil
	}
	c := *r
	return &c
}
