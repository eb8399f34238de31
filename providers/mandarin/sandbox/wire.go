package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/payoutflow/payoutflow/payout"
)

// The wire format the sandbox speaks, as Mandarin's API documents it: headers, actions, statuses and states, the
// transaction request it reads, the answers it gives, the X-Auth it checks and the sign of its callbacks. The
// sandbox keeps it apart from the client's, so that each is held to the document on its own.

// Headers and callback fields.
const (
	headerXAuth = "X-Auth"
	// signField is the callback field that carries the sign.
	signField = "sign"
	// AckBody is the body Mandarin expects in the HTTP 200 answer to a callback.
	AckBody = "OK"
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

// Bank is one bank of the SBP bank list.
type Bank struct {
	BankID   string `json:"bankId"`
	BankName string `json:"bankName"`
	BankBIC  string `json:"bankBic"`
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

// hashLen is the length of a SHA-256 hex digest.
const hashLen = 64

// xAuth is the X-Auth header of a request: merchantId-sha256hex(merchantId-requestId-secret)-requestId.
func xAuth(merchantID, requestID, secret string) string {
	sum := sha256.Sum256([]byte(merchantID + "-" + requestID + "-" + secret))
	return merchantID + "-" + hex.EncodeToString(sum[:]) + "-" + requestID
}

// CheckXAuth reports whether header is a valid X-Auth of merchantID with secret, and returns its request id. The
// merchant id is the text up to the first "-", then come 64 hex digits, "-" and the request id (which may hold
// "-", "_" or "."). The hash is compared in constant time.
func CheckXAuth(header, merchantID, secret string) (string, bool) {
	if merchantID == "" || secret == "" {
		return "", false
	}
	mid, rest, ok := strings.Cut(header, "-")
	if !ok || mid != merchantID || len(rest) < hashLen+2 || rest[hashLen] != '-' {
		return "", false
	}
	hash, requestID := rest[:hashLen], rest[hashLen+1:]
	want := xAuth(merchantID, requestID, secret)
	got := mid + "-" + strings.ToLower(hash) + "-" + requestID
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return "", false
	}
	return requestID, true
}

// Sign is the sign of a callback (or of any form Mandarin signs): the values of all fields but "sign", sorted by
// key in byte order, joined with "-", then "-" and the secret; SHA-256, lower-case hex. A field given more than once
// counts with its first value.
func Sign(fields url.Values, secret string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != signField {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(fields.Get(k))
		b.WriteString("-")
	}
	b.WriteString(secret)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// FormatPrice writes an amount in minor units (kopecks) as Mandarin's price: a decimal string in major units with
// two decimals, by integer arithmetic only: 10000 is "100.00", 5 is "0.05".
func FormatPrice(minor int64) string {
	sign := ""
	u := uint64(minor)
	if minor < 0 {
		sign, u = "-", uint64(-(minor+1))+1 // no overflow at math.MinInt64
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// ParsePrice reads a decimal price in major units ("12.34", "12.3", "12", "-1.50") into minor units, exactly: more
// than two decimals, or anything that is not a decimal number, is an error.
func ParsePrice(s string) (int64, error) {
	bad := fmt.Errorf("price %q is not a decimal amount with at most two decimals", s)
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	whole, frac, hasDot := strings.Cut(body, ".")
	if whole == "" || (hasDot && (frac == "" || len(frac) > 2)) || !digits(whole) || !digits(frac) {
		return 0, bad
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<63-1-99)/100 {
		return 0, bad
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	v := w*100 + f
	if neg {
		v = -v
	}
	return v, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
