// The payout's story, first chapter: the entry (PayoutWorkflow, its names and its Input) and the main story,
// top to bottom. The other chapters: approval.go, submit.go, wait.go, continue.go, cancel.go, resolve.go,
// transfer.go, and state.go (what a run knows and publishes).

// Package workflows holds PayoutWorkflow: one durable workflow per payout, from the backend's request to a final
// state, driven by provider activities, provider webhooks (as signals) and human or policy decisions (as signals).
package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/policy"
	"github.com/payoutflow/payoutflow/providers"
)

// Names of the workflow type, its query and its signals, as clients and Temporal UI use them.
const (
	WorkflowName         = "PayoutWorkflow"
	QueryState           = "state"
	SignalReadyToConfirm = providers.EventReadyToConfirm
	SignalPaymentFinish  = providers.EventPaymentFinished
	SignalSBPStatus      = providers.EventSBPStatus
	SignalActionRequired = providers.EventActionRequired
	// SignalTransferStarted is sent by the API once it has handed a transfer to the provider itself: the sender's
	// card never enters the workflow.
	SignalTransferStarted = "transfer_started"
	// SignalResolve is an operator's way out of needs_attention: look up again, mark failed, mark succeeded.
	SignalResolve = "resolve"
	SignalConfirm = "confirm"
	SignalCancel  = "cancel"
	UpdateVerify  = "verify"
	// MemoState is the memo field the workflow publishes its state to with every change, for reads that need no
	// worker.
	MemoState = "state"
)

// Defaults for the timing of a payout, used when Input leaves them zero.
const (
	DefaultApprovalTimeout = 24 * time.Hour
	DefaultPollAfter       = 2 * time.Minute
	maxPollInterval        = 30 * time.Minute
	maxAttempts            = 3
	// DefaultWatchEvery is how often a provider that tells by no webhook that it waits for confirmation (an SBP
	// name check) is asked.
	DefaultWatchEvery = 2 * time.Second
	// DefaultSettleFor, DefaultDedupFor and DefaultPendingLimit stand in for Input's when it leaves them zero.
	DefaultSettleFor    = 10 * time.Minute
	DefaultDedupFor     = 10 * time.Minute
	DefaultPendingLimit = 72 * time.Hour
)

// Input starts a payout.
type Input struct {
	ID      string         `json:"id"`
	Request payout.Request `json:"request"`
	// ApprovalTimeout is how long a payout waits for confirm or cancel before it is cancelled.
	ApprovalTimeout time.Duration `json:"approval_timeout"`
	// PollAfter is how long to wait for a webhook before asking the provider; the wait doubles after each ask, up
	// to PollMax (maxPollInterval when zero).
	PollAfter time.Duration `json:"poll_after"`
	PollMax   time.Duration `json:"poll_max,omitempty"`
	// ApproveBeforeSubmit puts the approval before the payout is submitted, for providers that pay at once on
	// submit (providers.Capabilities.ConfirmsAtProvider false): no money moves before approval. Without it the provider holds the payout for confirmation.
	ApproveBeforeSubmit bool `json:"approve_before_submit,omitempty"`
	// OpenOnSubmit: the provider has no step before submit (a single-request payout); Open is skipped.
	OpenOnSubmit bool `json:"open_on_submit,omitempty"`
	// LookupBySubmit: the provider finds a payout whose submit went unanswered only by a submit under the same
	// payout ID, which it refuses as a duplicate while the first one stands.
	LookupBySubmit bool `json:"lookup_by_submit,omitempty"`
	// SubmitTimeout bounds one submit, as the provider advises; one minute when zero.
	SubmitTimeout time.Duration `json:"submit_timeout,omitempty"`
	// SettleFor is how long the provider may take to show a payout it was sent: after a submit whose outcome is
	// unknown, the payout is sent again only once the provider has shown none for this long (DefaultSettleFor
	// when zero).
	SettleFor time.Duration `json:"settle_for,omitempty"`
	// DedupFor is how long the provider keeps refusing a repeat of a payout under the same payout id
	// (LookupBySubmit): only within it does a repeat count as a lookup (DefaultDedupFor when zero).
	DedupFor time.Duration `json:"dedup_for,omitempty"`
	// PendingLimit is how long the provider may keep a payout pending before an operator is told
	// (DefaultPendingLimit when zero).
	PendingLimit time.Duration `json:"pending_limit,omitempty"`
	// PollsPerRun is how many times a run asks the provider for its final word before it continues as new
	// (DefaultPollsPerRun when zero).
	PollsPerRun int `json:"polls_per_run,omitempty"`
	// BalanceCheck asks the provider's balance before submit: BalanceHold or BalanceFail, "" for no check.
	BalanceCheck string `json:"balance_check,omitempty"`
	// WatchEvery is how often to ask a provider that tells by no webhook that the payout waits for confirmation;
	// DefaultWatchEvery when zero.
	WatchEvery time.Duration `json:"watch_every,omitempty"`
	// CreatedBy is who created the payout (the API key's name).
	CreatedBy string `json:"created_by,omitempty"`
	// Policy is the approval policy's verdict, taken when the payout was created.
	Policy policy.Verdict `json:"policy"`
	// Events are the endpoints its events go to, and the payout.created event the API published (events.go).
	Events EventsInput `json:"events,omitempty"`
	// Resume carries a payout continued as new (a long wait for the provider's final word) into its next run.
	Resume *Resume `json:"resume,omitempty"`
}

// PayoutWorkflow pays out one payout. Its story, for a provider with a confirm step:
// open a session → submit the payout → wait until the provider is ready (ready_to_confirm) → wait for a person's or
// policy's confirm or cancel, cancelling at the deadline → confirm or cancel at the provider → wait for the result
// (payment_finished) → succeeded, failed or cancelled.
// An SBP payout sent without the recipient's name goes the same way; the provider is ready once the
// recipient's bank has given the name (sbp_status), which is checked against the recipient before approval.
// For a provider that pays on submit, approval comes first: open → wait for confirm or cancel →
// submit → wait for the result.
func PayoutWorkflow(ctx workflow.Context, in Input) (payout.State, error) {
	version := readVersion(ctx)
	requested := ctx
	if version >= versionMoneySafety2 {
		// Temporal's own cancellation request ("Request Cancellation" in Temporal UI, temporal workflow cancel) is
		// taken as a cancel: the payout's work goes on, unaffected by it, to the end the provider decides.
		ctx, _ = workflow.NewDisconnectedContext(ctx)
	}
	p, err := newRun(ctx, in, version)
	if err != nil {
		return payout.State{}, err
	}
	if version >= versionMoneySafety2 {
		workflow.Go(requested, func(requested workflow.Context) {
			requested.Done().Receive(requested, nil)
			p.onDecision(ctx, false, payout.Decision{By: TemporalActor, Reason: "cancellation requested in Temporal"})
		})
	}
	// The story runs beside the operator's resolve signal, which can end it while it waits for a provider that
	// does not answer.
	var final payout.State
	done := false
	storyCtx, stopStory := workflow.WithCancel(ctx)
	workflow.Go(storyCtx, func(ctx workflow.Context) {
		if in.Resume != nil {
			final = p.awaitFinal(ctx)
		} else {
			final = p.story(ctx)
		}
		done = true
	})
	if p.lean() {
		workflow.Go(ctx, p.publisher) // the last goroutine: it runs after the others in each round
	}
	if err := workflow.Await(ctx, func() bool { return done || p.resolved || p.continuing }); err != nil {
		return p.state, err
	}
	if done {
		p.awaitDeliveries(ctx)
		p.flush(ctx)
		return final, nil
	}
	if p.continuing {
		p.drain(ctx)
		if !p.resolved {
			p.flush(ctx)
			return p.state, p.continueAsNew(ctx)
		}
		// An operator's mark taken while the run drained ended the payout: it listens on here.
	}
	if version >= versionMoneySafety2 {
		stopStory()
		p.listenAfterMark(ctx)
	}
	p.awaitDeliveries(ctx)
	p.flush(ctx)
	return p.state, nil
}

// story is the payout from start to end (see PayoutWorkflow).
func (p *run) story(ctx workflow.Context) payout.State {
	in := p.in
	if in.Policy.Decline != "" {
		p.decide(ctx, false, payout.Decision{By: policy.Actor, Reason: in.Policy.Decline})
		return p.cancelAtProvider(ctx)
	}
	if in.Request.Transfer != nil {
		return p.transfer(ctx)
	}

	// 1. Open the payout at the provider: no money moves.
	if !in.OpenOnSubmit && !p.open(ctx) {
		return p.state
	}
	if p.cancelRequested() {
		return p.cancelAtProvider(ctx)
	}
	if in.ApproveBeforeSubmit {
		return p.approveThenSubmit(ctx)
	}

	// 2. Submit it, if the balance covers it.
	if !p.balanceCovers(ctx) || !p.submit(ctx) {
		if p.v2() && p.state.Status.Final() {
			return p.state // the provider finished it: nothing to cancel
		}
		if p.cancelRequested() {
			return p.cancelAtProvider(ctx)
		}
		return p.state
	}

	// 3. Wait until the provider is ready to execute, or has finished on its own, or the payout is cancelled.
	stopWatch := p.watch(ctx)
	p.waitAtProvider(ctx, func() bool {
		return p.at.State == providers.StateAwaitingConfirm || p.at.State.Final() || p.cancelRequested()
	})
	stopWatch()
	if p.at.State.Final() {
		return p.finish(ctx)
	}
	if p.cancelRequested() {
		return p.cancelAtProvider(ctx)
	}
	if reason := p.mismatch(); reason != "" {
		p.decide(ctx, false, payout.Decision{By: SystemActor, Reason: reason})
		return p.cancelAtProvider(ctx)
	}
	if p.namedByBank() {
		p.checkName(ctx)
	}

	// 4. Wait for approval, until the deadline.
	p.setStatus(ctx, payout.StatusAwaitingApproval, "ready at "+payout.ProviderTitle(p.state.Provider)+", waiting for approval")
	p.approval(ctx)
	if p.cancelRequested() {
		return p.cancelAtProvider(ctx)
	}

	// 5. Confirm at the provider, then wait for the result. Should the provider not take the confirmation, the
	// payout waits for the provider's final word or for an operator to cancel it.
	p.confirm(ctx)
	return p.awaitFinal(ctx)
}

// approveThenSubmit is the story of a provider without a confirm step: approval, then the payout is submitted and
// its result awaited.
func (p *run) approveThenSubmit(ctx workflow.Context) payout.State {
	p.setStatus(ctx, payout.StatusAwaitingApproval, "waiting for approval before it is sent to "+payout.ProviderTitle(p.state.Provider))
	p.approval(ctx)
	if p.cancelRequested() {
		return p.cancelAtProvider(ctx)
	}
	p.setStatus(ctx, payout.StatusConfirmed, "approved; sending to "+payout.ProviderTitle(p.state.Provider))
	if !p.balanceCovers(ctx) || !p.submit(ctx) {
		if p.v2() && p.state.Status.Final() {
			return p.state // the provider finished it: nothing to cancel
		}
		if p.cancelRequested() {
			return p.cancelAtProvider(ctx)
		}
		return p.state
	}
	return p.awaitFinal(ctx)
}

// awaitFinal is the end of every story: the payout waits for the provider's final word, and ends as the provider
// says; a cancel asked meanwhile (while it needs attention, before a transfer's payer acts) is asked of the
// provider once it knows the payout. The wait may last months: the payout continues as new when its history
// grows long (continueAsNew), and the new run starts here.
func (p *run) awaitFinal(ctx workflow.Context) payout.State {
	final := func() bool { return p.at.State.Final() }
	done := func() bool { return final() || p.cancelRequested() }
	switch {
	case p.in.ApproveBeforeSubmit:
		done = final // the provider pays on submit: nothing to cancel there
	case p.in.Request.Transfer != nil:
		done = func() bool { return final() || (p.cancelRequested() && p.at.Ref.SessionID != "") }
	}
	p.mayContinue = p.v2()
	p.waitAtProvider(ctx, done)
	p.mayContinue = false
	if !final() && !p.in.ApproveBeforeSubmit {
		return p.cancelAtProvider(ctx)
	}
	return p.finish(ctx)
}

// finish ends the payout in the provider's final state.
func (p *run) finish(ctx workflow.Context) payout.State {
	switch p.at.State {
	case providers.StateSucceeded:
		p.setStatus(ctx, payout.StatusSucceeded, "paid out")
	case providers.StateCancelled:
		p.setStatus(ctx, payout.StatusCancelled, "cancelled at the provider")
	default:
		p.state.Failure = p.providerFailure(ctx, p.at.ErrorCode, p.at.ErrorDescription)
		if p.state.Failure.Code == "" {
			p.state.Failure.Code = "provider_failed"
		}
		p.setStatus(ctx, payout.StatusFailed, "failed at the provider: "+failureNote(p.state.Failure))
	}
	return p.state
}

// finishNow ends the payout at once; it returns false so that callers stop.
func (p *run) finishNow(ctx workflow.Context) bool {
	p.finish(ctx)
	return false
}

func newRun(ctx workflow.Context, in Input, version workflow.Version) (*run, error) {
	if in.ApprovalTimeout <= 0 {
		in.ApprovalTimeout = DefaultApprovalTimeout
	}
	if in.PollAfter <= 0 {
		in.PollAfter = DefaultPollAfter
	}
	now := workflow.Now(ctx)
	p := &run{
		in:      in,
		at:      providers.Outcome{Ref: providers.Ref{PayoutID: in.ID}},
		state:   payout.NewState(in.ID, in.Request, now),
		version: version,
	}
	p.state.CreatedBy = in.CreatedBy
	p.state.ApprovalsRequired = max(1, in.Policy.Approvers)
	if r := in.Resume; r != nil {
		p.state, p.at, p.decision, p.claim, p.started = r.State, r.At, r.Decision, r.Claim, r.Started
		p.unnamed, p.sentAt, p.verified, p.firstMark, p.lookNow = r.Unnamed, r.SentAt, r.Verified, r.FirstMark, r.LookNow
		p.runs, p.waitingSince, p.pendingFlagged = r.Runs, r.WaitingSince, r.PendingFlagged
		p.in.Resume = nil
	}
	p.startEvents(ctx, in.Resume)
	if in.Policy.ApprovalTimeout > 0 {
		p.in.ApprovalTimeout = in.Policy.ApprovalTimeout
	}
	err := workflow.SetQueryHandlerWithOptions(ctx, QueryState, func() (payout.State, error) { return p.state, nil },
		workflow.QueryHandlerOptions{Description: "The payout's full state: status, masked destination, provider ids, timeline."})
	if err != nil {
		return nil, fmt.Errorf("set query handler: %w", err)
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateVerify, p.verify, workflow.UpdateHandlerOptions{
		Validator: func(v providers.Verification) error {
			if v.PayoutID != in.ID {
				return fmt.Errorf("verification for payout %q sent to payout %q", v.PayoutID, in.ID)
			}
			return nil
		},
		Description: "Sent by the webhook receiver when the provider asks whether to go on with the payout (a verification URL).",
	})
	if err != nil {
		return nil, fmt.Errorf("set update handler: %w", err)
	}
	p.listen(ctx)
	if version >= versionMoneySafety2 && in.Resume == nil && (!p.eventsOn() || !in.Events.Created.IsZero()) {
		// The API started the workflow with these search attributes and this state (and event) in its memo:
		// nothing to publish.
		p.publishedSA = searchKey(p.searchAttributes())
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("%s — %s", p.state.Summary(), describe(p.state)))
	} else {
		p.publish(ctx)
	}
	return p, nil
}

// Descriptions of the signals, as Temporal UI shows them.
const (
	descReadyToConfirm  = "Sent by the webhook receiver: the provider is ready and waits for confirm or cancel."
	descPaymentFinished = "Sent by the webhook receiver: the provider says the payout finished."
	descSBPStatus       = "Sent when the recipient's bank has checked an SBP payout sent without the name: the name it gives, or a failure."
	descActionRequired  = "Sent by the webhook receiver: the payer must pass 3-D Secure at the redirect given."
	descTransferStarted = "Sent by the API once it handed the transfer to the provider: the outcome or the error."
	descConfirm         = `Approve this payout while it is awaiting_approval. JSON: {"by": "your name", "reason": "why"}`
	descCancel          = `Cancel this payout before it is confirmed. JSON: {"by": "your name", "reason": "why"}`
	descResolve         = `Resolve a payout that needs attention: {"action": "look_up" | "mark_failed" | "mark_succeeded", ` +
		`"reference": "the provider's reference (mark_succeeded)", "by": "your name", "reason": "what you checked"}`
)

// listen starts one handler per signal (one goroutine for them all under versionLean, lean.go). Handlers only
// record what arrived; the main flow acts on it.
func (p *run) listen(ctx workflow.Context) {
	if p.lean() {
		p.listenLean(ctx)
		return
	}
	onEvent := func(name, desc string) {
		ch := workflow.GetSignalChannelWithOptions(ctx, name, workflow.SignalChannelOptions{Description: desc})
		p.signals = append(p.signals, ch)
		workflow.Go(ctx, func(ctx workflow.Context) {
			for {
				var ev providers.Event
				ch.Receive(ctx, &ev)
				p.handling++
				p.onProviderEvent(ctx, name, ev)
				p.handling--
			}
		})
	}
	onDecision := func(name string, approve bool, desc string) {
		ch := workflow.GetSignalChannelWithOptions(ctx, name, workflow.SignalChannelOptions{Description: desc})
		p.signals = append(p.signals, ch)
		workflow.Go(ctx, func(ctx workflow.Context) {
			for {
				var d payout.Decision
				ch.Receive(ctx, &d)
				p.handling++
				p.onDecision(ctx, approve, d)
				p.handling--
			}
		})
	}
	onEvent(SignalReadyToConfirm, descReadyToConfirm)
	onEvent(SignalPaymentFinish, descPaymentFinished)
	onEvent(SignalSBPStatus, descSBPStatus)
	onEvent(SignalActionRequired, descActionRequired)
	started := workflow.GetSignalChannelWithOptions(ctx, SignalTransferStarted, workflow.SignalChannelOptions{
		Description: descTransferStarted})
	p.signals = append(p.signals, started)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var s TransferStarted
			started.Receive(ctx, &s)
			p.handling++
			p.onTransferStarted(ctx, s)
			p.handling--
		}
	})
	resolve := workflow.GetSignalChannelWithOptions(ctx, SignalResolve, workflow.SignalChannelOptions{
		Description: descResolve})
	p.signals = append(p.signals, resolve)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var r Resolution
			resolve.Receive(ctx, &r)
			p.handling++
			p.onResolve(ctx, r)
			p.handling--
		}
	})
	onDecision(SignalConfirm, true, descConfirm)
	onDecision(SignalCancel, false, descCancel)
}
