// Package activities holds the Temporal activities of a payout: thin wrappers that call a provider and report its
// errors in a form the workflow can act on.
package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/payoutflow/payoutflow/metrics"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

// Error types the workflow tells apart.
const (
	// ErrRejected: the provider definitely refused; nothing happened. Details hold a Rejection.
	ErrRejected = "ProviderRejected"
	// ErrUnknownOutcome: the call may or may not have taken effect; ask the provider before anything else.
	ErrUnknownOutcome = "OutcomeUnknown"
	// ErrConfig: the worker cannot serve this payout (for example the provider is not configured).
	ErrConfig = "Configuration"
	// ErrExists: the provider refused because the payout exists already (a duplicate order id, an idempotency key
	// used before): an earlier attempt took effect or is taking it.
	ErrExists = "AlreadyExists"
	// ErrEventDelivery: an event was not taken by the backend's endpoint this time; the workflow tries again.
	ErrEventDelivery = "EventDeliveryFailed"
)

// Rejection is the provider's reason for refusing a call.
type Rejection struct {
	Code        string `json:"code"`
	Description string `json:"description,omitempty"`
}

// Activities calls providers on behalf of payout workflows.
type Activities struct {
	providers    map[string]providers.Provider
	decisionKeys [][]byte
	// Signaler lets Watch signal the payout's workflow (the worker's client). It is a field, not a method, because
	// every exported method is registered as an activity.
	Signaler Signaler
	// Events delivers events to the operator's endpoints (DeliverEvent); nil when none is configured.
	Events *EventSender
}

// Signaler sends a signal to a workflow; client.Client is one.
type Signaler interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// New returns the activities for the given providers. Each of decisionKeys verifies the API's proofs of decisions
// (one per codec key: a proof signed before or during a key rotation still counts).
func New(decisionKeys [][]byte, ps ...providers.Provider) *Activities {
	a := &Activities{providers: make(map[string]providers.Provider, len(ps)), decisionKeys: decisionKeys}
	for _, p := range ps {
		a.providers[p.Name()] = p
	}
	return a
}

// Call is the input of every provider activity: which provider, which payout.
type Call struct {
	Provider string        `json:"provider"`
	Ref      providers.Ref `json:"ref"`
}

// SubmitCall is the input of Submit: the call and the payout request (it holds the card number, and travels
// encrypted by the codec).
type SubmitCall struct {
	Call
	Request payout.Request `json:"request"`
}

// Open registers the payout with its provider; it moves no money and may be retried.
func (a *Activities) Open(ctx context.Context, c Call) (providers.Ref, error) {
	p, err := a.provider(c.Provider)
	if err != nil {
		return providers.Ref{}, err
	}
	start := time.Now()
	ref, err := p.Open(ctx, c.Ref)
	metrics.ProviderCall(c.Provider, "open", start, err)
	return ref, classify(err)
}

// Submit hands the payout to its provider. The workflow runs it once: an error of unknown outcome is resolved with
// Status, never by running Submit again blindly.
func (a *Activities) Submit(ctx context.Context, c SubmitCall) (providers.Outcome, error) {
	p, err := a.provider(c.Provider)
	if err != nil {
		return providers.Outcome{}, err
	}
	var out providers.Outcome
	start := time.Now()
	err = heartbeating(ctx, func() error {
		out, err = p.Submit(ctx, c.Ref, c.Request)
		return err
	})
	metrics.ProviderCall(c.Provider, "submit", start, err)
	return out, classify(err)
}

// heartbeatEvery is how often a call that moves money tells Temporal that its worker is alive, so that a worker
// that dies in the middle of a long call (a provider's create may take 10 minutes) is noticed within the activity's
// heartbeat timeout, and the call's outcome is then looked up, not waited for.
const heartbeatEvery = 5 * time.Second

// heartbeating runs call, heartbeating meanwhile.
func heartbeating(ctx context.Context, call func() error) error {
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return call()
}

// Confirm tells the provider to execute the payout. Run once, like Submit.
func (a *Activities) Confirm(ctx context.Context, c Call) (providers.Outcome, error) {
	p, err := a.provider(c.Provider)
	if err != nil {
		return providers.Outcome{}, err
	}
	var out providers.Outcome
	start := time.Now()
	err = heartbeating(ctx, func() error {
		out, err = p.Confirm(ctx, c.Ref)
		return err
	})
	metrics.ProviderCall(c.Provider, "confirm", start, err)
	return out, classify(err)
}

// Cancel tells the provider to drop the payout. Run once, like Submit.
func (a *Activities) Cancel(ctx context.Context, c Call) (providers.Outcome, error) {
	p, err := a.provider(c.Provider)
	if err != nil {
		return providers.Outcome{}, err
	}
	var out providers.Outcome
	start := time.Now()
	err = heartbeating(ctx, func() error {
		out, err = p.Cancel(ctx, c.Ref)
		return err
	})
	metrics.ProviderCall(c.Provider, "cancel", start, err)
	return out, classify(err)
}

// Status asks the provider where the payout stands; it is safe to retry.
func (a *Activities) Status(ctx context.Context, c Call) (providers.Outcome, error) {
	p, err := a.provider(c.Provider)
	if err != nil {
		return providers.Outcome{}, err
	}
	start := time.Now()
	out, err := p.Status(ctx, c.Ref)
	metrics.ProviderCall(c.Provider, "status", start, err)
	var pe *providers.Error
	if errors.As(err, &pe) && pe.Certainty == providers.Known {
		// A refused status call moved nothing: asking again (with fresh credentials, a fresh request id) is safe,
		// and the workflow's retry policy bounds it.
		return out, refused(err, ErrRejected, false, pe)
	}
	return out, classify(err)
}

// WatchCall asks Watch to follow a payout at its provider.
type WatchCall struct {
	Call
	// Every is the time between two asks.
	Every time.Duration `json:"every"`
	// Signal is the signal that carries what Watch found to the payout's workflow.
	Signal string `json:"signal"`
}

// Watch asks the provider where the payout stands every c.Every until the provider waits for confirmation or the
// payout is final, then delivers what it found to the payout's workflow as the signal c.Signal, as a webhook would,
// and returns it. It moves no money and the workflow ignores repeats, so it is safe to retry.
func (a *Activities) Watch(ctx context.Context, c WatchCall) (providers.Outcome, error) {
	p, err := a.provider(c.Provider)
	if err != nil {
		return providers.Outcome{}, err
	}
	if a.Signaler == nil {
		return providers.Outcome{}, temporal.NewNonRetryableApplicationError("watch: no signaler on this worker", ErrConfig, nil)
	}
	every := max(c.Every, 100*time.Millisecond)
	for {
		start := time.Now()
		out, err := p.Status(ctx, c.Ref)
		metrics.ProviderCall(c.Provider, "status", start, err)
		if err == nil && (out.State == providers.StateAwaitingConfirm || out.State.Final()) {
			ev := providers.Event{Kind: c.Signal, Provider: c.Provider, Outcome: out}
			wf := activity.GetInfo(ctx).WorkflowExecution
			if err := a.Signaler.SignalWorkflow(ctx, wf.ID, wf.RunID, c.Signal, ev); err != nil {
				return out, fmt.Errorf("watch: signal %s to %s: %w", c.Signal, wf.ID, err)
			}
			return out, nil
		}
		activity.RecordHeartbeat(ctx, string(out.State))
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-activity.GetWorkerStopChannel(ctx):
			// A stopping worker lets the calls under way finish (WORKER_STOP_TIMEOUT); a watch never finishes on
			// its own: it gives way, to be retried on another worker.
			return out, errors.New("watch: the worker is stopping; another worker watches on")
		case <-time.After(every):
		}
	}
}

// Balance returns the balance of the account the provider pays from; it moves no money.
func (a *Activities) Balance(ctx context.Context, c Call) (payout.Amount, error) {
	p, err := a.provider(c.Provider)
	if err != nil {
		return payout.Amount{}, err
	}
	br, ok := p.(providers.BalanceReader)
	if !ok {
		return payout.Amount{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("provider %q tells no balance", c.Provider), ErrConfig, nil)
	}
	start := time.Now()
	amount, err := br.Balance(ctx, "")
	metrics.ProviderCall(c.Provider, "balance", start, err)
	return amount, classify(err)
}

// DecisionCheck asks whether a decision carries the API's proof.
type DecisionCheck struct {
	PayoutID string `json:"payout_id"`
	Signal   string `json:"signal"`
	By       string `json:"by"`
	Proof    string `json:"proof"`
}

// VerifyDecisionName is the name the workflow runs VerifyDecision by: a name, not a method expression, so that the
// workflow replayer, which has no activities registered, resolves it too.
const VerifyDecisionName = "VerifyDecision"

// VerifyDecision reports whether the API authenticated who made the decision. It runs as a local activity, so the
// answer is recorded in history and the secret never enters workflow code.
func (a *Activities) VerifyDecision(_ context.Context, c DecisionCheck) (bool, error) {
	for _, key := range a.decisionKeys {
		if len(key) > 0 && payout.VerifyDecision(key, c.PayoutID, c.Signal, c.By, c.Proof) {
			return true, nil
		}
	}
	return false, nil
}

func (a *Activities) provider(name string) (providers.Provider, error) {
	p, ok := a.providers[name]
	if !ok {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("provider %q is not configured on this worker", name), ErrConfig, nil)
	}
	return p, nil
}

// classify turns a provider error into an application error whose type tells the workflow whether the outcome is
// known.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pe *providers.Error
	if errors.As(err, &pe) && pe.Exists {
		return refused(err, ErrExists, true, pe)
	}
	if errors.As(err, &pe) && pe.Certainty == providers.Known {
		return refused(err, ErrRejected, true, pe)
	}
	return temporal.NewApplicationError(err.Error(), ErrUnknownOutcome, err)
}

// refused is the application error of a provider's definite refusal. A refusal is expected, and the workflow acts
// on it: it is benign, so the SDK logs it at DEBUG (not ERROR, which asks a person to act) and does not count it
// as a failed activity.
func refused(err error, kind string, nonRetryable bool, pe *providers.Error) error {
	return temporal.NewApplicationErrorWithOptions(err.Error(), kind, temporal.ApplicationErrorOptions{
		NonRetryable: nonRetryable,
		Cause:        err,
		Details:      []any{Rejection{Code: pe.Code, Description: pe.Description}},
		Category:     temporal.ApplicationErrorCategoryBenign,
	})
}
