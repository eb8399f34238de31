// Months of waiting: a payout that waits long for the provider's final word continues as new, carrying all it
// knows (Resume) into its next run, with no signal lost on the way.

package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

// Continue-as-new: a run waiting for the provider's final word continues as new once it has asked the provider
// Input.PollsPerRun times or its history reaches historyBudget events, so that every run stays under 2,000 events
// (README, "Months of waiting").
const (
	DefaultPollsPerRun = 100
	historyBudget      = 1500
)

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
	// Events are the payout's events and how far each endpoint has them (versionEvents).
	Events *eventLog `json:"events,omitempty"`
	// Runs counts the runs before this one.
	Runs int `json:"runs"`
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
	if p.eventsOn() {
		in.Resume.Events = &p.ev
	}
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
