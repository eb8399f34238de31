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

	systemFPS           = "faster_payment_system"
	interactionRedirect = "redirect"

	codeInternalError             = "internal_error"
	codeInvalidRequest            = "invalid_request"
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
	// AcquiringPayments are the payments into the bank in the session: a transfer's charge of the sender's card.
	AcquiringPayments []AcquiringPayment `json:"acquiring_payments,omitempty"`
}

// UnmarshalJSON reads the session in API v1 names (payments, acquiring_payments) or v2 names (payout_list,
// payment_list): seed 001 puts a payout's result in payments/payout_list, and the bank names them by version.
func (s *Session) UnmarshalJSON(b []byte) error {
	type v1 Session // without this method
	var v struct {
		v1
		PayoutList  []Payment          `json:"payout_list"`
		PaymentList []AcquiringPayment `json:"payment_list"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if len(v.Payments) == 0 {
		v.Payments = v.PayoutList
	}
	if len(v.AcquiringPayments) == 0 {
		v.AcquiringPayments = v.PaymentList
	}
	*s = Session(v.v1)
	return nil
}

// Payment is a payout inside a session (API v1 field names; v2's payout_details is read as payment_method).
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

// UnmarshalJSON reads payment_method (API v1) or payout_details (v2).
func (p *Payment) UnmarshalJSON(b []byte) error {
	type v1 Payment // without this method
	var v struct {
		v1
		PayoutDetails *PaymentMethod `json:"payout_details"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.PaymentMethod == nil {
		v.PaymentMethod = v.PayoutDetails
	}
	*p = Payment(v.v1)
	return nil
}

// PaymentMethod is where a payment goes, as the bank shows it: a card is masked, or shown by its token.
type PaymentMethod struct {
	Type        string              `json:"type"`
	Card        *MaskedCard         `json:"card,omitempty"`
	BankAccount *BankAccountDetails `json:"bank_account,omitempty"`
}

// MaskedCard is a card as the bank shows it in responses and webhooks: brand and last four digits, or (a payout by
// token, as in the token payout guide) type tokenized_card and the token.
type MaskedCard struct {
	Type          string         `json:"type,omitempty"`
	Brand         string         `json:"brand,omitempty"`
	Last4         string         `json:"last4,omitempty"`
	BIN           string         `json:"bin,omitempty"`
	CountryISO3   string         `json:"country_iso3,omitempty"`
	TokenizedCard *TokenizedCard `json:"tokenized_card,omitempty"`
}

// TokenizedCard is a card given by the bank's token.
type TokenizedCard struct {
	Token string `json:"token"`
}

// BankAccountDetails is a payout to a bank account; for SBP, system_type faster_payment_system.
type BankAccountDetails struct {
	SystemType          string      `json:"system_type"`
	FasterPaymentSystem *FPSAccount `json:"faster_payment_system,omitempty"`
}

// FPSAccount is an SBP (Faster Payments System) payout's recipient: phone as digits (7XXXXXXXXXX), the bank's SBP
// id and the payout's purpose (at most 140 characters).
type FPSAccount struct {
	Phone       string `json:"phone"`
	BankID      string `json:"bank_id"`
	Description string `json:"description"`
}

// AcquiringPayment is a payment into the bank inside a session (API v1 acquiring_payments): in a transfer, the
// charge of the sender's card.
type AcquiringPayment struct {
	ID                  string               `json:"id"`
	Status              string               `json:"status"`
	CreatedAt           Timestamp            `json:"created_at,omitzero"`
	FinishedAt          Timestamp            `json:"finished_at,omitzero"`
	PaymentDetails      *PaymentMethod       `json:"payment_details,omitempty"`
	AmountDetails       *AmountDetails       `json:"amount_details,omitempty"`
	CustomerInteraction *CustomerInteraction `json:"customer_interaction,omitempty"`
	// RecurrentToken is the token for repeating the payment, given once it succeeded when payment_options.recurrent
	// was asked for.
	RecurrentToken string          `json:"recurrent_token,omitempty"`
	Metadata       json.RawMessage `json:"metadata,omitempty"`
	Error          *APIError       `json:"error,omitempty"`
}

// CustomerInteraction is what the payer must do for the payment to go on (action_required): type redirect, e.g. to
// pass 3-D Secure.
type CustomerInteraction struct {
	Type     string    `json:"type"`
	Redirect *Redirect `json:"redirect,omitempty"`
}

// Redirect is where the payer must go: URL with Method (GET or POST), BaseURL with the query QS and form Params.
type Redirect struct {
	URL     string            `json:"url"`
	BaseURL string            `json:"base_url,omitempty"`
	Method  string            `json:"method,omitempty"`
	QS      map[string]string `json:"qs,omitempty"`
	Params  map[string]string `json:"params,omitempty"`
}

// TokenInfo is what token/info tells of a token: the card's brand and last four digits.
type TokenInfo struct {
	Token       string `json:"token,omitempty"`
	NumberHash  string `json:"number_hash,omitempty"`
	Brand       string `json:"brand"`
	Last4       string `json:"last4"`
	CountryISO3 string `json:"country_iso3,omitempty"`
	Type        string `json:"type"`
}

// SBPBank is a bank that takes SBP payouts (fps/banks): ID is its SBP id, the bank_id of a payout.
type SBPBank struct {
	ID     string `json:"id"`
	Name   string `json:"eng_name"`
	RuName string `json:"ru_name"`
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

// envelope is every API response: {"status":"ok","session":{...}} (token/info: "info", fps/banks: "banks") or
// {"status":"error","error":{...}}.
type envelope struct {
	Status  string     `json:"status"`
	Session *Session   `json:"session,omitempty"`
	Info    *TokenInfo `json:"info,omitempty"`
	Banks   []SBPBank  `json:"banks,omitempty"`
	Error   *APIError  `json:"error,omitempty"`
}

// Request bodies, shared by the client and the sandbox.
type (
	createSessionBody struct {
		Metadata any `json:"metadata,omitempty"`
	}

	sessionIDBody struct {
		SessionID string `json:"session_id"`
	}

	// startPayoutBody is session/start/payout; without session_id, session/init/payout and its variants.
	startPayoutBody struct {
		SessionID          string              `json:"session_id,omitempty"`
		PaymentMethod      *paymentMethodBody  `json:"payment_method,omitempty"`
		ParticipantDetails *participantDetails `json:"participant_details,omitempty"`
		AmountDetails      *AmountDetails      `json:"amount_details,omitempty"`
		Metadata           any                 `json:"metadata,omitempty"`
	}

	paymentMethodBody struct {
		Type        string              `json:"type"`
		Card        *cardBody           `json:"card,omitempty"`
		BankAccount *BankAccountDetails `json:"bank_account,omitempty"`
	}

	cardBody struct {
		Type          string         `json:"type"`
		BankCard      *bankCardBody  `json:"bank_card,omitempty"`
		TokenizedCard *TokenizedCard `json:"tokenized_card,omitempty"`
	}

	bankCardBody struct {
		Number          string `json:"number"`
		ExpirationMonth string `json:"expiration_month,omitempty"`
		ExpirationYear  string `json:"expiration_year,omitempty"`
		SecurityCode    string `json:"security_code,omitempty"`
	}

	// tokenInfoBody is token/info: {"type":"card","card":{"type":"tokenized_card",...}}.
	tokenInfoBody struct {
		Type string    `json:"type"`
		Card *cardBody `json:"card"`
	}

	// multiInitBody is session/multi/init (v1, as in the transfer API's example).
	multiInitBody struct {
		PaymentOptions      *paymentOptionsBody   `json:"payment_options,omitempty"`
		PaymentDetailsMulti []paymentMethodBody   `json:"payment_details_multi"`
		PayoutDetailsMulti  []paymentMethodBody   `json:"payout_details_multi,omitempty"`
		Amounts             *Amounts              `json:"amounts"`
		AmountDetails       *AmountDetails        `json:"amount_details"`
		ParticipantDetails  *TransferParticipants `json:"participant_details"`
		PaymentMetadata     *paymentMetadataBody  `json:"payment_metadata,omitempty"`
		Customer            *customerBody         `json:"customer,omitempty"`
		Metadata            any                   `json:"metadata,omitempty"`
	}

	paymentOptionsBody struct {
		Recurrent bool   `json:"recurrent,omitempty"`
		ReturnURL string `json:"return_url,omitempty"`
	}

	paymentMetadataBody struct {
		ProviderTxID string `json:"provider_tx_id"`
	}

	customerBody struct {
		Reference string `json:"reference"`
	}

	participantDetails struct {
		Recipient *participant `json:"recipient,omitempty"`
	}

	participant struct {
		FullName string `json:"full_name,omitempty"`
	}
)
