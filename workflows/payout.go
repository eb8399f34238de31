// Package workflows holds PayoutWorkflow: one durable workflow per payout, from the backend's request to a final
// state, driven by provider activities, provider webhooks (as signals) and human or policy decisions (as signals).
package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/activities"
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
	// DefaultWatchEvery is how often a provider that tells by no webhook that it waits for confirmation (Mandarin's
	// SBP name check) is asked.
	DefaultWatchEvery = 2 * time.Second
	// DefaultSettleFor, DefaultDedupFor and DefaultPendingLimit stand in for Input's when it leaves them zero.
	DefaultSettleFor    = 10 * time.Minute
	DefaultDedupFor     = 10 * time.Minute
	DefaultPendingLimit = 72 * time.Hour
	// transferStartWait is how long a transfer waits for the API's word that it reached the provider, or for the
	// provider's webhook, before an operator is asked to look.
	transferStartWait = 15 * time.Minute
)

// Resolution actions (the resolve signal).
const (
	// ResolveLookUp asks the provider again now.
	ResolveLookUp = "look_up"
	// ResolveMarkFailed ends the payout failed: the operator found that the provider has not paid and will not.
	ResolveMarkFailed = "mark_failed"
	// ResolveMarkSucceeded ends the payout succeeded: the operator found the payment, named by Reference.
	ResolveMarkSucceeded = "mark_succeeded"
)

// Resolution is an operator's decision on a payout that needs attention. Marking is the operator's word against
// the provider's silence: it is taken only while the payout needs attention and no call that moves money is under
// way, and it is recorded with who, why and the reference.
type Resolution struct {
	Action    string `json:"action"`
	Reference string `json:"reference,omitempty"`
	By        string `json:"by"`
	Reason    string `json:"reason,omitempty"`
	Proof     string `json:"proof,omitempty"`
}

// TransferStarted is what the API says after it handed a transfer to the provider: the outcome, or the error.
type TransferStarted struct {
	Outcome providers.Outcome `json:"outcome"`
	// Error is the provider's error code, or the transport's, when the call failed; "" when it succeeded.
	Error       string `json:"error,omitempty"`
	Description string `json:"description,omitempty"`
	// Known tells a failed call that the provider refused (nothing happened) from one whose outcome is unknown.
	Known bool `json:"known,omitempty"`
	// Proof is the API's signature of Digest (payout.SignDecision): a signal typed into Temporal UI has none, and
	// is ignored.
	Proof string `json:"proof,omitempty"`
}

// Digest is what the API signs of a TransferStarted: the session named, the error and whether it is known.
func (t TransferStarted) Digest() string {
	return fmt.Sprintf("%s|%s|%t", t.Outcome.Ref.SessionID, t.Error, t.Known)
}

// Balance checks before submit (Input.BalanceCheck).
const (
	// BalanceHold keeps a payout the balance cannot cover in needs_attention, asking again, until it can or an
	// operator cancels it.
	BalanceHold = "hold"
	// BalanceFail fails a payout the balance cannot cover, with nothing sent.
	BalanceFail = "fail"
)

// SystemActor is who decides when no person did (the approval deadline).
const SystemActor = "payoutflow"

// TemporalActor is who cancels when a cancellation is requested of the workflow in Temporal (UI, CLI, API).
const TemporalActor = "Temporal cancellation request"

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
	// submit (bePaid): no money moves before approval. Without it the provider holds the payout for confirmation.
	ApproveBeforeSubmit bool `json:"approve_before_submit,omitempty"`
	// OpenOnSubmit: the provider has no step before submit (Bank 131's single-request payouts); Open is skipped.
	OpenOnSubmit bool `json:"open_on_submit,omitempty"`
	// LookupBySubmit: the provider finds a payout whose submit went unanswered only by a submit under the same
	// payout ID, which it refuses as a duplicate while the first one stands (Mandarin's orderId).
	LookupBySubmit bool `json:"lookup_by_submit,omitempty"`
	// SubmitTimeout bounds one submit, as the provider advises (Mandarin: 600 s); one minute when zero.
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
	// Resume carries a payout continued as new (a long wait for the provider's final word) into its next run.
	Resume *Resume `json:"resume,omitempty"`
}

// Resume is what a payout carries across continue-as-new: everything its run knew. The next run starts waiting for
// the provider's final word.
type Resume struct {
	State     payout.State       `json:"state"`
	At        providers.Outcome  `json:"at"`
	Decision  *payout.Approval   `json:"decision,omitempty"`
	Claim     *providers.Outcome `json:"claim,omitempty"`
	Started   *TransferStarted   `json:"started,omitempty"`
	Unnamed   int                `json:"unnamed,omitempty"`
	SentAt    time.Time          `json:"sent_at,omitempty"`
	Verified  string             `json:"verified,omitempty"`
	FirstMark *Resolution        `json:"first_mark,omitempty"`
	LookNow   bool               `json:"look_now,omitempty"`
	// WaitingSince and PendingFlagged carry the wait for the provider's final word into the next run.
	WaitingSince   time.Time `json:"waiting_since,omitempty"`
	PendingFlagged bool      `json:"pending_flagged,omitempty"`
	// Runs counts the runs before this one.
	Runs int `json:"runs"`
}

// Continue-as-new: a run waiting for the provider's final word continues as new once it has asked the provider
// Input.PollsPerRun times or its history reaches historyBudget events, so that every run stays under 2,000 events
// (README, "Months of waiting").
const (
	DefaultPollsPerRun = 100
	historyBudget      = 1500
)

// PayoutWorkflow pays out one payout. Its story, for a provider with a confirm step (Bank 131):
// open a session → submit the payout → wait until the bank is ready (ready_to_confirm) → wait for a person's or
// policy's confirm or cancel, cancelling at the deadline → confirm or cancel at the bank → wait for the result
// (payment_finished) → succeeded, failed or cancelled.
// An SBP payout sent without the recipient's name (Mandarin) goes the same way; the provider is ready once the
// recipient's bank has given the name (sbp_status), which is checked against the recipient before approval.
// For a provider that pays on submit (bePaid, Mandarin), approval comes first: open → wait for confirm or cancel →
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
	if err := workflow.Await(ctx, func() bool { return done || p.resolved || p.continuing }); err != nil {
		return p.state, err
	}
	if done {
		return final, nil
	}
	if p.continuing {
		p.drain(ctx)
		if !p.resolved {
			return p.state, p.continueAsNew(ctx)
		}
		// An operator's mark taken while the run drained ended the payout: it listens on here.
	}
	if version >= versionMoneySafety2 {
		stopStory()
		p.listenAfterMark(ctx)
	}
	return p.state, nil
}

// markWatch is how long a payout ended by an operator's mark keeps listening for the provider's word.
const markWatch = 30 * 24 * time.Hour

// listenAfterMark keeps the payout listening, for markWatch after an operator's mark ended it, for the provider's
// word: a final word that contradicts the mark is recorded on the payout (Contradiction, the PayoutContradiction
// search attribute) and logged at error level, for an operator to reconcile; it is never dropped.
func (p *run) listenAfterMark(ctx workflow.Context) {
	until := workflow.Now(ctx).Add(markWatch)
	for p.state.Contradiction == nil {
		left := until.Sub(workflow.Now(ctx))
		if left <= 0 {
			return
		}
		ok, _ := p.awaitFor(ctx, left, "listen for the provider after an operator's mark", func() bool { return p.claim != nil })
		if !ok {
			return
		}
		claim := p.claim
		p.claim = nil
		if p.at.Ref.SessionID == "" && claim.Ref.SessionID != "" {
			p.at.Ref.SessionID = claim.Ref.SessionID
		}
		out, told := p.askForMark(ctx)
		if !told || !out.State.Final() {
			p.note(ctx, fmt.Sprintf("after the mark, a webhook said %s; the provider does not confirm it yet", claim.State))
			continue
		}
		if (out.State == providers.StateSucceeded) == (p.state.Status == payout.StatusSucceeded) {
			p.note(ctx, "the provider confirms how the payout was marked: "+string(out.State))
			return
		}
		p.contradicted(ctx, out)
	}
}

// contradicted records the provider's final word that contradicts how the payout ended.
func (p *run) contradicted(ctx workflow.Context, out providers.Outcome) {
	note := fmt.Sprintf("CONTRADICTION: the payout ended %s, and %s now says it %s; reconcile it with the provider",
		p.state.Status, payout.ProviderTitle(p.state.Provider), out.State)
	p.state.Contradiction = &payout.Contradiction{At: workflow.Now(ctx), Ended: p.state.Status,
		ProviderSays: string(out.State), Note: note}
	p.state.ProviderRefs = mergeRefs(p.state.ProviderRefs, refs(out.Ref))
	workflow.GetLogger(ctx).Error("payout contradicts its provider", "payout_id", p.in.ID, "provider",
		p.state.Provider, "ended", p.state.Status, "provider_says", out.State)
	p.note(ctx, note)
	p.publish(ctx)
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

// transfer is the story of a cross-border transfer: the API hands it to the provider itself, so that the sender's
// card never enters the workflow, and says so (transfer_started); the payer passes 3-D Secure at the redirect the
// provider gives (action_required), which the payout's state shows; the provider pays out and says so
// (payment_finished), checked by asking it. The payer's 3-D Secure is the approval: no operator confirms.
func (p *run) transfer(ctx workflow.Context) payout.State {
	// A cancel waits for the bank to name the transfer: until then the API may be handing it over.
	known := func() bool { return p.started != nil || p.at.Ref.SessionID != "" || p.claim != nil }
	ok, _ := p.awaitFor(ctx, transferStartWait, "wait for the transfer to start", known)
	if !ok {
		p.attention(ctx, "the API did not report handing the transfer to the bank, and the bank named none: look it up at the bank")
		_ = workflow.Await(ctx, known)
	}
	if s := p.started; s != nil && s.Error != "" && p.at.Ref.SessionID == "" && p.claim == nil {
		if s.Known {
			p.state.Failure = &payout.Failure{Code: s.Error, Description: s.Description}
			p.setStatus(ctx, payout.StatusFailed, "the bank refused the transfer: "+s.Error)
			return p.state
		}
		p.attention(ctx, "the transfer's outcome is unknown ("+s.Error+"): waiting for the bank's webhook, which names it")
	} else if s != nil && s.Error == "" && s.Outcome.Ref.SessionID != "" {
		// Only the session's id is taken from the API's word; where the transfer stands, the bank says when asked.
		p.absorb(providers.Outcome{Ref: s.Outcome.Ref, State: providers.StatePending})
	}
	if p.state.Status != payout.StatusNeedsAttention {
		p.setStatus(ctx, payout.StatusSubmitted, "handed to "+payout.ProviderTitle(p.state.Provider)+"; waiting for the payer's 3-D Secure")
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

// run is one payout's state, kept by the workflow and read by its query.
type run struct {
	in    Input
	state payout.State
	// at is the latest word from the provider.
	at providers.Outcome
	// decision is the first accepted confirm or cancel.
	decision *payout.Approval
	// claim is a webhook's word that the payout is final; it counts only once the provider confirms it.
	claim *providers.Outcome
	// started is the API's word that it handed a transfer to the provider.
	started *TransferStarted
	// unnamed counts the provider's answers "it exists" to a payout it has not named (LookupBySubmit).
	unnamed int
	// moving counts the calls that move money under way; resolved is set when an operator ended the payout.
	moving   int
	resolved bool
	// lookNow is an operator's request to ask the provider again at once.
	lookNow bool

	// version is the workflow version the payout started under (version.go).
	version workflow.Version
	// sentAt is when the payout was first handed to the provider (a submit started); zero before.
	sentAt time.Time
	// verified is the provider's transaction approved by the verify update: the only one ever approved.
	verified string
	// firstMark is an operator's mark the provider could not confirm, waiting for a second person's.
	firstMark *Resolution
	// publishedSA is what the search attributes were last set to (searchKey).
	publishedSA string
	// mayContinue is set while the payout waits for the provider's final word (awaitFinal), where it may continue
	// as new; polls counts the provider's answers in this run; continueWith, once set, is the next run's input.
	mayContinue bool
	polls       int
	// waitingSince is when the payout began waiting for the provider; pendingFlagged, whether an operator was told
	// it waits too long. Both are carried across continue-as-new.
	waitingSince   time.Time
	pendingFlagged bool
	continuing     bool
	// runs counts the runs of this payout before this one; signals are the signal channels listened to.
	runs    int
	signals []workflow.ReceiveChannel
	// handling counts the signals being handled: the run continues as new only when none is.
	handling int
	// checking is the webhook claim being checked with the provider, while it is.
	checking *providers.Outcome
}

// v2 reports whether the payout runs under "Money safety, part 2" (versionMoneySafety2) or later.
func (p *run) v2() bool { return p.version >= versionMoneySafety2 }

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
		Description: "Sent by the webhook receiver when the provider asks whether to go on with the payout (bePaid's verification_url).",
	})
	if err != nil {
		return nil, fmt.Errorf("set update handler: %w", err)
	}
	p.listen(ctx)
	if version >= versionMoneySafety2 && in.Resume == nil {
		// The API started the workflow with these search attributes and this state in its memo: nothing to publish.
		p.publishedSA = searchKey(SearchAttributes(p.state))
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("%s — %s", p.state.Summary(), describe(p.state)))
	} else {
		p.publish(ctx)
	}
	return p, nil
}

// verify answers the provider's question whether to go on with the payout: only an approved payout, with the
// amount requested, and the transaction we know, if we know one. The answer is recorded in the history.
func (p *run) verify(ctx workflow.Context, v providers.Verification) (providers.VerificationAnswer, error) {
	answer := providers.VerificationAnswer{Approved: true}
	switch {
	case p.decision == nil || !p.decision.Approved:
		answer = providers.VerificationAnswer{Message: "the payout is not approved"}
	case v.Amount != p.in.Request.Amount:
		answer = providers.VerificationAnswer{Message: fmt.Sprintf("amount %s differs from the approved %s", v.Amount, p.in.Request.Amount)}
	case p.v2() && p.verified != "" && v.TransactionID != p.verified:
		answer = providers.VerificationAnswer{Message: "another transaction of this payout was approved: " + p.verified}
	case p.at.Ref.SessionID != "" && v.TransactionID != p.at.Ref.SessionID:
		answer = providers.VerificationAnswer{Message: "another transaction of this payout is known: " + p.at.Ref.SessionID}
	case p.at.State.Final():
		answer = providers.VerificationAnswer{Message: "the payout is already " + string(p.at.State)}
	}
	if answer.Approved && p.v2() && p.verified == "" {
		// The first approved transaction is the payout: every other one is declined, and it is asked by this id.
		p.verified = v.TransactionID
		p.state.ProviderRefs = mergeRefs(p.state.ProviderRefs, map[string]string{"verified_transaction": v.TransactionID})
		if p.at.Ref.SessionID == "" && !p.at.State.Final() {
			p.at.Ref.SessionID = v.TransactionID
			p.state.ProviderRefs = mergeRefs(p.state.ProviderRefs, refs(p.at.Ref))
		}
	}
	if answer.Approved {
		p.note(ctx, "verification of transaction "+v.TransactionID+" accepted")
		if p.v2() {
			p.publish(ctx) // the payout is the provider's now: a cancel cannot stop it (CancelRefused)
		}
	} else {
		p.note(ctx, "verification of transaction "+v.TransactionID+" declined: "+answer.Message)
	}
	return answer, nil
}

// listen starts one handler per signal. Handlers only record what arrived; the main flow acts on it.
func (p *run) listen(ctx workflow.Context) {
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
	onEvent(SignalReadyToConfirm, "Sent by the webhook receiver: the provider is ready and waits for confirm or cancel.")
	onEvent(SignalPaymentFinish, "Sent by the webhook receiver: the provider says the payout finished.")
	onEvent(SignalSBPStatus, "Sent when the recipient's bank has checked an SBP payout sent without the name: the name it gives, or a failure.")
	onEvent(SignalActionRequired, "Sent by the webhook receiver: the payer must pass 3-D Secure at the redirect given.")
	started := workflow.GetSignalChannelWithOptions(ctx, SignalTransferStarted, workflow.SignalChannelOptions{
		Description: "Sent by the API once it handed the transfer to the provider: the outcome or the error."})
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
		Description: `Resolve a payout that needs attention: {"action": "look_up" | "mark_failed" | "mark_succeeded", ` +
			`"reference": "the provider's reference (mark_succeeded)", "by": "your name", "reason": "what you checked"}`})
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
	onDecision(SignalConfirm, true, `Approve this payout while it is awaiting_approval. JSON: {"by": "your name", "reason": "why"}`)
	onDecision(SignalCancel, false, `Cancel this payout before it is confirmed. JSON: {"by": "your name", "reason": "why"}`)
}

// onTransferStarted takes the API's word that it handed a transfer to the provider.
func (p *run) onTransferStarted(ctx workflow.Context, s TransferStarted) {
	if p.in.Request.Transfer == nil || (p.started != nil && (s.Error != "" || p.at.Ref.SessionID != "")) {
		return
	}
	if !p.proven(ctx, SignalTransferStarted, s.Digest(), s.Proof) {
		p.note(ctx, "transfer_started ignored: it does not carry the API's proof")
		return
	}
	if p.started != nil {
		// A repeat handed over after an unanswered first: the bank names the transfer now.
		if sid := s.Outcome.Ref.SessionID; sid != "" && !p.at.State.Final() {
			p.at.Ref.SessionID = sid
			p.state.ProviderRefs = mergeRefs(p.state.ProviderRefs, refs(p.at.Ref))
			p.note(ctx, "the transfer, handed over again, is known to the bank: "+sid)
		}
		return
	}
	p.started = &s
}

// onProviderEvent takes a verified webhook. Webhooks are hints: only forward moves count, repeats and late or
// foreign ones change nothing.
func (p *run) onProviderEvent(ctx workflow.Context, name string, ev providers.Event) {
	o := ev.Outcome
	if p.at.Ref.SessionID != "" && o.Ref.SessionID != "" && o.Ref.SessionID != p.at.Ref.SessionID {
		p.note(ctx, fmt.Sprintf("%s for another session (%s) ignored", name, o.Ref.SessionID))
		return
	}
	if name == SignalActionRequired {
		if p.at.Ref.SessionID == "" && o.Ref.SessionID != "" && !p.at.State.Final() {
			p.at.Ref.SessionID = o.Ref.SessionID
			p.state.ProviderRefs = mergeRefs(p.state.ProviderRefs, refs(p.at.Ref))
		}
		p.showPayerAction(ctx, o)
		return
	}
	switch {
	case p.at.State.Final() || p.claim != nil:
		return // already final or being checked: a repeat
	case o.State.Final():
		p.claim = &o
	case name == SignalSBPStatus:
		// The bank's answer is a hint, like a final claim: what counts, the name included, is what the provider
		// says when asked.
		p.claim = &o
	case name == SignalReadyToConfirm && o.State == providers.StateAwaitingConfirm:
		if p.at.State == providers.StateAwaitingConfirm || p.state.Status == payout.StatusConfirmed {
			return // a repeat, or late after our confirm
		}
		p.absorb(o)
	}
}

// take absorbs what a submit answered, unless a webhook that came meanwhile has moved the payout further (a
// ready_to_confirm may overtake the answer of the start that caused it): states only move forward.
func (p *run) take(o providers.Outcome) {
	if p.at.State != providers.StateCreated && p.at.State != "" && !advances(p.at.State, o.State) {
		o.State, o.ErrorCode, o.ErrorDescription = p.at.State, p.at.ErrorCode, p.at.ErrorDescription
		if o.Amount == nil {
			o.Amount = p.at.Amount
		}
	}
	p.absorb(o)
}

// absorb takes what the provider said, keeping references already known.
func (p *run) absorb(o providers.Outcome) {
	ref := p.at.Ref
	if o.Ref.SessionID != "" {
		ref.SessionID = o.Ref.SessionID
	}
	if o.Ref.PaymentID != "" {
		ref.PaymentID = o.Ref.PaymentID
	}
	o.Ref = ref
	p.at = o
	// Keep what the provider said before, update what it says now.
	p.state.ProviderRefs = mergeRefs(mergeRefs(p.state.ProviderRefs, refs(ref)), o.Details)
	if o.Card != nil && p.state.Destination.Card != nil && p.state.Destination.Card.Last4 == "" {
		p.state.Destination.Card = o.Card
	}
}

func (p *run) onDecision(ctx workflow.Context, approve bool, d payout.Decision) {
	verb := "cancel"
	if approve {
		verb = "confirm"
	}
	// What an operator types is shown back: never a card number, never without bounds.
	d.By = clip(string(payout.MaskCardNumbers([]byte(strings.TrimSpace(d.By)))), 100)
	d.Reason = clip(string(payout.MaskCardNumbers([]byte(strings.TrimSpace(d.Reason)))), 500)
	switch {
	case d.By == "":
		p.note(ctx, verb+` ignored: it must say who decides, as {"by": "name", "reason": "..."}`)
	case payout.Identity(d.By) == policy.Actor || payout.Identity(d.By) == SystemActor:
		p.note(ctx, fmt.Sprintf("%s by %q ignored: that name is reserved for payoutflow's own decisions", verb, d.By))
	case !approve && p.v2() && p.unstoppable():
		// The provider pays on submit and has the payout: a cancel cannot stop it, and must not say it did.
		p.note(ctx, fmt.Sprintf("cancel by %s refused: the payout was sent to %s, which pays on submit and cannot "+
			"stop it; it ends as the provider says", d.By, payout.ProviderTitle(p.state.Provider)))
		p.publish(ctx)
	case p.decision != nil && (approve || p.state.Status != payout.StatusNeedsAttention):
		p.note(ctx, fmt.Sprintf("%s by %s ignored: already decided by %s", verb, d.By, p.decision.By))
	case approve && p.state.Status != payout.StatusAwaitingApproval:
		p.note(ctx, fmt.Sprintf("confirm by %s ignored: payout is %s, not awaiting_approval", d.By, p.state.Status))
	case !approve && !p.state.Status.Cancellable():
		p.note(ctx, fmt.Sprintf("cancel by %s ignored: payout is %s", d.By, p.state.Status))
	case !approve:
		p.decide(ctx, false, d)
	default:
		p.approve(ctx, d)
	}
}

// unstoppable reports whether a provider that pays on submit has the payout (or said it exists): nothing there can
// be cancelled. A payout sent whose provider shows nothing yet can still be cancelled here: no more is sent, and
// a verification that comes later is declined.
func (p *run) unstoppable() bool {
	has := p.at.State != providers.StateCreated || p.verified != "" // it said so, or asked us to go on with it
	return p.in.ApproveBeforeSubmit && !p.sentAt.IsZero() && has && !p.at.State.Final()
}

// onResolve takes an operator's resolution of a payout that needs attention.
func (p *run) onResolve(ctx workflow.Context, r Resolution) {
	r.By = clip(string(payout.MaskCardNumbers([]byte(strings.TrimSpace(r.By)))), 100)
	r.Reason = clip(string(payout.MaskCardNumbers([]byte(strings.TrimSpace(r.Reason)))), 500)
	r.Reference = clip(string(payout.MaskCardNumbers([]byte(strings.TrimSpace(r.Reference)))), 100)
	switch {
	case r.By == "":
		p.note(ctx, `resolve ignored: it must say who resolves, as {"action": "...", "by": "name", "reason": "..."}`)
	case p.state.Status != payout.StatusNeedsAttention:
		p.note(ctx, fmt.Sprintf("resolve %s by %s ignored: payout is %s, not needs_attention", r.Action, r.By, p.state.Status))
	case r.Action == ResolveLookUp:
		p.lookNow = true
		p.note(ctx, "look-up asked by "+r.By)
	case r.Action != ResolveMarkFailed && r.Action != ResolveMarkSucceeded:
		p.note(ctx, fmt.Sprintf("resolve by %s ignored: action %q is not one of look_up, mark_failed, mark_succeeded", r.By, r.Action))
	case p.moving > 0:
		p.note(ctx, fmt.Sprintf("%s by %s ignored: a call that moves money is under way; look again when it ends", r.Action, r.By))
	case r.Action == ResolveMarkSucceeded && r.Reference == "":
		p.note(ctx, fmt.Sprintf("mark_succeeded by %s ignored: it needs the provider's reference of the payment", r.By))
	case p.v2():
		p.mark(ctx, r)
	default:
		p.endByMark(ctx, r, "") // release 1: the operator's word alone
	}
}

// mark takes an operator's mark_failed or mark_succeeded. It counts only through the API, which knows who is
// calling; it is checked with the provider where the provider can tell, and refused where the provider says
// otherwise; where the provider cannot tell, two different people must mark the same, and it is recorded as their
// word.
func (p *run) mark(ctx workflow.Context, r Resolution) {
	if !p.proven(ctx, SignalResolve, r.By, r.Proof) {
		p.note(ctx, fmt.Sprintf("%s by %s refused: a mark must come through the API (POST /v1/payouts/{id}/resolve), "+
			"which knows who is calling; a name typed into a signal proves nothing", r.Action, r.By))
		return
	}
	out, told := p.askForMark(ctx)
	if p.resolved || p.state.Status != payout.StatusNeedsAttention {
		p.note(ctx, fmt.Sprintf("%s by %s not taken: the payout moved on while the provider was asked", r.Action, r.By))
		return
	}
	succeeded := r.Action == ResolveMarkSucceeded
	switch {
	case told && out.State.Final():
		if (out.State == providers.StateSucceeded) == succeeded {
			p.note(ctx, fmt.Sprintf("%s by %s: the provider says %s too", r.Action, r.By, out.State))
		} else {
			p.note(ctx, fmt.Sprintf("%s by %s refused: the provider says the payout %s", r.Action, r.By, out.State))
		}
		p.absorb(out) // the payout ends as the provider says
	case told && out.State == providers.StateCreated && !succeeded:
		p.endByMark(ctx, r, "the provider has no such payout")
	case told && out.State == providers.StateCreated:
		p.note(ctx, fmt.Sprintf("mark_succeeded by %s refused: the provider has no such payout", r.By))
	case told:
		p.note(ctx, fmt.Sprintf("%s by %s refused: the provider says the payout is %s; wait for its final word, "+
			"or cancel it", r.Action, r.By, out.State))
	case p.firstMark != nil && p.firstMark.Action == r.Action && payout.Identity(p.firstMark.By) != payout.Identity(r.By):
		p.endByMark(ctx, r, fmt.Sprintf("the word of %s and %s; the provider could not tell", p.firstMark.By, r.By))
	default:
		if p.firstMark == nil || p.firstMark.Action != r.Action {
			p.firstMark = &r
		}
		p.note(ctx, fmt.Sprintf("%s by %s recorded: the provider cannot tell where the payout stands, so a second "+
			"person must mark it the same", r.Action, r.By))
	}
}

// askForMark asks the provider where the payout stands, for an operator's mark; told is false where it cannot
// tell (it does not answer, or it knows the payout by no id it can be asked by).
func (p *run) askForMark(ctx workflow.Context) (out providers.Outcome, told bool) {
	if p.sentAt.IsZero() && p.in.Request.Transfer == nil {
		return providers.Outcome{Ref: p.at.Ref, State: providers.StateCreated}, true // nothing was ever sent
	}
	if p.in.LookupBySubmit && p.at.Ref.SessionID == "" {
		return p.at, false // asking would mean sending it again
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: []string{activities.ErrConfig}},
		Summary:             "ask the provider before taking an operator's mark",
	})
	if err := workflow.ExecuteActivity(ctx, (*activities.Activities).Status, p.call()).Get(ctx, &out); err != nil {
		return p.at, false
	}
	return out, true
}

// endByMark ends the payout as an operator marked it; checked says what the provider said to it, if anything.
func (p *run) endByMark(ctx workflow.Context, r Resolution, checked string) {
	why := r.By
	if r.Reason != "" {
		why += ": " + r.Reason
	}
	if checked != "" {
		why += " (" + checked + ")"
	}
	if r.Action == ResolveMarkSucceeded {
		p.state.ProviderRefs = mergeRefs(p.state.ProviderRefs, map[string]string{"operator_reference": r.Reference})
		p.setStatus(ctx, payout.StatusSucceeded, "marked succeeded by "+why+" (reference "+r.Reference+")")
	} else {
		p.state.Failure = &payout.Failure{Code: "marked_failed", Description: "marked failed by " + why}
		p.setStatus(ctx, payout.StatusFailed, "marked failed by "+why)
	}
	p.resolved = true
}

func mergeRefs(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// moveMoney runs a call that moves money (Submit, Confirm, Cancel) with ctx's activity options (one attempt),
// counting it as under way meanwhile.
func (p *run) moveMoney(ctx workflow.Context, activity, arg, out any) error {
	p.moving++
	defer func() { p.moving-- }()
	return workflow.ExecuteActivity(ctx, activity, arg).Get(ctx, out)
}

// approve counts one person's approval; the payout is approved once enough different people approved. Where two
// must approve (maker-checker), who created the payout cannot be one of them.
func (p *run) approve(ctx workflow.Context, d payout.Decision) {
	required := p.state.ApprovalsRequired
	for _, a := range p.state.Approvals {
		if payout.Identity(a.By) == payout.Identity(d.By) {
			p.note(ctx, fmt.Sprintf("confirm by %s ignored: %s already approved; another person must", d.By, d.By))
			return
		}
	}
	if required > 1 && payout.Identity(d.By) == payout.Identity(p.in.CreatedBy) {
		p.note(ctx, fmt.Sprintf("confirm by %s ignored: who created the payout cannot approve it", d.By))
		return
	}
	if required > 1 && !p.authenticated(ctx, d) {
		p.note(ctx, fmt.Sprintf("confirm by %s ignored: where two people must approve, each approval must come "+
			"through the API, which knows who is calling; a name typed into a signal proves nothing", d.By))
		return
	}
	if p.decision != nil {
		// Decided (cancelled, or the deadline passed) while the proof was being checked.
		p.note(ctx, fmt.Sprintf("confirm by %s ignored: already decided by %s", d.By, p.decision.By))
		return
	}
	p.state.Approvals = append(p.state.Approvals, payout.Approval{Approved: true, By: d.By, Reason: d.Reason, At: workflow.Now(ctx)})
	if len(p.state.Approvals) < required {
		p.note(ctx, fmt.Sprintf("approved by %s (%d of %d)", d.By, len(p.state.Approvals), required))
		p.publish(ctx)
		return
	}
	if required > 1 {
		names := make([]string, len(p.state.Approvals))
		for i, a := range p.state.Approvals {
			names[i] = a.By
		}
		d.By = strings.Join(names, " and ")
	}
	p.decide(ctx, true, d)
}

func (p *run) decide(ctx workflow.Context, approve bool, d payout.Decision) {
	p.decision = &payout.Approval{Approved: approve, By: d.By, Reason: d.Reason, At: workflow.Now(ctx)}
	p.state.Approval = p.decision
	what := "cancelled"
	if approve {
		what = "approved"
	}
	note := what + " by " + d.By
	if d.Reason != "" {
		note += ": " + d.Reason
	}
	p.note(ctx, note)
}

// mismatch says why the payout the provider is ready to execute is not the one requested, or "" when it is.
func (p *run) mismatch() string {
	if a := p.at.Amount; a != nil && *a != p.in.Request.Amount {
		return fmt.Sprintf("the provider is ready to pay %s, but %s was requested", a, p.in.Request.Amount)
	}
	return ""
}

// authenticated reports whether the API vouched for who made the decision (its proof verifies).
func (p *run) authenticated(ctx workflow.Context, d payout.Decision) bool {
	return p.proven(ctx, SignalConfirm, d.By, d.Proof)
}

// proven reports whether proof is the API's signature of what, sent as signal to this payout.
func (p *run) proven(ctx workflow.Context, signal, what, proof string) bool {
	if proof == "" {
		return false
	}
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 5 * time.Second})
	var ok bool
	check := activities.DecisionCheck{PayoutID: p.in.ID, Signal: signal, By: what, Proof: proof}
	if err := workflow.ExecuteLocalActivity(ctx, activities.VerifyDecisionName, check).Get(ctx, &ok); err != nil {
		workflow.GetLogger(ctx).Warn("verify decision", "error", err)
		return false
	}
	return ok
}

// clip cuts s to at most n runes.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

func (p *run) cancelRequested() bool { return p.decision != nil && !p.decision.Approved }

// approval gets the payout decided: by policy alone where the policy says so, else by people until the deadline,
// after which it is cancelled.
func (p *run) approval(ctx workflow.Context) {
	if nc := p.state.NameCheck; nc != nil && !nc.Matches && p.decision == nil {
		p.awaitPeople(ctx) // whatever the policy's limits: the name is not the recipient's
		return
	}
	if reason := p.in.Policy.AutoApprove; reason != "" && p.decision == nil {
		if nc := p.state.NameCheck; nc != nil {
			reason = fmt.Sprintf("%s; the recipient's bank gives the name %q, which matches the recipient", reason, nc.BankName)
		}
		p.state.Approvals = append(p.state.Approvals, payout.Approval{Approved: true, By: policy.Actor, Reason: reason, At: workflow.Now(ctx)})
		p.decide(ctx, true, payout.Decision{By: policy.Actor, Reason: reason})
		return
	}
	p.awaitPeople(ctx)
}

// awaitPeople waits for people to decide until the deadline, after which the payout is cancelled.
func (p *run) awaitPeople(ctx workflow.Context) {
	if !p.awaitDecision(ctx) {
		p.decide(ctx, false, payout.Decision{By: SystemActor, Reason: "approval deadline passed"})
	}
}

// namedByBank reports whether the payout was sent without the recipient's name, which the recipient's bank gives
// back to be checked before the payout is confirmed.
func (p *run) namedByBank() bool {
	sbp := p.in.Request.Destination.SBP
	return sbp != nil && sbp.WithoutName
}

// checkName compares the name the recipient's bank gave with the recipient requested. A match lets the policy
// approve as it would any payout; a mismatch, or no name, leaves the decision to people whatever the policy says.
func (p *run) checkName(ctx workflow.Context) {
	got := p.at.Details[providers.DetailRecipientName]
	matches := policy.NameMatchesV1
	if p.v2() {
		matches = policy.NameMatches
	}
	nc := &payout.NameCheck{BankName: got, Matches: matches(got, p.in.Request.Recipient.FullName)}
	p.state.NameCheck = nc
	switch {
	case got == "":
		p.note(ctx, "the recipient's bank gave no name: a person must decide")
	case nc.Matches:
		p.note(ctx, fmt.Sprintf("the recipient's bank gives the name %q, which matches the recipient", got))
	default:
		p.note(ctx, fmt.Sprintf("the recipient's bank gives the name %q, which does not match %q: a person must decide",
			got, p.in.Request.Recipient.FullName))
	}
}

// watch asks the provider, in the background, until it waits for confirmation, where no webhook will tell (the
// recipient's bank checking an SBP payout without the name); what it finds comes back as the sbp_status signal.
// The returned func stops it.
func (p *run) watch(ctx workflow.Context) (stop func()) {
	if !p.namedByBank() {
		return func() {}
	}
	every := p.in.WatchEvery
	if every <= 0 {
		every = DefaultWatchEvery
	}
	wctx, cancel := workflow.WithCancel(ctx)
	wctx = workflow.WithActivityOptions(wctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 5,
			NonRetryableErrorTypes: []string{activities.ErrConfig}},
		Summary: "ask the recipient's bank for the name",
	})
	workflow.ExecuteActivity(wctx, (*activities.Activities).Watch,
		activities.WatchCall{Call: p.call(), Every: every, Signal: SignalSBPStatus})
	return cancel
}

// balanceCovers asks the provider's balance before submit, where configured. A balance that cannot cover the
// payout fails it (BalanceFail) or holds it for an operator, asking again, until it does or the payout is
// cancelled (BalanceHold). It reports whether to go on.
func (p *run) balanceCovers(ctx workflow.Context) bool {
	if p.in.BalanceCheck == "" {
		return true
	}
	held := false
	for attempt := 1; ctx.Err() == nil; attempt++ {
		var balance payout.Amount
		err := workflow.ExecuteActivity(withSafeRetries(ctx), (*activities.Activities).Balance, p.call()).Get(ctx, &balance)
		if err != nil {
			// The provider refuses what its balance cannot cover: sending it anyway loses nothing.
			p.note(ctx, "the balance could not be read ("+errorCode(err)+"); sending the payout anyway")
			return true
		}
		if balance.Currency != p.in.Request.Amount.Currency || balance.Value >= p.in.Request.Amount.Value {
			if held {
				p.setStatus(ctx, p.statusBeforeSubmit(), "the balance covers the payout now")
			}
			return true
		}
		why := fmt.Sprintf("the balance at %s (%s) does not cover the payout (%s)",
			payout.ProviderTitle(p.state.Provider), balance, p.in.Request.Amount)
		if p.in.BalanceCheck == BalanceFail {
			p.state.Failure = &payout.Failure{Code: "insufficient_balance", Description: why}
			p.setStatus(ctx, payout.StatusFailed, why+"; nothing was sent")
			return false
		}
		if !held {
			p.attention(ctx, why+": held until it does; cancel the payout to drop it")
			held = true
		}
		if p.backoff(ctx, attempt, p.cancelRequested) {
			return false
		}
	}
	return false // the workflow was cancelled
}

// statusBeforeSubmit is the status a payout has just before it is submitted.
func (p *run) statusBeforeSubmit() payout.Status {
	if p.in.ApproveBeforeSubmit {
		return payout.StatusConfirmed
	}
	return payout.StatusCreated
}

// awaitDecision waits for confirm or cancel until the approval deadline; false means the deadline passed.
func (p *run) awaitDecision(ctx workflow.Context) bool {
	deadline := workflow.Now(ctx).Add(p.in.ApprovalTimeout)
	p.state.Deadline = &deadline
	p.publish(ctx)
	ok, _ := p.awaitFor(ctx, p.in.ApprovalTimeout, "approval deadline", func() bool { return p.decision != nil })
	return ok
}

// open registers the payout at the provider. It moves no money, so its activity retries on its own.
func (p *run) open(ctx workflow.Context) bool {
	var ref providers.Ref
	err := workflow.ExecuteActivity(withSafeRetries(ctx), (*activities.Activities).Open, p.call()).Get(ctx, &ref)
	if err != nil && !isRejected(err) {
		// Nothing was submitted, so no money can have moved: the payout fails cleanly.
		p.state.Failure = &payout.Failure{Code: "provider_unavailable", Description: "the provider could not be reached: " + errorCode(err)}
		p.setStatus(ctx, payout.StatusFailed, "could not open the payout at the provider")
		return false
	}
	if err != nil {
		return p.failFromError(ctx, err, "the provider refused to open the payout")
	}
	p.absorb(providers.Outcome{Ref: ref, State: providers.StateCreated})
	if ref.SessionID != "" {
		p.note(ctx, "opened at "+payout.ProviderTitle(p.state.Provider))
	}
	return true
}

// submit hands the payout to the provider once per attempt. Whatever goes wrong, the provider is asked whether it
// has the payout before anything else; a new attempt follows only when it has none.
func (p *run) submit(ctx workflow.Context) bool {
	if p.in.LookupBySubmit {
		return p.submitDeduplicated(ctx)
	}
	if p.v2() && p.in.ApproveBeforeSubmit {
		// A provider without a step before submit has no key of its own that makes a repeat harmless: after a
		// reset, or a new run under this payout id, the payout may stand there already. Ask before sending.
		if out := p.lookup(ctx); out.State != providers.StateCreated {
			p.take(out)
			p.setStatus(ctx, payout.StatusSubmitted, "the provider has the payout already (asked before sending it)")
			return !p.at.State.Final() || p.finishNow(ctx)
		}
	}
	unknownBefore := false
	for attempt := 1; ctx.Err() == nil; attempt++ {
		out, err := p.submitOnce(ctx)
		if err == nil {
			p.take(out)
			p.setStatus(ctx, payout.StatusSubmitted, "submitted to "+payout.ProviderTitle(p.state.Provider))
			return !p.at.State.Final() || p.finishNow(ctx)
		}
		p.note(ctx, "submit did not succeed ("+errorCode(err)+"), asking the provider")
		if p.v2() && !(isRejected(err) && !unknownBefore) {
			out = p.settle(ctx, isExisting(err)) // the outcome is unknown: give the provider time to show it
		} else {
			out = p.lookup(ctx)
		}
		if out.State != providers.StateCreated {
			p.take(out)
			p.setStatus(ctx, payout.StatusSubmitted, "the provider has the payout (found by lookup)")
			return !p.at.State.Final() || p.finishNow(ctx)
		}
		// A refusal is final only when no earlier attempt might still be on its way to the provider.
		if isRejected(err) && !unknownBefore {
			return p.failFromError(ctx, err, "the provider refused the payout")
		}
		unknownBefore = unknownBefore || !isRejected(err)
		if attempt == maxAttempts {
			p.attention(ctx, fmt.Sprintf("submit failed %d times and the provider has no payout; cancel it to close it", attempt))
			p.waitAtProvider(ctx, func() bool { return p.cancelRequested() || p.at.State != providers.StateCreated })
			if p.cancelRequested() {
				return false
			}
			p.setStatus(ctx, payout.StatusSubmitted, "the provider has the payout (found by lookup)")
			return !p.at.State.Final() || p.finishNow(ctx)
		}
		if p.backoff(ctx, attempt, p.cancelRequested) {
			return false
		}
	}
	return false // the workflow was cancelled
}

// settle asks the provider, after a submit whose outcome is unknown, until it names the payout or has shown none
// for the provider's settling period (Input.SettleFor): a payout the provider is still processing may not show at
// once, and a resend too early makes a second one. A refusal as a duplicate (exists) means the provider has it:
// then nothing is ever sent again, and the payout waits, asking, with an operator told once the period is over.
func (p *run) settle(ctx workflow.Context, exists bool) providers.Outcome {
	since, unnamed := workflow.Now(ctx), p.at.Ref.SessionID == ""
	period := p.settleFor()
	for attempt := 1; ctx.Err() == nil; attempt++ {
		out := p.lookup(ctx)
		if out.State != providers.StateCreated || p.cancelRequested() {
			return out
		}
		waited := workflow.Now(ctx).Sub(since)
		if waited >= period {
			if !exists {
				return out
			}
			if p.state.Status != payout.StatusNeedsAttention {
				p.attention(ctx, fmt.Sprintf("the provider refused a repeat as a duplicate but has shown no payout for %s: "+
					"nothing more is sent; look it up in the provider's back office", period))
			}
		}
		named := func() bool { return unnamed && p.at.Ref.SessionID != "" } // by a webhook or a verification
		p.backoff(ctx, attempt, func() bool { return p.lookNow || named() || p.cancelRequested() })
		p.lookNow = false
	}
	return p.at // the workflow was cancelled
}

// settleFor is how long the provider may take to show a payout it was sent (Input.SettleFor).
func (p *run) settleFor() time.Duration {
	if p.in.SettleFor > 0 {
		return p.in.SettleFor
	}
	return DefaultSettleFor
}

// submitDeduplicated is submit for a provider that refuses a second payout under the same payout ID while the
// first one stands, and has no other lookup (Mandarin's orderId): an attempt whose answer is lost is sent again
// under the same ID, which is the provider's own way of asking, and a duplicate means the first one stands.
func (p *run) submitDeduplicated(ctx workflow.Context) bool {
	unknownBefore := false
	for attempt := 1; ctx.Err() == nil; attempt++ {
		out, err := p.submitOnce(ctx)
		switch {
		case err == nil:
			p.take(out)
			p.setStatus(ctx, payout.StatusSubmitted, "submitted to "+payout.ProviderTitle(p.state.Provider))
			return !p.at.State.Final() || p.finishNow(ctx)
		case isExisting(err):
			if p.at.State == providers.StateCreated {
				p.absorb(providers.Outcome{State: providers.StatePending})
			}
			p.setStatus(ctx, payout.StatusSubmitted, "the provider has the payout already ("+errorCode(err)+"): waiting for its result")
			return !p.at.State.Final() || p.finishNow(ctx)
		case isRejected(err) && !unknownBefore:
			// Nothing was sent before: the refusal is final.
			return p.failFromError(ctx, err, "the provider refused the payout")
		case isRejected(err):
			// An earlier attempt may stand at the provider: a refusal now proves nothing about it.
			p.attention(ctx, "the provider refused a repeat of the payout ("+errorCode(err)+") after an attempt whose "+
				"outcome is unknown; still asking")
		}
		unknownBefore = unknownBefore || !isRejected(err)
		if p.v2() && p.pastDedup(ctx) {
			// The provider's refusal of a repeat no longer covers the first attempt: a repeat now could pay twice.
			p.stopResending(ctx)
			p.absorb(providers.Outcome{State: providers.StatePending})
			return true
		}
		p.note(ctx, "submit did not succeed ("+errorCode(err)+"); sending it again under the same payout id, which the provider deduplicates")
		if attempt == maxAttempts {
			p.attention(ctx, fmt.Sprintf("submit got no answer %d times; still asking the provider the same way", attempt))
		}
		// No stop on cancel: the payout may stand at the provider until it answers. A webhook that names the
		// payout answers for it.
		if p.backoff(ctx, attempt, func() bool { return p.at.Ref.SessionID != "" }) {
			p.setStatus(ctx, payout.StatusSubmitted, "the provider has the payout (its webhook named it)")
			return !p.at.State.Final() || p.finishNow(ctx)
		}
	}
	return false // the workflow was cancelled
}

// submitOnce sends the payout once under its payout ID.
func (p *run) submitOnce(ctx workflow.Context) (providers.Outcome, error) {
	if p.sentAt.IsZero() {
		p.sentAt = workflow.Now(ctx)
		if p.v2() {
			p.state.Sent = true
		}
	}
	var out providers.Outcome
	call := activities.SubmitCall{Call: p.call(), Request: p.in.Request}
	err := p.moveMoney(p.submitOptions(ctx), (*activities.Activities).Submit, call, &out)
	return out, err
}

// submitOptions runs a submit once, with the time the provider advises for it.
func (p *run) submitOptions(ctx workflow.Context) workflow.Context {
	if p.in.SubmitTimeout <= 0 {
		return withOneAttempt(ctx)
	}
	return withOneAttemptFor(ctx, p.in.SubmitTimeout+30*time.Second)
}

// lookupBySubmit asks a provider that has no other lookup (LookupBySubmit) by sending the payout again under the
// same payout ID: a duplicate means it stands, pending; an answer means the first one had failed or never
// arrived, and this one is the payout. It does not give up, like lookup.
//
// A refusal proves nothing here (the payout may stand from an earlier attempt): it is asked again. Once the
// provider has said "it exists" maxAttempts times without naming it, an operator is asked to look.
func (p *run) lookupBySubmit(ctx workflow.Context) providers.Outcome {
	for attempt := 1; ctx.Err() == nil; attempt++ {
		if p.v2() && p.pastDedup(ctx) {
			p.stopResending(ctx)
			return providers.Outcome{Ref: p.at.Ref, State: providers.StatePending}
		}
		out, err := p.submitOnce(ctx)
		switch {
		case err == nil:
			p.note(ctx, "the provider had no payout under this id; it has it now")
			return out
		case isExisting(err):
			if p.unnamed++; p.unnamed == maxAttempts && p.state.Status != payout.StatusNeedsAttention {
				p.attention(ctx, "the provider has the payout under this id but has not named it (no webhook yet): "+
					"look it up in the provider's back office; still asking")
			}
			return providers.Outcome{Ref: p.at.Ref, State: providers.StatePending}
		}
		if p.state.Status != payout.StatusNeedsAttention && (attempt == maxAttempts || isRejected(err)) {
			p.attention(ctx, "the provider could not tell where the payout stands: "+errorCode(err))
		}
		p.backoff(ctx, attempt, func() bool { return p.lookNow })
		p.lookNow = false
	}
	return p.at // the workflow was cancelled
}

// pastDedup reports whether the provider's refusal of a repeat under the same payout id may no longer cover the
// first attempt (Input.DedupFor after it was sent): a repeat now is not a lookup but maybe a second payout.
func (p *run) pastDedup(ctx workflow.Context) bool {
	window := p.in.DedupFor
	if window <= 0 {
		window = DefaultDedupFor
	}
	return !p.sentAt.IsZero() && workflow.Now(ctx).Sub(p.sentAt) >= window
}

// stopResending tells an operator, once, that the payout is no longer sent again: it waits for the provider's
// webhook, which names it, or for an operator who found it.
func (p *run) stopResending(ctx workflow.Context) {
	why := "the provider has not named the payout, and a repeat under its id is no longer a safe way to ask " +
		"(its duplicate check may not cover the first attempt any more): nothing more is sent; find it in the " +
		"provider's back office, then resolve it"
	if p.state.Attention != why {
		p.attention(ctx, why)
	}
}

// confirm tells the provider to execute the payout once per attempt; whatever goes wrong, the provider is asked
// before anything else. A confirmation the provider does not take marks the payout for an operator.
func (p *run) confirm(ctx workflow.Context) {
	for attempt := 1; ctx.Err() == nil; attempt++ {
		var out providers.Outcome
		err := p.moveMoney(withOneAttempt(ctx), (*activities.Activities).Confirm, p.call(), &out)
		if err == nil {
			p.absorb(out)
			p.setStatus(ctx, payout.StatusConfirmed, "confirmed at "+payout.ProviderTitle(p.state.Provider))
			return
		}
		p.note(ctx, "confirm did not succeed ("+errorCode(err)+"), asking the provider")
		out = p.lookup(ctx)
		if out.State.Final() {
			p.absorb(out)
			return
		}
		if out.State != providers.StateAwaitingConfirm {
			p.absorb(out)
			p.setStatus(ctx, payout.StatusConfirmed, "the provider took the confirmation (found by lookup)")
			return
		}
		if isRejected(err) || attempt == maxAttempts {
			p.attention(ctx, "the provider did not take the confirmation ("+errorCode(err)+"); waiting for its final word")
			return
		}
		p.backoff(ctx, attempt, func() bool { return false })
	}
}

// cancelAtProvider drops the payout at the provider, if it got that far. It ends cancelled only when the provider
// took the cancel; if the provider went on without us, the payout ends as the provider says.
func (p *run) cancelAtProvider(ctx workflow.Context) payout.State {
	if p.v2() && p.in.OpenOnSubmit && !p.sentAt.IsZero() && p.at.Ref.SessionID == "" && !p.at.State.Final() {
		// The payout was handed over and the provider has not named it: it may stand there. The cancel waits for
		// its name (webhook or lookup), as a transfer's does, and is then asked of the provider.
		p.note(ctx, "cancel waits for the provider to name the payout, which it may have")
		p.waitAtProvider(ctx, func() bool { return p.at.Ref.SessionID != "" || p.at.State.Final() })
		if p.at.State.Final() {
			return p.finish(ctx)
		}
	}
	for attempt := 1; p.at.Ref.SessionID != "" && ctx.Err() == nil; attempt++ {
		var out providers.Outcome
		err := p.moveMoney(withOneAttempt(ctx), (*activities.Activities).Cancel, p.call(), &out)
		if err != nil {
			p.note(ctx, "cancel did not succeed ("+errorCode(err)+"), asking the provider")
			out = p.lookup(ctx)
		} else if out.State != providers.StateCancelled {
			p.note(ctx, "the provider answered the cancel with "+string(out.State)+", not cancelled")
		}
		if out.State == providers.StateCancelled {
			p.absorb(out)
			break
		}
		if out.State.Final() {
			p.absorb(out)
			return p.finish(ctx)
		}
		if out.State == providers.StatePending {
			// The provider is executing: wait until it finishes or waits for us again, and never pretend.
			p.absorb(out)
			p.attention(ctx, "the provider is executing the payout; the cancel could not stop it")
			p.waitAtProvider(ctx, func() bool { return p.at.State.Final() || p.at.State == providers.StateAwaitingConfirm })
			if p.at.State.Final() {
				return p.finish(ctx)
			}
		}
		if attempt == maxAttempts {
			p.attention(ctx, "the provider did not take the cancel ("+errorCode(err)+"); trying again")
		}
		p.backoff(ctx, attempt, func() bool { return false })
	}
	p.setStatus(ctx, payout.StatusCancelled, "cancelled")
	return p.state
}

// backoff waits before attempt+1: 10 s, then twice as long each time, up to the longest wait, or until stop holds.
// It reports whether stop held.
func (p *run) backoff(ctx workflow.Context, attempt int, stop func() bool) bool {
	wait := min(10*time.Second<<min(attempt-1, 10), p.pollMax())
	ok, _ := p.awaitFor(ctx, wait, "wait before trying again", stop)
	return ok
}

// waitAtProvider waits until done holds, taking webhooks as they come; when none comes in time, it asks the
// provider, waiting twice as long each time. A webhook's final claim is checked with the provider before it counts.
func (p *run) waitAtProvider(ctx workflow.Context, done func() bool) {
	wait := p.in.PollAfter
	if p.waitingSince.IsZero() { // else a run before this one began the wait
		p.waitingSince = workflow.Now(ctx)
	}
	defer func() { p.waitingSince, p.pendingFlagged = time.Time{}, false }()
	for !done() && ctx.Err() == nil {
		p.continueAt(ctx)
		if p.v2() && !p.pendingFlagged && workflow.Now(ctx).Sub(p.waitingSince) >= p.pendingLimit() && !p.at.State.Final() {
			p.pendingFlagged = true
			if p.state.Status != payout.StatusNeedsAttention {
				p.attention(ctx, fmt.Sprintf("the provider has kept the payout %s for %s, longer than it should: "+
					"look at it with the provider; still asking", p.at.State, p.pendingLimit()))
			}
		}
		unnamed := p.at.Ref.SessionID == ""
		ok, _ := p.awaitFor(ctx, wait, "wait for the provider's webhook", func() bool { return done() || p.claim != nil || p.lookNow || (unnamed && p.at.Ref.SessionID != "") })
		if ok && p.claim == nil && !p.lookNow && !(unnamed && p.at.Ref.SessionID != "") {
			return
		}
		p.lookNow = false
		if !ok {
			wait = min(wait*2, p.pollMax())
		}
		claim := p.claim
		p.claim = nil // a claim arriving during the lookup is checked on the next round
		if claim != nil && p.at.Ref.SessionID == "" && claim.Ref.SessionID != "" {
			// The provider named its id of the payout in a verified webhook for this payout: ask by it.
			p.at.Ref.SessionID = claim.Ref.SessionID
			p.note(ctx, "the provider's id of the payout is known from its webhook: "+claim.Ref.SessionID)
		}
		if p.at.Ref.SessionID == "" && p.in.Request.Transfer != nil {
			// A transfer whose start went unanswered is known to the bank only by the session it has not named
			// yet: nothing to ask by. Its webhook, which names it, is awaited.
			continue
		}
		p.checking = claim // carried into the next run should this lookup continue as new
		out := p.lookup(ctx)
		p.checking = nil
		p.polls++
		p.showPayerAction(ctx, out)
		if why := out.Details[providers.DetailAttention]; why != "" && !out.State.Final() && p.state.Status != payout.StatusNeedsAttention {
			p.attention(ctx, why)
		}
		if advances(p.at.State, out.State) {
			p.absorb(out)
		} else if p.at.Ref.SessionID == "" && out.Ref.SessionID != "" {
			p.absorb(out) // the payout's id, learnt by the lookup
		} else if claim != nil {
			p.note(ctx, fmt.Sprintf("a webhook said %s, the provider says %s: waiting", claim.State, out.State))
		}
	}
}

// pendingLimit is how long the provider may keep the payout undecided before an operator is told (Input.PendingLimit).
func (p *run) pendingLimit() time.Duration {
	if p.in.PendingLimit > 0 {
		return p.in.PendingLimit
	}
	return DefaultPendingLimit
}

// continueAt ends this run, once the story has asked the provider long enough, to go on as a new one: the story
// stops here for good, and PayoutWorkflow continues as new with continueWith.
func (p *run) continueAt(ctx workflow.Context) {
	perRun := p.in.PollsPerRun
	if perRun <= 0 {
		perRun = DefaultPollsPerRun
	}
	if !p.mayContinue || (p.polls < perRun && workflow.GetInfo(ctx).GetCurrentHistoryLength() < historyBudget) {
		return
	}
	p.continuing = true
	_ = workflow.Await(ctx, func() bool { return false })
}

// drain waits until every signal and update that arrived has been handled: none is lost across continue-as-new.
func (p *run) drain(ctx workflow.Context) {
	_ = workflow.Await(ctx, func() bool {
		return p.handling == 0 && p.pendingSignals(ctx) == 0 && workflow.AllHandlersFinished(ctx)
	})
}

// continueAsNew starts the payout's next run with everything this one knows (drained first).
func (p *run) continueAsNew(ctx workflow.Context) error {
	in := p.in
	claim := p.claim
	if claim == nil {
		claim = p.checking
	}
	in.Resume = &Resume{State: p.state, At: p.at, Decision: p.decision, Claim: claim, Started: p.started,
		Unnamed: p.unnamed, SentAt: p.sentAt, Verified: p.verified, FirstMark: p.firstMark, LookNow: p.lookNow,
		WaitingSince: p.waitingSince, PendingFlagged: p.pendingFlagged, Runs: p.runs + 1}
	return workflow.NewContinueAsNewError(ctx, WorkflowName, in)
}

// pendingSignals counts the signals delivered to the payout and not yet taken by their handlers.
func (p *run) pendingSignals(ctx workflow.Context) int {
	n := 0
	for _, ch := range p.signals {
		n += ch.Len()
	}
	return n
}

// awaitFor waits until cond holds or d has passed, and reports whether cond held. From versionMoneySafety2 on, a
// timer no longer needed is cancelled: left alone it would fire later and cost a workflow task for nothing.
func (p *run) awaitFor(ctx workflow.Context, d time.Duration, summary string, cond func() bool) (bool, error) {
	if !p.v2() {
		return workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: d,
			TimerOptions: workflow.TimerOptions{Summary: summary}}, cond)
	}
	if cond() {
		return true, nil
	}
	timerCtx, cancel := workflow.WithCancel(ctx)
	timer := workflow.NewTimerWithOptions(timerCtx, d, workflow.TimerOptions{Summary: summary})
	if err := workflow.Await(ctx, func() bool { return timer.IsReady() || cond() }); err != nil {
		return false, err
	}
	if !cond() {
		return false, nil
	}
	if !timer.IsReady() {
		cancel()
	}
	return true, nil
}

// pollMax is the longest wait between two asks of the provider.
func (p *run) pollMax() time.Duration {
	if p.in.PollMax > 0 {
		return p.in.PollMax
	}
	return maxPollInterval
}

// showPayerAction puts the redirect the payer must follow, as the provider gives it, into the payout's state.
func (p *run) showPayerAction(ctx workflow.Context, o providers.Outcome) {
	url := o.Details[providers.DetailRedirectURL]
	if url == "" || o.State.Final() || p.at.State.Final() || (p.state.PayerAction != nil && p.state.PayerAction.RedirectURL == url) {
		return
	}
	p.state.PayerAction = &payout.PayerAction{RedirectURL: url, Method: o.Details[providers.DetailRedirectMethod]}
	p.note(ctx, "the payer must pass 3-D Secure: payer_action.redirect_url")
	p.publish(ctx)
}

// advances reports whether the provider's state to is news after from: states only move forward.
func advances(from, to providers.State) bool {
	switch {
	case from.Final():
		return false
	case to.Final():
		return true
	case to == providers.StateAwaitingConfirm:
		return from != providers.StateAwaitingConfirm
	case to == providers.StatePending:
		return from == providers.StateCreated
	}
	return false
}

// lookup asks the provider where the payout stands. It does not give up: while the provider cannot tell, the payout
// is marked for an operator and asked again later, never assumed failed or resent.
func (p *run) lookup(ctx workflow.Context) providers.Outcome {
	if p.in.LookupBySubmit && p.at.Ref.SessionID == "" {
		return p.lookupBySubmit(ctx)
	}
	for ctx.Err() == nil {
		var out providers.Outcome
		err := workflow.ExecuteActivity(withLookupRetries(ctx), (*activities.Activities).Status, p.call()).Get(ctx, &out)
		if err == nil {
			return out
		}
		if p.state.Status != payout.StatusNeedsAttention {
			p.attention(ctx, "the provider could not tell where the payout stands: "+errorCode(err))
		}
		_, _ = p.awaitFor(ctx, p.pollMax(), "ask the provider again", func() bool { return p.lookNow })
		p.lookNow = false
		p.polls++
		p.continueAt(ctx) // a provider that cannot tell for months: the wait goes on in a new run
	}
	return p.at // the workflow was cancelled
}

// finish ends the payout in the provider's final state.
func (p *run) finish(ctx workflow.Context) payout.State {
	switch p.at.State {
	case providers.StateSucceeded:
		p.setStatus(ctx, payout.StatusSucceeded, "paid out")
	case providers.StateCancelled:
		p.setStatus(ctx, payout.StatusCancelled, "cancelled at the provider")
	default:
		p.state.Failure = &payout.Failure{Code: p.at.ErrorCode, Description: p.at.ErrorDescription}
		if p.state.Failure.Code == "" {
			p.state.Failure.Code = "provider_failed"
		}
		p.setStatus(ctx, payout.StatusFailed, "failed at the provider: "+p.state.Failure.Code)
	}
	return p.state
}

// finishNow ends the payout at once; it returns false so that callers stop.
func (p *run) finishNow(ctx workflow.Context) bool {
	p.finish(ctx)
	return false
}

func (p *run) failFromError(ctx workflow.Context, err error, note string) bool {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == activities.ErrRejected {
		var r activities.Rejection
		_ = appErr.Details(&r)
		if r.Code == "" {
			r.Code = "provider_rejected"
		}
		p.state.Failure = &payout.Failure{Code: r.Code, Description: r.Description}
		p.setStatus(ctx, payout.StatusFailed, note+": "+r.Code)
		return false
	}
	p.attention(ctx, note+": "+errorCode(err))
	return false
}

// attention marks the payout for an operator: its outcome is not known and nothing will be retried blindly.
func (p *run) attention(ctx workflow.Context, why string) {
	p.state.Attention = why
	p.setStatus(ctx, payout.StatusNeedsAttention, why)
}

func (p *run) call() activities.Call {
	return activities.Call{Provider: p.state.Provider, Ref: p.at.Ref}
}

func (p *run) note(ctx workflow.Context, note string) {
	now := workflow.Now(ctx)
	p.state.Timeline = append(p.state.Timeline, payout.Entry{At: now, Status: p.state.Status, Note: note})
	p.state.UpdatedAt = now
}

func (p *run) setStatus(ctx workflow.Context, s payout.Status, note string) {
	if p.resolved && p.v2() {
		return // an operator's mark ended the payout: what the stopped story says changes nothing
	}
	p.state.Status = s
	if s != payout.StatusAwaitingApproval {
		p.state.Deadline = nil
	}
	if s != payout.StatusNeedsAttention {
		p.state.Attention = ""
	}
	p.note(ctx, note)
	p.publish(ctx)
}

// publish shows the status to operators: search attributes for filtering, current details in plain words.
func (p *run) publish(ctx workflow.Context) {
	if p.v2() {
		p.state.CancelRefused = ""
		if p.unstoppable() {
			p.state.CancelRefused = "the payout was sent to " + payout.ProviderTitle(p.state.Provider) +
				", which pays on submit and cannot stop it; it ends as the provider says"
		}
	}
	if sa := SearchAttributes(p.state); !p.v2() || searchKey(sa) != p.publishedSA {
		if err := workflow.UpsertTypedSearchAttributes(ctx, sa...); err != nil {
			workflow.GetLogger(ctx).Warn("upsert search attributes", "error", err)
		}
		p.publishedSA = searchKey(sa)
	}
	if p.v2() {
		// The state is read from the memo (encrypted by the codec) when no worker answers queries.
		if err := workflow.UpsertMemo(ctx, map[string]any{MemoState: p.state}); err != nil {
			workflow.GetLogger(ctx).Warn("upsert memo", "error", err)
		}
	}
	details := fmt.Sprintf("%s — %s", p.state.Summary(), describe(p.state))
	workflow.SetCurrentDetails(ctx, details)
}

func describe(s payout.State) string {
	switch s.Status {
	case payout.StatusAwaitingApproval:
		since := s.UpdatedAt
		for _, e := range s.Timeline {
			if e.Status == payout.StatusAwaitingApproval {
				since = e.At
				break
			}
		}
		waiting := "waiting for approval since " + since.UTC().Format("15:04 UTC")
		if s.ApprovalsRequired > 1 {
			waiting = fmt.Sprintf("waiting for %d different people to approve (%d so far) since %s",
				s.ApprovalsRequired, len(s.Approvals), since.UTC().Format("15:04 UTC"))
		}
		if s.Deadline != nil {
			return fmt.Sprintf("%s (cancelled at %s if nobody decides). "+
				`Send the "confirm" or "cancel" signal with {"by": "your name", "reason": "why"}.`,
				waiting, s.Deadline.UTC().Format("2006-01-02 15:04 UTC"))
		}
		return waiting
	case payout.StatusFailed:
		if s.Failure != nil {
			return "failed: " + s.Failure.Code
		}
	case payout.StatusNeedsAttention:
		return "needs attention: " + s.Attention
	}
	return string(s.Status)
}

func refs(r providers.Ref) map[string]string {
	m := map[string]string{}
	if r.SessionID != "" {
		m["session_id"] = r.SessionID
	}
	if r.PaymentID != "" {
		m["payment_id"] = r.PaymentID
	}
	return m
}

// isExisting reports whether the provider refused because the payout exists already.
func isExisting(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == activities.ErrExists
}

func isRejected(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == activities.ErrRejected
}

// errorCode names an activity error without its message, which may be long; the message stays in history,
// encrypted.
func errorCode(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		var r activities.Rejection
		if (appErr.Type() == activities.ErrRejected || appErr.Type() == activities.ErrExists) && appErr.Details(&r) == nil && r.Code != "" {
			return r.Code
		}
		return appErr.Type()
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return "timeout"
	}
	return "error"
}
