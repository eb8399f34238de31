package mandarin

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/payoutflow/payoutflow/payout"
)

// Actions, statuses and states as Mandarin writes them.
const (
	ActionPayout = "payout"

	// Callback statuses. The SBP documents write "fail"; both are failures.
	StatusSuccess = "success"
	StatusFailed  = "failed"
	StatusFail    = "fail"
	// StatusPending is the SBP status while the recipient's bank checks the recipient.
	StatusPending = "pending"

	// Operation states (GET /api/operations/{id}). Only success means the money moved.
	StateSuccess          = "success"
	StateFailed           = "failed"
	StatePayoutOnly       = "payout-only"
	StatePendingExecution = "pendingExecution"
	StateNone             = "none"
	StateUnknown          = "unknown"
)

// Balance channels (GET /api/account/channels/{name}/balance).
const (
	ChannelOpenbank = "openbank_direct"
	ChannelPSB      = "psb_direct"
)

// TransactionRequest is the body of POST /api/transactions.
type TransactionRequest struct {
	Payment      Payment           `json:"payment"`
	CustomerInfo *CustomerInfo     `json:"customerInfo,omitempty"`
	Target       *Target           `json:"target,omitempty"`
	CustomValues []CustomValue     `json:"customValues,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	URLs         *URLs             `json:"urls,omitempty"`
}

// Payment is the payment block: our order id, the action and the price in major units ("100.00").
type Payment struct {
	OrderID string `json:"orderId"`
	Action  string `json:"action"`
	Price   string `json:"price"`
}

// CustomerInfo is the customer block; the names go with an SBP payout with the recipient's name.
type CustomerInfo struct {
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	FirstName  string `json:"firstName,omitempty"`
	LastName   string `json:"lastName,omitempty"`
	MiddleName string `json:"middleName,omitempty"`
}

// Target is where the money goes: a card token (Card), a card number (KnownCardNumber) or SBP; none for the
// payment page, where the recipient enters the card.
type Target struct {
	Card            string     `json:"card,omitempty"`
	KnownCardNumber string     `json:"knownCardNumber,omitempty"`
	SBP             *SBPTarget `json:"sbp,omitempty"`
}

// String shows the target without the card number: its brand and last four digits.
func (t Target) String() string {
	switch {
	case t.KnownCardNumber != "":
		return "card " + payout.Destination{Card: &payout.Card{Number: t.KnownCardNumber}}.Masked().Card.String()
	case t.Card != "":
		return "card token"
	case t.SBP != nil:
		return "sbp bank " + t.SBP.BankID
	}
	return "payment page"
}

// GoString masks the card number under %#v too.
func (t Target) GoString() string { return t.String() }

// SBPTarget is the recipient's bank, from the bank list.
type SBPTarget struct {
	BankID  string `json:"bankId"`
	BankBIC string `json:"bankBic"`
}

// CustomValue is a value saved with the transaction and shown.
type CustomValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// URLs are the transaction's callback and return URLs.
type URLs struct {
	Callback string `json:"callback,omitempty"`
	Return   string `json:"return,omitempty"`
}

// Transaction is the answer to a created transaction: its id (the operation id), and for the payment page the
// link the recipient opens.
type Transaction struct {
	ID            string `json:"id"`
	UserWebLink   string `json:"userWebLink,omitempty"`
	JSOperationID string `json:"jsOperationId,omitempty"`
}

// APIError is Mandarin's error answer: {"error": "...", "errorCode": -2}.
type APIError struct {
	Message   string `json:"error"`
	ErrorCode *int   `json:"errorCode,omitempty"`
}

// errorCodeDuplicate is the errorCode of "Duplicate order id".
const errorCodeDuplicate = -2

func parseAPIError(raw []byte) *APIError {
	var e APIError
	if json.Unmarshal(raw, &e) != nil || e.Message == "" {
		return nil
	}
	return &e
}

func (e *APIError) duplicate() bool {
	return (e.ErrorCode != nil && *e.ErrorCode == errorCodeDuplicate) ||
		strings.Contains(strings.ToLower(e.Message), "duplicate order id")
}

// Bank is one bank of the SBP bank list.
type Bank struct {
	BankID   string `json:"bankId"`
	BankName string `json:"bankName"`
	BankBIC  string `json:"bankBic"`
}

type banksEnvelope struct {
	Banks *[]Bank `json:"banks"`
}

// SBPStatus is the answer of POST /api/sbp/{id}/status: the status and, once the bank has checked the recipient,
// the recipient's name as the bank has it (fio).
type SBPStatus struct {
	Status string `json:"status"`
	FIO    string `json:"fio,omitempty"`
}

// Operation is the answer of GET /api/operations/{id}. UserWebLink is not in the documented example; the answer
// "can contain a wider set of parameters" and the sandbox adds it for payment-page payouts.
type Operation struct {
	OperationType string         `json:"operationType"`
	State         string         `json:"state"`
	Card          *OperationCard `json:"card,omitempty"`
	UserWebLink   string         `json:"userWebLink,omitempty"`
}

// OperationCard is the card of an operation, masked ("519261XXXXXX3242").
type OperationCard struct {
	CardNumber  string `json:"cardNumber,omitempty"`
	CardHolder  string `json:"cardHolder,omitempty"`
	ExpireDate  string `json:"expireDate,omitempty"`
	CardID      string `json:"cardId,omitempty"`
	Country     string `json:"country,omitempty"`
	ProductName string `json:"productName,omitempty"`
	ProductCode string `json:"productCode,omitempty"`
	Brand       string `json:"brand,omitempty"`
	Bank        string `json:"bank,omitempty"`
	CardType    string `json:"cardType,omitempty"`
}

// balanceWire is the answer of the balance call. Its shape is not documented: this package reads {"balance":
// "1234.56", "currency": "RUB"}, the balance a decimal string or number in major units.
type balanceWire struct {
	Channel  string          `json:"channel,omitempty"`
	Balance  json.RawMessage `json:"balance"`
	Currency string          `json:"currency,omitempty"`
}

// decimalText reads a JSON string or number as its text.
func decimalText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
