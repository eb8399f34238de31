package sandbox

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/payoutflow/payoutflow/providers/internal/rsasig"
)

// The wire format the sandbox speaks, as Bank 131's API v1 documents it: methods, headers, statuses, the answer
// envelope, the request bodies it reads and the session it shows. The sandbox keeps it apart from the client's, so
// that each is held to the document on its own.

// API methods, relative to "/api/v1/".
const (
	opCreate      = "session/create"
	opStart       = "session/start/payout"
	opInit        = "session/init/payout"
	opInitNominal = "session/init/payout/nominal"
	opInitRKO     = "session/init/payout/rko"
	opMultiInit   = "session/multi/init"
	opConfirm     = "session/confirm"
	opCancel      = "session/cancel"
	opStatus      = "session/status"
	opTokenInfo   = "token/info"
	opFPSBanks    = "fps/banks" // GET
)

// Request headers.
const (
	headerProject        = "X-PARTNER-PROJECT"
	headerSign           = "X-PARTNER-SIGN"
	headerIdempotencyKey = "X-PARTNER-IDEMPOTENCY-KEY"
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

	codeIdempotencyKeyExists      = CodeIdempotencyKeyExists
	codeSessionCancelledByPartner = CodeSessionCancelledByPartner

	hookReadyToConfirm  = "ready_to_confirm"
	hookPaymentFinished = "payment_finished"
	hookActionRequired  = "action_required"
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

// Request bodies, as the sandbox reads them.
type (
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

// webhook is a webhook's body: its type and the session as it is now.
type webhook struct {
	Type    string   `json:"type"`
	Session *Session `json:"session"`
}

// Amounts are a transfer's amounts and rates (amounts).
type Amounts struct {
	// Source is what the sender pays; its currency is always rub.
	Source AmountDetails `json:"source"`
	// Rate is the rate of this transfer; ProviderRate the recipient bank's.
	Rate         ExchangeRate `json:"rate"`
	ProviderRate ExchangeRate `json:"provider_rate"`
}

// ExchangeRate is a rate from one currency to another: RUB per unit of the payout currency.
type ExchangeRate struct {
	Rate         Rate   `json:"rate"`
	FromCurrency string `json:"from_currency"`
	ToCurrency   string `json:"to_currency"`
}

// Rate is an exchange rate as the bank takes it: a decimal with exactly four places ("9.2222"), kept as its text
// so that it never passes through a float. It is sent as a JSON string, as in the transfer API's example; a JSON
// number is read as well.
type Rate string

var rateFormat = regexp.MustCompile(`^[0-9]{1,9}\.[0-9]{4}$`)

// Valid reports whether the rate is a positive decimal with exactly four places.
func (r Rate) Valid() bool {
	return rateFormat.MatchString(string(r)) && strings.Trim(string(r), "0.") != ""
}

// MarshalJSON writes the rate's text as a JSON string.
func (r Rate) MarshalJSON() ([]byte, error) { return json.Marshal(string(r)) }

// UnmarshalJSON reads a JSON string or a JSON number, keeping its text as it is.
func (r *Rate) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("rate: %w", err)
		}
		*r = Rate(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("rate: want a decimal as a string or a number")
	}
	*r = Rate(n.String())
	return nil
}

// TransferParticipants are the sender and the recipient of a transfer (participant_details).
type TransferParticipants struct {
	Sender    TransferSender    `json:"sender"`
	Recipient TransferRecipient `json:"recipient"`
}

// TransferSender is the person who sends a transfer, with the fields of the transfer API's example.
type TransferSender struct {
	CitizenshipCountryISO3 string            `json:"citizenship_country_iso3,omitempty"`
	FirstName              string            `json:"first_name"`
	LastName               string            `json:"last_name"`
	MiddleName             string            `json:"middle_name,omitempty"`
	CountryISO3            string            `json:"country_iso3,omitempty"`
	State                  string            `json:"state,omitempty"`
	City                   string            `json:"city,omitempty"`
	PostalCode             string            `json:"postal_code,omitempty"`
	Street                 string            `json:"street,omitempty"`
	Building               string            `json:"building,omitempty"`
	Flat                   string            `json:"flat,omitempty"`
	DateOfBirth            string            `json:"date_of_birth,omitempty"` // YYYY-MM-DD
	IdentityDocument       *IdentityDocument `json:"identity_document,omitempty"`
	SourceOfMoney          string            `json:"source_of_money,omitempty"`
	Description            string            `json:"description,omitempty"`
	Contacts               *Contacts         `json:"contacts,omitempty"`
}

// TransferRecipient is the person who receives a transfer.
type TransferRecipient struct {
	FirstName   string    `json:"first_name"`
	LastName    string    `json:"last_name"`
	MiddleName  string    `json:"middle_name,omitempty"`
	DateOfBirth string    `json:"date_of_birth,omitempty"` // YYYY-MM-DD
	Contacts    *Contacts `json:"contacts,omitempty"`
}

// IdentityDocument is the sender's identity document.
type IdentityDocument struct {
	IDType       string `json:"id_type"`
	IDNumber     string `json:"id_number"`
	IssueDate    string `json:"issue_date,omitempty"` // YYYY-MM-DD
	DivisionCode string `json:"division_code,omitempty"`
	IssuedBy     string `json:"issued_by,omitempty"`
}

// Contacts are a participant's phone and email.
type Contacts struct {
	Phone *ContactPhone `json:"phone,omitempty"`
	Email string        `json:"email,omitempty"`
}

// ContactPhone is a phone number, whole (FullNumber, "+79376151530") and in parts.
type ContactPhone struct {
	FullNumber   string `json:"full_number"`
	CountryISO3  string `json:"country_iso3,omitempty"`
	OperatorCode string `json:"operator_code,omitempty"`
	ShortNumber  string `json:"short_number,omitempty"`
}

// Sign returns the X-PARTNER-SIGN value for body: the standard base64 of its RSA PKCS#1 v1.5 SHA-256 signature.
func Sign(key *rsa.PrivateKey, body []byte) (string, error) {
	sig, err := rsasig.Sign(key, body)
	return sig, named(err)
}

// Verify checks an X-PARTNER-SIGN value against the exact bytes of body.
func Verify(pub *rsa.PublicKey, body []byte, sig string) error {
	return named(rsasig.Verify(pub, body, sig))
}

// named puts the sandbox's name before an error of rsasig.
func named(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("bank131 sandbox: %w", err)
}

// lastN is the last n characters of s, or s when it is shorter.
func lastN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
