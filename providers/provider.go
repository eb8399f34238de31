// Package providers defines what every payout provider implements: the calls the payout workflow drives, the
// webhooks the receiver turns into signals, and errors that say whether a call's outcome is known.
package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/payoutflow/payoutflow/payout"
)

// Provider is one payout provider, as the payout workflow's activities use it. Every call carries our payout ID
// (Ref.PayoutID) to the provider as its reference, so that a webhook or a lookup leads back to the payout.
type Provider interface {
	// Name is the provider's name in requests, as the registry knows it.
	Name() string
	// Open registers the payout with the provider without moving money (Bank 131: session/create) and returns the
	// references that later calls need. A provider without such a step returns ref unchanged.
	Open(ctx context.Context, ref Ref) (Ref, error)
	// Submit hands the payout to the provider. With a confirm step at the provider no money moves until Confirm.
	Submit(ctx context.Context, ref Ref, req payout.Request) (Outcome, error)
	// Confirm tells the provider to execute a payout that waits for confirmation.
	Confirm(ctx context.Context, ref Ref) (Outcome, error)
	// Cancel tells the provider to drop a payout that waits for confirmation.
	Cancel(ctx context.Context, ref Ref) (Outcome, error)
	// Status asks the provider where the payout stands; it moves no money and is safe to repeat. A payout the
	// provider does not know (never taken) is StateCreated.
	Status(ctx context.Context, ref Ref) (Outcome, error)
}

// DetailAttention is the Outcome.Details key of a reason, given by the provider, for an operator to look at a payout
// that is not final (Bank 131's session in status error): the payout waits for its final status meanwhile.
const DetailAttention = "attention"

// DetailRecipientName is the Outcome.Details key of the recipient's name as the recipient's bank gave it, for a
// payout sent without the name (Mandarin SBP); the payout waits for Confirm until the name is checked.
const DetailRecipientName = "recipient_name"

// Acknowledger is implemented by Webhooks whose provider expects a particular answer to a webhook it delivered
// (Mandarin: 200 with body OK); without it the receiver answers 200 with a JSON body.
type Acknowledger interface {
	Acknowledge() (contentType string, body []byte)
}

// Bank is a bank that takes SBP payouts.
type Bank struct {
	ID   string `json:"bank_id"`
	Name string `json:"name"`
	BIC  string `json:"bic,omitempty"`
}

// BankLister is implemented by providers that pay out by SBP: the banks they pay to.
type BankLister interface {
	// SBPBanks lists the banks, those whose name contains name (any case) when it is not empty.
	SBPBanks(ctx context.Context, name string) ([]Bank, error)
}

// BalanceReader is implemented by providers that tell the balance of an account payouts are paid from.
type BalanceReader interface {
	// Balance returns the balance of the account channel; "" is the provider's default channel.
	Balance(ctx context.Context, channel string) (payout.Amount, error)
}

// Webhooks verifies a provider's webhook and translates it into events for payout workflows.
type Webhooks interface {
	// Translate verifies the request's signature over the raw body before it parses anything. It returns
	// ErrBadSignature when the signature is missing or wrong, and a *MalformedError when the body cannot be read.
	Translate(header http.Header, body []byte) ([]Event, error)
}

// Verifications answers a provider that asks, before it completes a payout, whether to go on with it (bePaid's
// verification_url).
type Verifications interface {
	// ParseVerification checks the request's credentials and signature before it parses anything, like
	// Webhooks.Translate, with the same errors.
	ParseVerification(header http.Header, body []byte) (Verification, error)
	// Answer is the HTTP body that carries our answer to v (sent with status 200 and Content-Type
	// application/json).
	Answer(v Verification, a VerificationAnswer) []byte
}

// Verification is a provider's question: may this payout go on?
type Verification struct {
	Provider string `json:"provider"`
	PayoutID string `json:"payout_id"`
	// TransactionID is the provider's id of the payout (bePaid: uid).
	TransactionID string        `json:"transaction_id"`
	Amount        payout.Amount `json:"amount"`
	// CreatedAt is the provider's timestamp of the transaction, copied back in the answer where the provider wants it.
	CreatedAt string `json:"created_at,omitempty"`
	// AnswerBy is when the API stops waiting for the payout's answer and declines (set by the API, not the
	// provider): a payout that takes the question later declines it too, so that its history says what the
	// provider was told. Zero: no deadline.
	AnswerBy time.Time `json:"answer_by,omitzero"`
}

// VerificationAnswer is our answer to a Verification.
type VerificationAnswer struct {
	Approved bool   `json:"approved"`
	Message  string `json:"message,omitempty"`
}

// Ref holds our payout ID and the provider's identifiers of it.
type Ref struct {
	PayoutID string `json:"payout_id"`
	// SessionID is the provider's session or transaction id (Bank 131: ps_..., bePaid: the transaction uid).
	SessionID string `json:"session_id,omitempty"`
	// PaymentID is the provider's id of the payout itself (Bank 131: po_...).
	PaymentID string `json:"payment_id,omitempty"`
}

// State is where a payout stands at the provider.
type State string

// The provider-side states. Succeeded, Failed and Cancelled are final.
const (
	// StateCreated: the provider knows the payout but nothing is submitted (Bank 131: a session without a payout).
	StateCreated State = "created"
	// StatePending: the provider is working on it.
	StatePending State = "pending"
	// StateAwaitingConfirm: the provider is ready and waits for Confirm or Cancel.
	StateAwaitingConfirm State = "awaiting_confirm"
	StateSucceeded       State = "succeeded"
	StateFailed          State = "failed"
	StateCancelled       State = "cancelled"
)

// Final reports whether the provider will not change this state any more.
func (s State) Final() bool {
	return s == StateSucceeded || s == StateFailed || s == StateCancelled
}

// Outcome is what a provider said of a payout.
type Outcome struct {
	Ref   Ref   `json:"ref"`
	State State `json:"state"`
	// Card is the card the provider pays to, as it shows it (brand and last four digits).
	Card *payout.MaskedCard `json:"card,omitempty"`
	// Amount is the amount the provider reports, when it reports one.
	Amount *payout.Amount `json:"amount,omitempty"`
	// ErrorCode and ErrorDescription are the provider's words for a failure.
	ErrorCode        string `json:"error_code,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
	// Details are further references and words of the provider worth keeping with the payout (bePaid: rrn,
	// ref_id, auth_code, message). They never hold a card number.
	Details map[string]string `json:"details,omitempty"`
}

// Event kinds a webhook can carry; each is the name of the signal sent to the payout's workflow.
const (
	EventReadyToConfirm  = "ready_to_confirm"
	EventPaymentFinished = "payment_finished"
	EventSBPStatus       = "sbp_status"
	// EventActionRequired: the payer must act (pass 3-D Secure at Details[DetailRedirectURL]) before the payout
	// goes on.
	EventActionRequired = "action_required"
)

// Outcome.Details keys of a payer's action.
const (
	DetailRedirectURL    = "redirect_url"
	DetailRedirectMethod = "redirect_method"
)

// Transferrer is implemented by providers that make cross-border transfers paid by the sender's card (Bank 131).
// The card is used for this one call: the caller must keep it nowhere.
type Transferrer interface {
	// StartTransfer hands the transfer to the provider under the payout ID in ref. It moves no money until the
	// payer passes 3-D Secure.
	StartTransfer(ctx context.Context, ref Ref, req payout.Request, card payout.SenderCard) (Outcome, error)
}

// Event is a verified webhook, translated: what happened to which payout.
type Event struct {
	// Kind is one of the Event* constants, and the signal name.
	Kind     string  `json:"kind"`
	Provider string  `json:"provider"`
	Outcome  Outcome `json:"outcome"`
}

// ErrBadSignature means a webhook's signature is missing or does not verify: nothing in it may be believed.
var ErrBadSignature = errors.New("webhook signature missing or invalid")

// MalformedError means a verified webhook's body could not be understood.
type MalformedError struct{ Reason string }

func (e *MalformedError) Error() string { return "malformed webhook: " + e.Reason }

// Certainty says whether the outcome of a failed call is known.
type Certainty string

const (
	// Known: the provider definitely did not do what was asked (a rejection); nothing happened.
	Known Certainty = "known"
	// Unknown: the request may or may not have taken effect (timeout, 5xx, connection lost after sending). Ask the
	// provider before trying again.
	Unknown Certainty = "unknown"
)

// Error is a failed provider call. Its message never holds a card number: it carries only the provider's error
// code and description and the transport error.
type Error struct {
	Provider string
	// Op is the provider's method, for example "session/start/payout".
	Op string
	// Certainty says whether the call's outcome is known.
	Certainty Certainty
	// HTTPStatus is the HTTP status answered, 0 when none came.
	HTTPStatus int
	// Code and Description are the provider's own, when it gave them.
	Code        string
	Description string
	// Exists means the provider refused the call because what it asks for exists already (Mandarin's duplicate
	// order id, an idempotency key used before): the earlier call took effect, or is taking it. Look it up; never
	// make another.
	Exists bool
	// Err is the underlying transport error, if any.
	Err error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %s: outcome %s", e.Provider, e.Op, e.Certainty)
	if e.HTTPStatus != 0 {
		msg += fmt.Sprintf(", http %d", e.HTTPStatus)
	}
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// IsUnknown reports whether err is a provider call whose outcome is unknown.
func IsUnknown(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.Certainty == Unknown
}
