package bepaid

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/payoutflow/payoutflow/payout"
)

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

// Created parses created_at; the zero time when it is missing or not RFC 3339.
func (t Transaction) Created() time.Time {
	at, err := time.Parse(time.RFC3339Nano, t.CreatedAt)
	if err != nil {
		return time.Time{}
	}
	return at
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

// APIError is bePaid's error answer. It comes in two shapes, both read: {"message": ..., "errors": {...}} and
// {"response": {"message": ..., "errors": {...}}}. API v3 adds code (e.g. F.1000) and friendly_message.
type APIError struct {
	Code            Text   `json:"code,omitempty"`
	Message         string `json:"message,omitempty"`
	FriendlyMessage string `json:"friendly_message,omitempty"`
	// Errors holds the messages by parameter, nested as the request is ({"recipient_credit_card": {"number":
	// ["is invalid"]}}); errors not tied to a parameter are under "base". Read them with Fields.
	Errors json.RawMessage `json:"errors,omitempty"`
}

// Fields flattens Errors: "recipient_credit_card.number" → ["is invalid"]. Values that are not messages are
// skipped.
func (e APIError) Fields() map[string][]string {
	out := map[string][]string{}
	var v any
	if len(e.Errors) == 0 || json.Unmarshal(e.Errors, &v) != nil {
		return out
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case string:
			out[prefix] = append(out[prefix], v)
		case []any:
			for _, m := range v {
				walk(prefix, m)
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				name := k
				if prefix != "" {
					name = prefix + "." + k
				}
				walk(name, v[k])
			}
		}
	}
	walk("", v)
	return out
}

// empty reports whether e says nothing: then it is not bePaid's answer.
func (e APIError) empty() bool {
	return e.Code == "" && e.Message == "" && e.FriendlyMessage == "" && len(e.Fields()) == 0
}

// text is what the error says: its message, else its field messages.
func (e APIError) text() string {
	if e.Message != "" {
		return e.Message
	}
	if e.FriendlyMessage != "" {
		return e.FriendlyMessage
	}
	fields := e.Fields()
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		parts = append(parts, k+" "+strings.Join(fields[k], ", "))
	}
	return strings.Join(parts, "; ")
}

// mentions reports whether the error's message or its base errors say word (case-insensitive).
func (e APIError) mentions(word string) bool {
	word = strings.ToLower(word)
	if strings.Contains(strings.ToLower(e.Message), word) {
		return true
	}
	for _, m := range e.Fields()["base"] {
		if strings.Contains(strings.ToLower(m), word) {
			return true
		}
	}
	return false
}

// errorEnvelope reads both error shapes.
type errorEnvelope struct {
	APIError
	Response *APIError `json:"response,omitempty"`
}

// parseAPIError reads bePaid's error answer from body; nil when body is not one.
func parseAPIError(body []byte) *APIError {
	var env errorEnvelope
	if json.Unmarshal(body, &env) != nil {
		return nil
	}
	if env.Response != nil && !env.Response.empty() {
		return env.Response
	}
	if !env.APIError.empty() {
		return &env.APIError
	}
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
	// ExpMonth is sent as the two-digit string of seed 003's example ("12"); ExpYear as the integer of four digits
	// that the seed's table and examples give (2022): bePaid refuses a string exp_year.
	ExpMonth Month  `json:"exp_month,omitempty"`
	ExpYear  int    `json:"exp_year,omitempty"`
	Token    string `json:"token,omitempty"`
}

// Month is exp_month. Seed 003 gives it as an integer in its table and as a two-digit string in its example; both
// are read, an integer turned into its two-digit form (1 → "01"), so "1" as a string stays apart from 1. It is
// written as a string.
type Month string

// UnmarshalJSON reads a string as written and an integer as two digits; anything else is kept as written.
func (m *Month) UnmarshalJSON(b []byte) error {
	var t Text
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	*m = Month(t)
	if n, err := strconv.Atoi(string(b)); err == nil && n >= 0 && n < 100 {
		*m = Month(fmt.Sprintf("%02d", n))
	}
	return nil
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

	transactionsEnvelope struct {
		Transactions *[]Transaction `json:"transactions"`
	}
)
