// Package payout holds the domain of a payout: the request a backend sends, its validation, the masked view of a
// destination and the states a payout goes through. It knows no provider and no Temporal.
package payout

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// Destination types accepted in a request.
const (
	DestinationCard = "card"
	DestinationSBP  = "sbp"
	// DestinationPaymentPage leaves the card to the recipient, who enters it on the provider's page:
	// the page's link is in the payout's state for the backend to hand on.
	DestinationPaymentPage = "payment_page"
)

// Request is what a backend asks for: one payout of an amount to a destination through a provider.
type Request struct {
	Provider    string      `json:"provider"`
	Amount      Amount      `json:"amount"`
	Destination Destination `json:"destination"`
	Recipient   Recipient   `json:"recipient"`
	// Sender is who pays, where the provider asks for it.
	Sender      *Sender           `json:"sender,omitempty"`
	Description string            `json:"description,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	// SingleRequest creates and starts the payout at the provider in one call (payout.OptionSingleRequest).
	SingleRequest bool `json:"single_request,omitempty"`
	// SourceAccount is the account the money is paid from, where the provider has several (token payouts,
	// payout.OptionSourceAccount): "" for the default, "nominal" or "settlement".
	SourceAccount string `json:"source_account,omitempty"`
	// Transfer makes the payout a cross-border transfer paid by the sender's card.
	Transfer *Transfer `json:"transfer,omitempty"`
}

// Source accounts accepted in a request.
const (
	SourceNominal    = "nominal"
	SourceSettlement = "settlement"
)

// Amount is a sum in minor units of an ISO 4217 currency (10000 RUB means 100.00 roubles).
type Amount struct {
	Value    int64  `json:"value"`
	Currency string `json:"currency"`
}

// Destination is where the money goes; exactly one of its parts is set, named by Type.
type Destination struct {
	Type string `json:"type"`
	Card *Card  `json:"card,omitempty"`
	SBP  *SBP   `json:"sbp,omitempty"`
}

// Card is a bank card given by its number (PAN) or by a provider's token.
type Card struct {
	Number string `json:"number,omitempty"`
	Token  string `json:"token,omitempty"`
	// Holder, ExpMonth ("01".."12") and ExpYear ("2030") go with a number where the provider asks for
	// them.
	Holder   string `json:"holder,omitempty"`
	ExpMonth string `json:"exp_month,omitempty"`
	ExpYear  string `json:"exp_year,omitempty"`
}

// SBP is a payout by phone number through the Faster Payments System.
type SBP struct {
	// Phone is the recipient's phone number as +7XXXXXXXXXX.
	Phone  string `json:"phone"`
	BankID string `json:"bank_id"`
	// BankBIC is the bank's BIC, where the provider asks for it; looked up from the bank list when empty.
	BankBIC string `json:"bank_bic,omitempty"`
	// WithoutName sends the payout without the recipient's name (OptionSBPWithoutName): the recipient's bank returns the name it
	// knows, which is checked against Recipient.FullName before the payout is confirmed.
	WithoutName bool `json:"without_name,omitempty"`
}

// Recipient is the person who receives the money. Only FullName is required; providers that ask for more take
// the rest. Phone is E.164 (+ and 7 to 15 digits; a provider may ask for less, such as a Russian +7 number).
type Recipient struct {
	FullName   string   `json:"full_name"`
	Email      string   `json:"email,omitempty"`
	Phone      string   `json:"phone,omitempty"`
	IP         string   `json:"ip,omitempty"`
	BirthDate  string   `json:"birth_date,omitempty"` // YYYY-MM-DD
	TaxpayerID string   `json:"taxpayer_id,omitempty"`
	Address    *Address `json:"billing_address,omitempty"`
}

// Sender is the person or company the money comes from, where the provider asks for it.
type Sender struct {
	Email     string    `json:"email,omitempty"`
	IP        string    `json:"ip,omitempty"`
	BirthDate string    `json:"birth_date,omitempty"` // YYYY-MM-DD
	Address   *Address  `json:"billing_address,omitempty"`
	Document  *Document `json:"document,omitempty"`
}

// Address is a billing address.
type Address struct {
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Country   string `json:"country,omitempty"` // ISO 3166-1 alpha-2
	City      string `json:"city,omitempty"`
	State     string `json:"state,omitempty"`
	Zip       string `json:"zip,omitempty"`
	Line      string `json:"address,omitempty"`
	Phone     string `json:"phone,omitempty"`
}

// Document is an identity document, where the provider asks for one.
type Document struct {
	Type       string `json:"type"` // PASSPORT or ID
	Issuer     string `json:"issuer,omitempty"`
	Series     string `json:"series,omitempty"`
	Number     string `json:"number"`
	IssuedAt   string `json:"issued_at,omitempty"`   // YYYY-MM-DD
	ValidUntil string `json:"valid_until,omitempty"` // YYYY-MM-DD
}

// Method names the way the money travels, for display and search: card_number, card_token, payment_page, sbp or
// transfer.
func (r Request) Method() string {
	switch {
	case r.Transfer != nil:
		return MethodTransfer
	case r.Destination.Type == DestinationPaymentPage:
		return MethodPaymentPage
	case r.Destination.Card != nil && r.Destination.Card.Number != "":
		return MethodCardNumber
	case r.Destination.Card != nil:
		return MethodCardToken
	case r.Destination.SBP != nil:
		return MethodSBP
	}
	return ""
}

// Masked returns the destination as it may be shown: never a full card number.
func (d Destination) Masked() MaskedDestination {
	m := MaskedDestination{Type: d.Type}
	if d.Card != nil {
		m.Card = &MaskedCard{}
		if d.Card.Number != "" {
			m.Card.Brand = CardBrand(d.Card.Number)
			m.Card.Last4 = last4(d.Card.Number)
		} else {
			m.Card.Tokenized = true
		}
	}
	if d.SBP != nil {
		m.SBP = &MaskedSBP{PhoneLast4: last4(d.SBP.Phone), BankID: d.SBP.BankID, WithoutName: d.SBP.WithoutName}
	}
	return m
}

// MaskedDestination is a destination safe to show, log and keep in plain text.
type MaskedDestination struct {
	Type string      `json:"type"`
	Card *MaskedCard `json:"card,omitempty"`
	SBP  *MaskedSBP  `json:"sbp,omitempty"`
}

// MaskedCard shows a card by brand and last four digits only.
type MaskedCard struct {
	Brand     string `json:"brand,omitempty"`
	Last4     string `json:"last4,omitempty"`
	Tokenized bool   `json:"tokenized,omitempty"`
}

// MaskedSBP shows an SBP destination without the full phone number.
type MaskedSBP struct {
	PhoneLast4  string `json:"phone_last4"`
	BankID      string `json:"bank_id"`
	WithoutName bool   `json:"without_name,omitempty"`
}

// String reads like "Visa •4242".
func (c MaskedCard) String() string {
	switch {
	case c.Last4 != "" && c.Brand != "":
		return brandTitle(c.Brand) + " •" + c.Last4
	case c.Last4 != "":
		return "card •" + c.Last4
	case c.Tokenized:
		return "tokenized card"
	}
	return "card"
}

func last4(s string) string {
	if len(s) < 4 {
		return s
	}
	return s[len(s)-4:]
}

// Fingerprint is a keyed hash of the request, to tell a repeated request from a different one under the same
// idempotency key. It is keyed so that the hash cannot be used to guess the card number.
func (r Request) Fingerprint(key []byte) string {
	b, _ := json.Marshal(r) // a Request always marshals: plain fields, string maps
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// ID derives the payout ID from the backend's idempotency key: the same key always gives the same ID, and the ID
// reveals nothing of the key, which a backend might have built from sensitive data.
func ID(idempotencyKey string) string {
	sum := sha256.Sum256([]byte("payoutflow/v1\x00" + idempotencyKey))
	return "po_" + hex.EncodeToString(sum[:16])
}

// OwnedID derives the payout ID from an idempotency key of one API key, named owner: the same key of two backends
// names two payouts. ID is how payouts created before keys were scoped are named.
func OwnedID(owner, idempotencyKey string) string {
	sum := sha256.Sum256([]byte("payoutflow/v2\x00" + owner + "\x00" + idempotencyKey))
	return "po_" + hex.EncodeToString(sum[:16])
}

// Status is where a payout stands.
type Status string

// The statuses of a payout. Final ones are succeeded, failed and cancelled.
const (
	StatusCreated          Status = "created"
	StatusSubmitted        Status = "submitted"
	StatusAwaitingApproval Status = "awaiting_approval"
	StatusConfirmed        Status = "confirmed"
	StatusSucceeded        Status = "succeeded"
	StatusFailed           Status = "failed"
	StatusCancelled        Status = "cancelled"
	StatusNeedsAttention   Status = "needs_attention"
)

// Final reports whether nothing more can happen to a payout in this status.
func (s Status) Final() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusCancelled
}

// Cancellable reports whether a payout in this status takes a cancel: before confirmation, and while it needs an
// operator (the cancel is then asked of the provider, which has the last word).
func (s Status) Cancellable() bool {
	return s == StatusCreated || s == StatusSubmitted || s == StatusAwaitingApproval || s == StatusNeedsAttention
}

// Decision is an approval or a refusal, by a person or by policy.
type Decision struct {
	By     string `json:"by"`
	Reason string `json:"reason,omitempty"`
	// Proof is the API's signature of the decision (SignDecision): the approver was authenticated by an API key.
	// Decisions typed into Temporal UI have none.
	Proof string `json:"proof,omitempty"`
}

// SignDecision is the proof that the API authenticated who made a decision on a payout.
func SignDecision(key []byte, payoutID, signal, by string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payoutID + "\x00" + signal + "\x00" + by))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyDecision reports whether proof is SignDecision's for this decision.
func VerifyDecision(key []byte, payoutID, signal, by, proof string) bool {
	want := SignDecision(key, payoutID, signal, by)
	return hmac.Equal([]byte(want), []byte(proof))
}

// Identity is a name as it is compared: lower case, single spaces. "Alice " and "alice" are one person.
func Identity(name string) string {
	return strings.Join(strings.Fields(strings.ToLower(name)), " ")
}

// State is everything known of a payout, safe to show: destinations are masked.
type State struct {
	ID          string            `json:"id"`
	Status      Status            `json:"status"`
	Provider    string            `json:"provider"`
	Method      string            `json:"method"`
	Amount      Amount            `json:"amount"`
	Destination MaskedDestination `json:"destination"`
	Recipient   Recipient         `json:"recipient"`
	Description string            `json:"description,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	// ProviderRefs are the provider's own identifiers of this payout, such as its session and payout ids.
	ProviderRefs map[string]string `json:"provider_refs,omitempty"`
	// CreatedBy is who created the payout: the API key's name.
	CreatedBy string `json:"created_by,omitempty"`
	// ApprovalsRequired is how many different people must approve, unless policy decides alone.
	ApprovalsRequired int `json:"approvals_required,omitempty"`
	// Approvals are the approvals given so far, by people or by policy.
	Approvals []Approval `json:"approvals,omitempty"`
	// Approval is the decision: approved (by everyone required) or cancelled.
	Approval *Approval `json:"approval,omitempty"`
	Failure  *Failure  `json:"failure,omitempty"`
	// PayerAction is what the payer must do for the payout to go on (a transfer's 3-D Secure): hand it on.
	PayerAction *PayerAction `json:"payer_action,omitempty"`
	// NameCheck is the check of the recipient's name as the recipient's bank gave it, for a payout sent without the
	// name (an SBP payout without the name).
	NameCheck *NameCheck `json:"name_check,omitempty"`
	// Attention says why an operator must look at this payout, while its status is needs_attention.
	Attention string `json:"attention,omitempty"`
	// Sent tells that the payout was handed to the provider: money may move from then on, whatever happens here.
	Sent bool `json:"sent,omitempty"`
	// CancelRefused says why a cancel cannot stop the payout now (the provider pays on submit and has it); "" when
	// a cancel is taken as the status allows.
	CancelRefused string `json:"cancel_refused,omitempty"`
	// Contradiction is the provider's word, come after the payout ended, that contradicts how it ended; an
	// operator must reconcile it with the provider.
	Contradiction *Contradiction `json:"contradiction,omitempty"`
	Timeline      []Entry        `json:"timeline"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
	Deadline      *time.Time     `json:"approval_deadline,omitempty"`
}

// Contradiction is a provider's word that contradicts how a payout ended (an operator marked it failed, then the
// provider said it paid, say).
type Contradiction struct {
	At time.Time `json:"at"`
	// Ended is the payout's status when the word came; ProviderSays is the provider's state.
	Ended        Status `json:"ended"`
	ProviderSays string `json:"provider_says"`
	Note         string `json:"note"`
}

// NewState is the state of a payout just created from a request.
func NewState(id string, r Request, now time.Time) State {
	return State{
		ID:          id,
		Status:      StatusCreated,
		Provider:    r.Provider,
		Method:      r.Method(),
		Amount:      r.Amount,
		Destination: r.Destination.Masked(),
		Recipient:   Recipient{FullName: r.Recipient.FullName},
		Description: r.Description,
		Metadata:    r.Metadata,
		Timeline:    []Entry{{At: now, Status: StatusCreated, Note: "payout created"}},
		CreatedAt:   now,
		UpdatedAt:   now,
	}
}

// Approval records who decided on the payout, how and when.
type Approval struct {
	Approved bool      `json:"approved"`
	By       string    `json:"by"`
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at"`
}

// PayerAction is a redirect the payer must follow (and pass 3-D Secure there).
type PayerAction struct {
	RedirectURL string `json:"redirect_url"`
	Method      string `json:"method,omitempty"`
}

// NameCheck compares the recipient's name as the recipient's bank gave it with the recipient requested.
type NameCheck struct {
	BankName string `json:"bank_name"`
	Matches  bool   `json:"matches"`
}

// Entry is one step in a payout's timeline.
type Entry struct {
	At     time.Time `json:"at"`
	Status Status    `json:"status"`
	Note   string    `json:"note,omitempty"`
}
