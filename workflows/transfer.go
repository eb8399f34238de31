// A cross-border transfer's story: the API hands it to the provider itself (the sender's card never enters the
// workflow) and says so (transfer_started); the payer's 3-D Secure is the approval.

package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

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

// TransferRefused is TransferStarted.Error of a transfer the provider refused without a code of its own.
const TransferRefused = "transfer_refused"

// Digest is what the API signs of a TransferStarted: the session named, the error and whether it is known.
func (t TransferStarted) Digest() string {
	return fmt.Sprintf("%s|%s|%t", t.Outcome.Ref.SessionID, t.Error, t.Known)
}

// transferStartWait is how long a transfer waits for the API's word that it reached the provider, or for the
// provider's webhook, before an operator is asked to look.
const transferStartWait = 15 * time.Minute

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
			if p.v3() && s.Error == TransferRefused { // no code of the provider's
				p.state.Failure = payout.OwnFailure(payout.FailureProviderRejected, s.Description)
			} else {
				p.state.Failure = p.providerFailure(ctx, s.Error, s.Description)
			}
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
