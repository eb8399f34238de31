// The payout's state: what a run knows, the timeline it writes, and how it publishes its state (query, memo,
// search attributes, current details) for clients and operators.

package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

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
	// approvalSince is when the payout began waiting for approval in this run (metrics only).
	approvalSince time.Time
	// ev is the payout's events and their deliveries (events.go).
	ev eventLog
	// changes counts the changes to what the payout publishes, flushed those published (lean.go); memoSum is
	// the hash of the memo published last; stale are the timers left to fire unseen.
	changes, flushed int
	memoSum          uint64
	// urgent is the count of changes at the last one published at the end of its task (versionQuiet); hush
	// makes the changes quiet while set (quietly); pendingSince is when the oldest change not published was
	// made, once the publisher has seen it.
	urgent       int
	hush         bool
	pendingSince time.Time
	stale        []staleTimer
	// local counts the local activities under way; localTask is the history length when the last one started.
	local, localTask int
}

// v2 reports whether the payout runs under "Money safety, part 2" (versionMoneySafety2) or later.
func (p *run) v2() bool { return p.version >= versionMoneySafety2 }

func (p *run) v3() bool { return p.version >= versionFailureVocabulary }

// verifyByDeadline reports whether the payout declines a verification taken after its AnswerBy
// (versionVerifyDeadline or later).
func (p *run) verifyByDeadline() bool { return p.version >= versionVerifyDeadline }

// providerFailure is the failure the provider reported, in payoutflow's code with the provider's words (v3), or
// as release 1 recorded it, the provider's code as the code. A code the provider's table has not is logged.
func (p *run) providerFailure(ctx workflow.Context, code, description string) *payout.Failure {
	if !p.v3() {
		return &payout.Failure{Code: code, Description: description}
	}
	f, known := payout.ProviderFailure(p.state.Provider, code, description)
	if !known {
		workflow.GetLogger(ctx).Warn("provider failure code not in the provider's table: "+payout.FailureProviderRejected,
			"provider_code", code) // the payout and its provider are named by the worker's logging interceptor
	}
	return &f
}

func (p *run) call() activities.Call {
	return activities.Call{Provider: p.state.Provider, Ref: p.at.Ref}
}

func (p *run) note(ctx workflow.Context, note string) {
	now := workflow.Now(ctx)
	p.state.Timeline = append(p.state.Timeline, payout.Entry{At: now, Status: p.state.Status, Note: note})
	p.state.UpdatedAt = now
	p.changed()
}

func (p *run) setStatus(ctx workflow.Context, s payout.Status, note string) {
	if p.resolved && p.v2() {
		return // an operator's mark ended the payout: what the stopped story says changes nothing
	}
	prev := p.state.Status
	p.state.Status = s
	p.measure(ctx, prev)
	if s != payout.StatusAwaitingApproval {
		p.state.Deadline = nil
	}
	if s != payout.StatusNeedsAttention {
		p.state.Attention = ""
	}
	p.note(ctx, note)
	p.publish(ctx)
}

// attention marks the payout for an operator: its outcome is not known and nothing will be retried blindly.
func (p *run) attention(ctx workflow.Context, why string) {
	p.state.Attention = why
	p.setStatus(ctx, payout.StatusNeedsAttention, why)
}

// publish shows the status to operators: search attributes for filtering, current details in plain words; under
// versionLean the publisher publishes it at the end of the workflow task (lean.go).
func (p *run) publish(ctx workflow.Context) {
	p.prepare(ctx)
	if p.lean() {
		p.changed() // published by the publisher, once per workflow task
		return
	}
	p.emit(ctx)
}

// prepare makes the state ready to publish: its failure normalised, whether a cancel can still stop it, its events.
func (p *run) prepare(ctx workflow.Context) {
	if p.v3() {
		p.state.NormaliseFailure() // a cancelled payout says why
	}
	if p.v2() {
		p.state.CancelRefused = ""
		if p.unstoppable() {
			p.state.CancelRefused = "the payout was sent to " + payout.ProviderTitle(p.state.Provider) +
				", which pays on submit and cannot stop it; it ends as the provider says"
		}
	}
	if p.eventsOn() {
		p.recordEvents(ctx)
	}
}

// emit upserts the search attributes and the memo where they changed, and sets the current details.
func (p *run) emit(ctx workflow.Context) {
	if sa := p.searchAttributes(); !p.v2() || searchKey(sa) != p.publishedSA {
		if err := workflow.UpsertTypedSearchAttributes(ctx, sa...); err != nil {
			workflow.GetLogger(ctx).Warn("upsert search attributes", "error", err)
		}
		p.publishedSA = searchKey(sa)
	}
	if p.v2() {
		memo, changed := p.memo(), true
		if p.lean() {
			memo, changed = p.leanMemo(memo)
		}
		// The state is read from the memo (encrypted by the codec) when no worker answers queries.
		if changed {
			if err := workflow.UpsertMemo(ctx, memo); err != nil {
				workflow.GetLogger(ctx).Warn("upsert memo", "error", err)
			}
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

// failureNote names a failure in a note: its code, and the provider's where it gave one ("declined_by_issuer
// (declined_by_issuer_bank)").
func failureNote(f *payout.Failure) string {
	if f.ProviderCode == "" || f.ProviderCode == f.Code {
		return f.Code
	}
	return f.Code + " (" + f.ProviderCode + ")"
}
