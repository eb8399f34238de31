package client

import "time"

// Status is a payout's status.
type Status string

// A payout's statuses. succeeded, failed and cancelled are final.
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

// Final reports whether a payout in this status has ended.
func (s Status) Final() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusCancelled
}

// Destination types and payout methods.
const (
	DestinationCard = "card"
	DestinationSBP  = "sbp"
	// DestinationPaymentPage: the recipient enters the card on the provider's page (Mandarin).
	DestinationPaymentPage = "payment_page"

	MethodCardNumber  = "card_number"
	MethodCardToken   = "card_token"
	MethodPaymentPage = "payment_page"
	MethodSBP         = "sbp"
	MethodTransfer    = "transfer"
)

// CreateRequest is the body of POST /v1/payouts.
type CreateRequest struct {
	Provider    string      `json:"provider"`
	Amount      Amount      `json:"amount"`
	Destination Destination `json:"destination"`
	Recipient   Recipient   `json:"recipient"`
	// Sender is who pays, where the provider asks for it.
	Sender      *Sender           `json:"sender,omitempty"`
	Description string            `json:"description,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	// SingleRequest creates and starts the payout at the provider in one call, where the provider offers it.
	SingleRequest bool `json:"single_request,omitempty"`
	// SourceAccount is the account paid from, where the provider has several: "", "nominal" or "settlement".
	SourceAccount string `json:"source_account,omitempty"`
	// Transfer makes the payout a cross-border transfer paid by the sender's card.
	Transfer *Transfer `json:"transfer,omitempty"`
}

// Amount is money in minor units (kopecks for RUB).
type Amount struct {
	Value    int64  `json:"value"`
	Currency string `json:"currency"`
}

// Destination is where the money goes: Card or SBP, as Type says.
type Destination struct {
	Type string `json:"type"`
	Card *Card  `json:"card,omitempty"`
	SBP  *SBP   `json:"sbp,omitempty"`
}

// Card is a bank card given by its number or by a provider's token.
type Card struct {
	Number   string `json:"number,omitempty"`
	Token    string `json:"token,omitempty"`
	Holder   string `json:"holder,omitempty"`
	ExpMonth string `json:"exp_month,omitempty"` // "01".."12"
	ExpYear  string `json:"exp_year,omitempty"`  // "2030"
}

// SBP is a payout by phone number through the Faster Payments System.
type SBP struct {
	Phone       string `json:"phone"` // +7XXXXXXXXXX
	BankID      string `json:"bank_id"`
	BankBIC     string `json:"bank_bic,omitempty"`
	WithoutName bool   `json:"without_name,omitempty"`
}

// Recipient is who receives the money; FullName is required.
type Recipient struct {
	FullName   string   `json:"full_name"`
	Email      string   `json:"email,omitempty"`
	Phone      string   `json:"phone,omitempty"`
	IP         string   `json:"ip,omitempty"`
	BirthDate  string   `json:"birth_date,omitempty"` // YYYY-MM-DD
	TaxpayerID string   `json:"taxpayer_id,omitempty"`
	Address    *Address `json:"billing_address,omitempty"`
}

// Sender is who the money comes from, where the provider asks for it.
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

// Document is an identity document.
type Document struct {
	Type       string `json:"type"` // PASSPORT or ID
	Issuer     string `json:"issuer,omitempty"`
	Series     string `json:"series,omitempty"`
	Number     string `json:"number"`
	IssuedAt   string `json:"issued_at,omitempty"`   // YYYY-MM-DD
	ValidUntil string `json:"valid_until,omitempty"` // YYYY-MM-DD
}

// Transfer makes a payout a cross-border transfer: the sender pays roubles by card after 3-D Secure, and the
// recipient's card is paid the payout's amount.
type Transfer struct {
	Source            Amount            `json:"source"`
	Rate              string            `json:"rate"`          // roubles per unit, four places: "9.2222"
	ProviderRate      string            `json:"provider_rate"` // the recipient's bank's, four places
	ProviderTxID      string            `json:"provider_tx_id"`
	Recurrent         bool              `json:"recurrent,omitempty"`
	ReturnURL         string            `json:"return_url,omitempty"`
	CustomerReference string            `json:"customer_reference,omitempty"`
	PromoProjectID    string            `json:"promo_project_id,omitempty"`
	Sender            TransferSender    `json:"sender"`
	Recipient         TransferRecipient `json:"recipient"`
	// SenderCard is the card the sender pays with; the API hands it to the bank and keeps it nowhere.
	SenderCard *SenderCard `json:"sender_card,omitempty"`
}

// SenderCard is the payer's card. Its String shows the last four digits only.
type SenderCard struct {
	Number   string `json:"number"`
	ExpMonth string `json:"exp_month"`
	ExpYear  string `json:"exp_year"`
	CVV      string `json:"cvv"`
}

// String reads like "card •4242".
func (c SenderCard) String() string {
	n := c.Number
	if len(n) > 4 {
		n = n[len(n)-4:]
	}
	return "card •" + n
}

// GoString is String, so that %#v shows no card number either.
func (c SenderCard) GoString() string { return c.String() }

// TransferSender is who sends a transfer. Countries are ISO 3166-1 alpha-3.
type TransferSender struct {
	FirstName          string            `json:"first_name"`
	LastName           string            `json:"last_name"`
	MiddleName         string            `json:"middle_name,omitempty"`
	CitizenshipCountry string            `json:"citizenship_country"`
	Country            string            `json:"country"`
	State              string            `json:"state,omitempty"`
	City               string            `json:"city"`
	PostalCode         string            `json:"postal_code,omitempty"`
	Street             string            `json:"street"`
	Building           string            `json:"building,omitempty"`
	Flat               string            `json:"flat,omitempty"`
	BirthDate          string            `json:"birth_date"`
	Document           *TransferDocument `json:"document"`
	Phone              string            `json:"phone,omitempty"`
	Email              string            `json:"email,omitempty"`
}

// TransferDocument is the sender's identity document.
type TransferDocument struct {
	Type         string `json:"type"`
	Number       string `json:"number"`
	IssuedAt     string `json:"issued_at,omitempty"`
	DivisionCode string `json:"division_code,omitempty"`
	IssuedBy     string `json:"issued_by,omitempty"`
}

// TransferRecipient is who receives a transfer.
type TransferRecipient struct {
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	MiddleName string `json:"middle_name,omitempty"`
	BirthDate  string `json:"birth_date,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
}

// Payout is a payout as GET /v1/payouts/{id} answers it.
type Payout struct {
	ID          string            `json:"id"`
	Status      Status            `json:"status"`
	Provider    string            `json:"provider"`
	Method      string            `json:"method"`
	Amount      Amount            `json:"amount"`
	Destination MaskedDestination `json:"destination"`
	Recipient   Recipient         `json:"recipient"`
	Description string            `json:"description,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	// ProviderRefs are the provider's own identifiers of the payout.
	ProviderRefs map[string]string `json:"provider_refs,omitempty"`
	// CreatedBy is the name of the API key that created it.
	CreatedBy         string     `json:"created_by,omitempty"`
	ApprovalsRequired int        `json:"approvals_required,omitempty"`
	Approvals         []Approval `json:"approvals,omitempty"`
	// Approval is the decision: approved by everyone required, or cancelled.
	Approval *Approval `json:"approval,omitempty"`
	Failure  *Failure  `json:"failure,omitempty"`
	// PayerAction is what the payer must do for the payout to go on (a transfer's 3-D Secure).
	PayerAction *PayerAction `json:"payer_action,omitempty"`
	NameCheck   *NameCheck   `json:"name_check,omitempty"`
	// Attention says why an operator must look at the payout, while it needs attention.
	Attention string `json:"attention,omitempty"`
	// Sent tells that the payout was handed to the provider: money may move from then on.
	Sent bool `json:"sent,omitempty"`
	// CancelRefused says why a cancel cannot stop the payout now.
	CancelRefused    string         `json:"cancel_refused,omitempty"`
	Contradiction    *Contradiction `json:"contradiction,omitempty"`
	Timeline         []Entry        `json:"timeline"`
	CreatedAt        time.Time      `json:"created_at"`
	UpdatedAt        time.Time      `json:"updated_at"`
	ApprovalDeadline *time.Time     `json:"approval_deadline,omitempty"`

	// Response is how the API answered the call that returned this payout.
	Response *Response `json:"-"`
}

// MaskedDestination shows where the money goes without the card number or the full phone number.
type MaskedDestination struct {
	Type string      `json:"type"`
	Card *MaskedCard `json:"card,omitempty"`
	SBP  *MaskedSBP  `json:"sbp,omitempty"`
}

// MaskedCard shows a card by brand and last four digits.
type MaskedCard struct {
	Brand     string `json:"brand,omitempty"`
	Last4     string `json:"last4,omitempty"`
	Tokenized bool   `json:"tokenized,omitempty"`
}

// MaskedSBP shows an SBP destination by the phone's last four digits.
type MaskedSBP struct {
	PhoneLast4  string `json:"phone_last4"`
	BankID      string `json:"bank_id"`
	WithoutName bool   `json:"without_name,omitempty"`
}

// Approval is one approval, or the decision on the payout.
type Approval struct {
	Approved bool      `json:"approved"`
	By       string    `json:"by"`
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at"`
}

// Failure is why a payout failed or was cancelled. Code is payoutflow's own, the same for every provider (the
// README's "One vocabulary of failures" lists them: declined_by_issuer, insufficient_funds, ...);
// ProviderCode and ProviderMessage are the provider's words, where it gave them.
type Failure struct {
	Code            string `json:"code"`
	Description     string `json:"description,omitempty"`
	ProviderCode    string `json:"provider_code,omitempty"`
	ProviderMessage string `json:"provider_message,omitempty"`
}

// PayerAction is a redirect the payer must follow.
type PayerAction struct {
	RedirectURL string `json:"redirect_url"`
	Method      string `json:"method,omitempty"`
}

// NameCheck compares the recipient's name as their bank gave it with the one requested.
type NameCheck struct {
	BankName string `json:"bank_name"`
	Matches  bool   `json:"matches"`
}

// Contradiction is a provider's word, come after the payout ended, that contradicts how it ended.
type Contradiction struct {
	At           time.Time `json:"at"`
	Ended        Status    `json:"ended"`
	ProviderSays string    `json:"provider_says"`
	Note         string    `json:"note"`
}

// Entry is one step of a payout's timeline.
type Entry struct {
	At     time.Time `json:"at"`
	Status Status    `json:"status"`
	Note   string    `json:"note,omitempty"`
}

// Summary is one payout of a list.
type Summary struct {
	ID               string `json:"id"`
	Status           Status `json:"status"`
	Provider         string `json:"provider"`
	Method           string `json:"method"`
	Amount           Amount `json:"amount"`
	AwaitingApproval bool   `json:"awaiting_approval"`
	NeedsAttention   bool   `json:"needs_attention"`
	Contradiction    bool   `json:"contradiction,omitempty"`
	// Failure is why the payout failed or was cancelled (Payout.Failure); nil for a payout of release 1, which
	// Get tells.
	Failure   *Failure   `json:"failure,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
}

// Page is one page of a list.
type Page struct {
	Payouts []Summary `json:"payouts"`
	// NextPageToken asks for the next page; "" on the last.
	NextPageToken string    `json:"next_page_token,omitempty"`
	Response      *Response `json:"-"`
}

// Decision is the API's answer to a confirm, cancel or resolve: taken, to be acted on by the payout.
type Decision struct {
	ID string `json:"id"`
	// Status is the payout's status when the decision was taken.
	Status Status `json:"status"`
	// Accepted is what was taken: "confirm", "cancel", or the resolution's action.
	Accepted string    `json:"accepted"`
	Response *Response `json:"-"`
}

// Resolution actions.
const (
	ResolveLookUp        = "look_up"
	ResolveMarkFailed    = "mark_failed"
	ResolveMarkSucceeded = "mark_succeeded"
)

// Resolution is an operator's resolution of a payout that needs attention: look it up again at the provider, or
// mark it failed or succeeded (with the provider's reference) after checking with the provider.
type Resolution struct {
	Action    string `json:"action"`
	Reference string `json:"reference,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// Balance is the balance of the account a provider pays from.
type Balance struct {
	Provider string    `json:"provider"`
	Channel  string    `json:"channel,omitempty"`
	Balance  Amount    `json:"balance"`
	Response *Response `json:"-"`
}

// Bank is a bank a provider pays to by SBP.
type Bank struct {
	ID   string `json:"bank_id"`
	Name string `json:"name"`
	BIC  string `json:"bic,omitempty"`
}

// BankList is the SBP banks of a provider.
type BankList struct {
	Provider string    `json:"provider"`
	Banks    []Bank    `json:"banks"`
	Response *Response `json:"-"`
}
