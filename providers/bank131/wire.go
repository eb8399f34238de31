package bank131

import (
	"encoding/json"
	"fmt"
	"time"
)

// Session and payment statuses, next actions, error codes and webhook types of the Bank 131 API.
const (
	sessionCreated    = "created"
	sessionInProgress = "in_progress"
	sessionAccepted   = "accepted"
	sessionCancelled  = "cancelled"
	// sessionError is not final: the bank asks to wait for a final status.
	sessionError = "error"

	paymentInProgress = "in_progress"
	paymentPending    = "pending"
	paymentSucceeded  = "succeeded"
	paymentFailed     = "failed"

	nextActionConfirm = "confirm"

	codeInternalError             = "internal_error"
	codeIdempotencyKeyExists      = "idempotency_key_already_exists"
	codeSessionCancelledByPartner = "session_cancelled_by_partner"

	hookReadyToConfirm  = "ready_to_confirm"
	hookPaymentFinished = "payment_finished"
	hookActionRequired  = "action_required"
	hookReadyToCapture  = "ready_to_capture"
	hookPaymentRefunded = "payment_refunded"
)

// Session is a Bank 131 payment session (API v1 field names).
type Session struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	CreatedAt  Timestamp `json:"created_at,omitzero"`
	UpdatedAt  Timestamp `json:"updated_at,omitzero"`
	FinishedAt Timestamp `json:"finished_at,omitzero"`
	NextAction string    `json:"next_action,omitempty"`
	Error      *APIError `json:"error,omitempty"`
	Payments   []Payment `json:"payments,omitempty"`
}

// Payment is a payout inside a session (API v1 field names).
type Payment struct {
	ID            string          `json:"id"`
	Status        string          `json:"status"`
	CreatedAt     Timestamp       `json:"created_at,omitzero"`
	FinishedAt    Timestamp       `json:"finished_at,omitzero"`
	PaymentMethod *PaymentMethod  `json:"payment_method,omitempty"`
	AmountDetails *AmountDetails  `json:"amount_details,omitempty"`
	Metadata      json.RawMessage `json:"metadata,omitempty"`
	Error         *APIError       `json:"error,omitempty"`
}

// PaymentMethod is where a payment goes, as the bank shows it: a card is masked.
type PaymentMethod struct {
	Type string      `json:"type"`
	Card *MaskedCard `json:"card,omitempty"`
}

// MaskedCard is a card as the bank shows it in responses and webhooks.
type MaskedCard struct {
	Brand string `json:"brand,omitempty"`
	Last4 string `json:"last4,omitempty"`
	BIN   string `json:"bin,omitempty"`
}

// AmountDetails is an amount in minor units with a lowercase currency code.
type AmountDetails struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// APIError is the bank's error object, in an error response or inside a session or payment.
type APIError struct {
	Code        string `json:"code"`
	Description string `json:"description,omitempty"`
}

// Timestamp is a time in the bank's format: RFC 3339 in UTC with microseconds, e.g. 2020-06-08T11:10:03.618104Z.
type Timestamp struct{ time.Time }

const timestampLayout = "2006-01-02T15:04:05.000000Z07:00"

// MarshalJSON writes the time in UTC with microseconds.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format(timestampLayout) + `"`), nil
}

// UnmarshalJSON reads an RFC 3339 time (any fraction), a time without a zone (taken as UTC), or null.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Timestamp{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if s == "" {
		*t = Timestamp{}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return fmt.Errorf("timestamp: cannot parse %q", s)
}

// envelope is every API response: {"status":"ok","session":{...}} or {"status":"error","error":{...}}.
type envelope struct {
	Status  string    `json:"status"`
	Session *Session  `json:"session,omitempty"`
	Error   *APIError `json:"error,omitempty"`
}

// Request bodies, shared by the client and the sandbox.
type (
	createSessionBody struct {
		Metadata any `json:"metadata,omitempty"`
	}

	sessionIDBody struct {
		SessionID string `json:"session_id"`
	}

	startPayoutBody struct {
		SessionID          string              `json:"session_id"`
		PaymentMethod      *paymentMethodBody  `json:"payment_method,omitempty"`
		ParticipantDetails *participantDetails `json:"participant_details,omitempty"`
		AmountDetails      *AmountDetails      `json:"amount_details,omitempty"`
		Metadata           any                 `json:"metadata,omitempty"`
	}

	paymentMethodBody struct {
		Type string    `json:"type"`
		Card *cardBody `json:"card,omitempty"`
	}

	cardBody struct {
		Type     string        `json:"type"`
		BankCard *bankCardBody `json:"bank_card,omitempty"`
	}

	bankCardBody struct {
		Number string `json:"number"`
	}

	participantDetails struct {
		Recipient *participant `json:"recipient,omitempty"`
	}

	participant struct {
		FullName string `json:"full_name,omitempty"`
	}
)
