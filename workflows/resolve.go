// An operator's way out of needs_attention (the resolve signal): look up again, or mark the payout failed or
// succeeded, checked with the provider or by a second person; and, after a mark, listening for the provider's word
// that contradicts it.

package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
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
	workflow.GetLogger(ctx).Error("payout contradicts its provider", "ended", p.state.Status, "provider_says", out.State)
	p.note(ctx, note)
	p.publish(ctx)
}
