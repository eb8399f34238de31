package sandbox

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers/internal/rsasig"
)

// The wire format the sandbox speaks, as bePaid's payout API documents it: paths, headers, statuses, the payout
// request it reads and the transaction it answers with. The sandbox keeps it apart from the client's, so that each
// is held to the document on its own.

// Paths and headers.
const (
	// headerSignature carries the sandbox's signature of notifications and verification requests.
	headerSignature  = "Content-Signature"
	contentTypeJSON  = "application/json"
	transactionsPath = "transactions/"
	trackingIDPath   = "v2/transactions/tracking_id/"
)

// defaultDeclineMessage is the message of a verification decline that gives none.
const defaultDeclineMessage = "Verification declined"

// Transaction statuses of the bePaid API.
const (
	StatusSuccessful = "successful"
	StatusFailed     = "failed"
	StatusIncomplete = "incomplete"
	StatusPending    = "pending"
)

// Transaction is a bePaid transaction as the gateway shows it in answers, notifications and verification requests,
// all of them {"transaction": {...}}. Fields the engine does not read are left out.
type Transaction struct {
	UID               string `json:"uid"`
	Status            string `json:"status"`
	Amount            int64  `json:"amount"`
	Currency          string `json:"currency"`
	Description       string `json:"description,omitempty"`
	Type              string `json:"type,omitempty"`
	PaymentMethodType string `json:"payment_method_type,omitempty"`
	TrackingID        string `json:"tracking_id,omitempty"`
	Message           string `json:"message,omitempty"`
	Test              bool   `json:"test"`
	Language          string `json:"language,omitempty"`
	// CreatedAt, UpdatedAt and PaidAt are kept as sent (e.g. 2021-07-01T13:44:56.936Z): a verification answer
	// copies created_at back. Created parses it.
	CreatedAt           string      `json:"created_at,omitempty"`
	UpdatedAt           string      `json:"updated_at,omitempty"`
	PaidAt              string      `json:"paid_at,omitempty"`
	RecipientCreditCard *CreditCard `json:"recipient_credit_card,omitempty"`
	// CreditCard repeats the recipient's card in the seed's answer.
	CreditCard *CreditCard `json:"credit_card,omitempty"`
	// Payout is the bank's part at the top level, as some beGateway platforms send it; bePaid's own answer has it
	// in AdditionalData.Payout. Read it with PayoutDetails.
	Payout         *PayoutDetails  `json:"payout,omitempty"`
	AdditionalData *AdditionalData `json:"additional_data,omitempty"`
}

// CreditCard is a card as bePaid shows it: masked, never the full number.
type CreditCard struct {
	Holder string `json:"holder,omitempty"`
	// Stamp is bePaid's hash of the card number: the same for the same card.
	Stamp  string `json:"stamp,omitempty"`
	Brand  string `json:"brand,omitempty"`
	Last4  string `json:"last_4,omitempty"`
	First1 string `json:"first_1,omitempty"`
	BIN    string `json:"bin,omitempty"`
	Token  string `json:"token,omitempty"`
}

// PayoutDetails is the bank's account of a payout.
type PayoutDetails struct {
	Status   string `json:"status,omitempty"`
	Message  string `json:"message,omitempty"`
	RefID    Text   `json:"ref_id,omitempty"`
	RRN      Text   `json:"rrn,omitempty"`
	AuthCode Text   `json:"auth_code,omitempty"`
	BankCode Text   `json:"bank_code,omitempty"`
}

// AdditionalData is the transaction's additional_data section, as far as the engine reads it.
type AdditionalData struct {
	Payout *PayoutDetails `json:"payout,omitempty"`
}

// PayoutDetails returns the bank's part of a payout: additional_data.payout, where bePaid's answer has it, else a
// top-level payout section; nil when there is neither.
func (t Transaction) PayoutDetails() *PayoutDetails {
	if t.AdditionalData != nil && t.AdditionalData.Payout != nil {
		return t.AdditionalData.Payout
	}
	return t.Payout
}

// Card returns the recipient's card: recipient_credit_card, else credit_card; nil when there is neither.
func (t Transaction) Card() *CreditCard {
	if t.RecipientCreditCard != nil {
		return t.RecipientCreditCard
	}
	return t.CreditCard
}

// Text is a string that bePaid may send as a JSON string, a number or null (exp_month, bank_code, API v3 codes).
// It is always written as a JSON string.
type Text string

// UnmarshalJSON reads a JSON string, a number (kept as written) or null (empty).
func (t *Text) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = Text(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or a number")
	}
	*t = Text(n)
	return nil
}

// PayoutRequest is the request object of POST /transactions/payouts, sent wrapped as {"request": {...}}. Empty
// fields are left out. Its String method masks the card number.
type PayoutRequest struct {
	// Amount is in minor units of Currency (ISO 4217, upper case).
	Amount      int64  `json:"amount,omitempty"`
	Currency    string `json:"currency,omitempty"`
	Description string `json:"description,omitempty"`
	TrackingID  string `json:"tracking_id,omitempty"`
	// DuplicateCheck: nil leaves bePaid's default, true (the same amount to the same card or token within 30 s is
	// refused).
	DuplicateCheck  *bool  `json:"duplicate_check,omitempty"`
	Language        string `json:"language,omitempty"`
	NotificationURL string `json:"notification_url,omitempty"`
	VerificationURL string `json:"verification_url,omitempty"`
	Test            bool   `json:"test,omitempty"`

	Card                    *RecipientCard  `json:"recipient_credit_card,omitempty"`
	Recipient               *Person         `json:"recipient,omitempty"`
	Sender                  *Person         `json:"sender,omitempty"`
	RecipientBillingAddress *BillingAddress `json:"recipient_billing_address,omitempty"`
	SenderBillingAddress    *BillingAddress `json:"sender_billing_address,omitempty"`
	AdditionalData          *RequestData    `json:"additional_data,omitempty"`
}

// RecipientCard is the card paid to: a number with holder and expiry, or a token from an earlier transaction.
type RecipientCard struct {
	Number string `json:"number,omitempty"`
	Holder string `json:"holder,omitempty"`
	// ExpMonth is kept as it came, for its type is checked (expMonth); ExpYear is an integer of four digits, as
	// seed 003 types it: a string does not decode.
	ExpMonth json.RawMessage `json:"exp_month,omitempty"`
	ExpYear  int             `json:"exp_year,omitempty"`
	Token    string          `json:"token,omitempty"`
}

// expMonth reads exp_month as seed 003 gives it: an integer 1-12 (its table) or a two-digit string "01"-"12" (its
// example). blank is an absent or null one; ok is false for anything else.
func expMonth(raw json.RawMessage) (month int, blank, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, true, false
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil || len(text) != 2 {
			return 0, text == "", false
		}
	}
	month, err := strconv.Atoi(text)
	return month, false, err == nil && month >= 1 && month <= 12 && text[0] != '+' && text[0] != '-'
}

// Person is the recipient or sender section.
type Person struct {
	IP         string `json:"ip,omitempty"`
	Email      string `json:"email,omitempty"`
	DeviceID   string `json:"device_id,omitempty"`
	BirthDate  string `json:"birth_date,omitempty"` // YYYY-MM-DD
	TaxpayerID string `json:"taxpayer_id,omitempty"`
}

// BillingAddress is a recipient's or sender's billing address.
type BillingAddress struct {
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Country   string `json:"country,omitempty"` // ISO 3166-1 alpha-2
	City      string `json:"city,omitempty"`
	State     string `json:"state,omitempty"`
	Zip       string `json:"zip,omitempty"`
	Address   string `json:"address,omitempty"`
	Phone     string `json:"phone,omitempty"`
}

// RequestData is the request's additional_data section.
type RequestData struct {
	Document *Document `json:"document,omitempty"`
}

// Document is the sender's identity document.
type Document struct {
	Type       string `json:"type,omitempty"` // PASSPORT or ID
	Issuer     string `json:"issuer,omitempty"`
	Series     string `json:"series,omitempty"`
	Number     string `json:"number,omitempty"`
	IssuedAt   string `json:"issued_at,omitempty"`   // YYYY-MM-DD
	ValidUntil string `json:"valid_until,omitempty"` // YYYY-MM-DD
}

// String shows the request without its card number.
func (p PayoutRequest) String() string {
	return fmt.Sprintf("bepaid.PayoutRequest{tracking_id %s, %d %s, card %s}", p.TrackingID, p.Amount, p.Currency,
		p.Card)
}

// GoString masks the card number under %#v too.
func (p PayoutRequest) GoString() string { return p.String() }

// String shows the card masked: brand and last four digits, or that it is a token.
func (c *RecipientCard) String() string {
	switch {
	case c == nil:
		return "none"
	case c.Number != "":
		return payout.Destination{Card: &payout.Card{Number: c.Number}}.Masked().Card.String()
	case c.Token != "":
		return "token"
	}
	return "empty"
}

// GoString masks the card number under %#v too.
func (c *RecipientCard) GoString() string { return "bepaid.RecipientCard{" + c.String() + "}" }

// Wire envelopes.
type (
	payoutEnvelope struct {
		Request *PayoutRequest `json:"request"`
	}

	transactionEnvelope struct {
		Transaction *Transaction `json:"transaction"`
	}
)

// Sign returns the Content-Signature value for body: the standard base64 of its RSA PKCS#1 v1.5 SHA-256
// signature, as bePaid signs notifications and verification requests.
func Sign(key *rsa.PrivateKey, body []byte) (string, error) {
	sig, err := rsasig.Sign(key, body)
	if err != nil {
		return "", fmt.Errorf("bepaid sandbox: %w", err)
	}
	return sig, nil
}
