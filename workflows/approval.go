// The payout's approval: confirm and cancel as people and the policy give them, the approvals counted (two
// different people where the policy says so), the deadline, the recipient's name as the bank gives it, and the
// answer to the provider's question whether to go on (verify).

package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/policy"
	"github.com/payoutflow/payoutflow/providers"
)

// SystemActor is who decides when no person did (the approval deadline).
const SystemActor = "payoutflow"

// verifyTooLate is the answer to a verification taken after its AnswerBy (versionVerifyDeadline).
const verifyTooLate = "answered too late"

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
		p.decide(ctx, false, payout.Decision{By: SystemActor, Reason: payout.ApprovalDeadlineReason})
	}
}

// awaitDecision waits for confirm or cancel until the approval deadline; false means the deadline passed.
func (p *run) awaitDecision(ctx workflow.Context) bool {
	deadline := workflow.Now(ctx).Add(p.in.ApprovalTimeout)
	p.state.Deadline = &deadline
	p.publish(ctx)
	ok, _ := p.awaitFor(ctx, p.in.ApprovalTimeout, "approval deadline", func() bool { return p.decision != nil })
	return ok
}

// mismatch says why the payout the provider is ready to execute is not the one requested, or "" when it is.
func (p *run) mismatch() string {
	if a := p.at.Amount; a != nil && *a != p.in.Request.Amount {
		return fmt.Sprintf("the provider is ready to pay %s, but %s was requested", a, p.in.Request.Amount)
	}
	return ""
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

// verify answers the provider's question whether to go on with the payout: only an approved payout, with the
// amount requested, and the transaction we know, if we know one, asked in time. The answer is recorded in the
// history.
func (p *run) verify(ctx workflow.Context, v providers.Verification) (providers.VerificationAnswer, error) {
	answer := providers.VerificationAnswer{Approved: true}
	if p.verifyByDeadline() && !v.AnswerBy.IsZero() && workflow.Now(ctx).After(v.AnswerBy) {
		// The API stopped waiting and told the provider no (a worker died while it asked): the history says so.
		p.note(ctx, fmt.Sprintf("verification of transaction %s answered too late, declined: the answer was due by %s",
			v.TransactionID, v.AnswerBy.UTC().Format("15:04:05.000")))
		return providers.VerificationAnswer{Message: verifyTooLate}, nil
	}
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
	if err := p.runLocal(ctx, activities.VerifyDecisionName, check, &ok); err != nil {
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
