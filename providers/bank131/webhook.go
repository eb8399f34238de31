package bank131

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/redact"
)

// Webhooks verifies Bank 131's webhooks with the bank's public key and translates them into payout events.
type Webhooks struct {
	bankKey *rsa.PublicKey
}

var _ providers.Webhooks = (*Webhooks)(nil)

// NewWebhooks returns the translator that trusts webhooks signed by bankPublicKey. With a nil key every webhook is
// rejected.
func NewWebhooks(bankPublicKey *rsa.PublicKey) *Webhooks {
	return &Webhooks{bankKey: bankPublicKey}
}

// webhook is the body Bank 131 posts: {"type": "...", "session": {...}}.
type webhook struct {
	Type    string   `json:"type"`
	Session *Session `json:"session"`
}

// Translate verifies X-PARTNER-SIGN over the raw body and then reads it. ready_to_confirm, payment_finished and
// action_required (EventActionRequired, with the payer's redirect in Outcome.Details["redirect_url"]) become one
// event for the payout named in the metadata of the session's payment (for action_required, of its payout or its
// acquiring payment); other types yield no events. An action_required that names no payout concerns a payment
// that is not a payout of ours (acquiring) and yields no event either.
func (w *Webhooks) Translate(header http.Header, body []byte) ([]providers.Event, error) {
	if err := Verify(w.bankKey, body, header.Get(headerSign)); err != nil {
		return nil, fmt.Errorf("bank131 webhook: %w", providers.ErrBadSignature)
	}
	var hook webhook
	if err := json.Unmarshal(body, &hook); err != nil {
		return nil, &providers.MalformedError{Reason: "bank131: body is not a webhook: " + redact.Error(err).Error()}
	}
	var kind string
	switch hook.Type {
	case hookReadyToConfirm:
		kind = providers.EventReadyToConfirm
	case hookPaymentFinished:
		kind = providers.EventPaymentFinished
	case hookActionRequired:
		return w.actionRequired(hook)
	case "":
		return nil, &providers.MalformedError{Reason: "bank131: webhook has no type"}
	case hookReadyToCapture, hookPaymentRefunded:
		return nil, nil // they concern acquiring, not payouts
	default:
		return nil, nil // a type added later: nothing a payout waits for
	}
	if hook.Session == nil || hook.Session.ID == "" {
		return nil, &providers.MalformedError{Reason: "bank131: " + hook.Type + " webhook has no session id"}
	}
	if len(hook.Session.Payments) == 0 {
		return nil, &providers.MalformedError{Reason: "bank131: " + hook.Type + " webhook for session " +
			hook.Session.ID + " has no payment"}
	}
	payoutID := payoutIDFrom(hook.Session.Payments[0].Metadata)
	if payoutID == "" {
		return nil, &providers.MalformedError{Reason: "bank131: " + hook.Type + " webhook for session " +
			hook.Session.ID + " names no payout in its metadata"}
	}
	return []providers.Event{{
		Kind:     kind,
		Provider: Name,
		Outcome:  outcome(providers.Ref{PayoutID: payoutID}, *hook.Session),
	}}, nil
}

// actionRequired translates an action_required webhook: the payer must follow the redirect for the transfer to go
// on.
func (w *Webhooks) actionRequired(hook webhook) ([]providers.Event, error) {
	s := hook.Session
	if s == nil || s.ID == "" {
		return nil, &providers.MalformedError{Reason: "bank131: action_required webhook has no session id"}
	}
	var payoutID string
	if len(s.Payments) > 0 {
		payoutID = payoutIDFrom(s.Payments[0].Metadata)
	}
	if payoutID == "" && len(s.AcquiringPayments) > 0 {
		payoutID = payoutIDFrom(s.AcquiringPayments[0].Metadata)
	}
	if payoutID == "" {
		return nil, nil // an acquiring payment's: no payout waits for it
	}
	return []providers.Event{{
		Kind:     EventActionRequired,
		Provider: Name,
		Outcome:  outcome(providers.Ref{PayoutID: payoutID}, *s),
	}}, nil
}

// payoutIDFrom reads our payout ID from a payment's metadata: a JSON string, or an object with "payout_id".
func payoutIDFrom(metadata json.RawMessage) string {
	var id string
	if json.Unmarshal(metadata, &id) == nil {
		return id
	}
	var obj struct {
		PayoutID string `json:"payout_id"`
	}
	if json.Unmarshal(metadata, &obj) == nil {
		return obj.PayoutID
	}
	return ""
}
