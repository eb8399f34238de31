package payout

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// FieldError says which field of a request is wrong and how, with a stable code for machines.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// NewFieldError returns the error of a wrong field, its message formatted from format and args.
func NewFieldError(field, code, format string, args ...any) *FieldError {
	return fieldErr(field, code, format, args...)
}

func fieldErr(field, code, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Limits of free-text fields.
const (
	MaxDescription   = 255
	MaxFullName      = 255
	MaxMetadataKeys  = 20
	MaxMetadataKey   = 40
	MaxMetadataValue = 500
	MaxCardToken     = 255
)

// currencies are the ISO 4217 codes the engine accepts, with their minor-unit exponent.
var currencies = map[string]int{
	"RUB": 2, "USD": 2, "EUR": 2, "BYN": 2, "KZT": 2, "UZS": 2, "AMD": 2, "GEL": 2, "CNY": 2, "GBP": 2, "TRY": 2,
	"AED": 2, "KGS": 2, "TJS": 2, "AZN": 2,
}

// KnownCurrency reports whether code is an ISO 4217 currency the engine accepts.
func KnownCurrency(code string) bool { _, ok := currencies[code]; return ok }

// Methods a request pays by (Request.Method).
const (
	MethodCardNumber  = "card_number"
	MethodCardToken   = "card_token"
	MethodSBP         = "sbp"
	MethodPaymentPage = "payment_page"
	MethodTransfer    = "transfer"
)

// Options of a request that only some providers take, by the field that asks for them.
const (
	OptionSingleRequest  = "single_request"
	OptionSourceAccount  = "source_account"
	OptionSBPWithoutName = "destination.sbp.without_name"
)

// Options lists the options (Option*) the request asks for.
func (r Request) Options() []string {
	var out []string
	if r.SingleRequest {
		out = append(out, OptionSingleRequest)
	}
	if r.SourceAccount != "" {
		out = append(out, OptionSourceAccount)
	}
	if s := r.Destination.SBP; s != nil && s.WithoutName {
		out = append(out, OptionSBPWithoutName)
	}
	return out
}

// ProviderRules are what the request's provider takes beyond the common fields; the registry of providers gives
// them, as this package knows no provider.
type ProviderRules interface {
	// Methods lists the methods (Method*) the provider pays by.
	Methods() []string
	// Check checks what the provider asks beyond the common fields; its error is a *FieldError.
	Check(Request) error
}

// Validate checks a request against the common rules and its provider's (nil when the provider is not known); the
// error is a *FieldError naming the first wrong field.
func (r Request) Validate(p ProviderRules) error {
	switch {
	case r.Provider == "":
		return fieldErr("provider", "required", "provider is required")
	case p == nil:
		return fieldErr("provider", "unknown_provider", "provider %q is not configured", r.Provider)
	}
	if err := r.Amount.validate(); err != nil {
		return err
	}
	if err := r.Destination.validate(); err != nil {
		return err
	}
	if !slices.Contains(p.Methods(), r.Method()) {
		return fieldErr("destination.type", "method_not_supported",
			"provider %s does not support %s payouts yet", r.Provider, r.Method())
	}
	if r.Transfer != nil {
		if err := r.validateTransfer(); err != nil {
			return err
		}
	}
	if err := p.Check(r); err != nil {
		return err
	}
	if err := r.Recipient.validate(); err != nil {
		return err
	}
	if r.Sender != nil {
		if err := r.Sender.validate(); err != nil {
			return err
		}
	}
	name := strings.TrimSpace(r.Recipient.FullName)
	switch {
	case name == "":
		return fieldErr("recipient.full_name", "required", "recipient full name is required")
	case utf8.RuneCountInString(name) > MaxFullName:
		return fieldErr("recipient.full_name", "too_long", "recipient full name is longer than %d characters", MaxFullName)
	case LooksLikeCardNumber(name):
		return fieldErr("recipient.full_name", "card_number_not_allowed", "recipient full name must not carry a card number")
	}
	if err := checkName("recipient.full_name", "recipient full name", r.Recipient.FullName); err != nil {
		return err
	}
	if c := r.Destination.Card; c != nil {
		if err := checkName("destination.card.holder", "card holder", c.Holder); err != nil {
			return err
		}
	}
	if utf8.RuneCountInString(r.Description) > MaxDescription {
		return fieldErr("description", "too_long", "description is longer than %d characters", MaxDescription)
	}
	if len(r.Metadata) > MaxMetadataKeys {
		return fieldErr("metadata", "too_many_keys", "metadata has more than %d keys", MaxMetadataKeys)
	}
	for k, v := range r.Metadata {
		if k == "" || len(k) > MaxMetadataKey {
			return fieldErr("metadata", "invalid_key", "metadata keys must be 1 to %d bytes long", MaxMetadataKey)
		}
		if LooksLikeCardNumber(k) {
			return fieldErr("metadata", "card_number_not_allowed", "metadata keys must not carry a card number")
		}
		if len(v) > MaxMetadataValue {
			return fieldErr("metadata."+k, "too_long", "metadata value is longer than %d bytes", MaxMetadataValue)
		}
		if LooksLikeCardNumber(v) {
			return fieldErr("metadata."+k, "card_number_not_allowed", "metadata must not carry a card number")
		}
	}
	if LooksLikeCardNumber(r.Description) {
		return fieldErr("description", "card_number_not_allowed", "description must not carry a card number")
	}
	return nil
}

func (a Amount) validate() error {
	if a.Value <= 0 {
		return fieldErr("amount.value", "must_be_positive", "amount must be a positive number of minor units")
	}
	switch {
	case a.Currency == "":
		return fieldErr("amount.currency", "required", "currency is required")
	case !KnownCurrency(a.Currency):
		return fieldErr("amount.currency", "unknown_currency", "currency %q is not a supported ISO 4217 code (use upper case, e.g. RUB)", a.Currency)
	}
	return nil
}

func (d Destination) validate() error {
	switch d.Type {
	case "":
		return fieldErr("destination.type", "required", "destination type is required")
	case DestinationCard:
		if d.SBP != nil {
			return fieldErr("destination.sbp", "unexpected", "a card destination takes no sbp object")
		}
		return d.Card.validate()
	case DestinationSBP:
		if d.Card != nil {
			return fieldErr("destination.card", "unexpected", "an sbp destination takes no card object")
		}
		return d.SBP.validate()
	case DestinationPaymentPage:
		if d.Card != nil || d.SBP != nil {
			return fieldErr("destination", "unexpected", "a payment_page destination takes no card or sbp object: the recipient enters the card")
		}
		return nil
	default:
		return fieldErr("destination.type", "unknown_destination_type", "destination type %q is not one of card, sbp, payment_page", d.Type)
	}
}

func (s *SBP) validate() error {
	switch {
	case s == nil:
		return fieldErr("destination.sbp", "required", "sbp destination needs an sbp object with phone and bank_id")
	case s.Phone == "":
		return fieldErr("destination.sbp.phone", "required", "the recipient's phone is required, as +7XXXXXXXXXX")
	case !ValidPhone(s.Phone):
		return fieldErr("destination.sbp.phone", "invalid_phone", "phone must be +7 followed by 10 digits, as +79001234567")
	case s.BankID == "":
		return fieldErr("destination.sbp.bank_id", "required", "bank_id is required: take it from GET /v1/sbp/banks")
	case len(s.BankID) > 32 || !allDigits(s.BankID):
		return fieldErr("destination.sbp.bank_id", "invalid_bank_id", "bank_id must be the bank's SBP id, up to 32 digits (from GET /v1/sbp/banks)")
	case s.BankBIC != "" && (len(s.BankBIC) != 9 || !allDigits(s.BankBIC)):
		return fieldErr("destination.sbp.bank_bic", "invalid_bank_bic", "bank_bic must be 9 digits")
	}
	return nil
}

// ValidPhone reports whether phone is a Russian number as SBP takes it: +7 followed by 10 digits.
func ValidPhone(phone string) bool {
	return len(phone) == 12 && strings.HasPrefix(phone, "+7") && allDigits(phone[2:])
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func (c *Card) validate() error {
	switch {
	case c == nil:
		return fieldErr("destination.card", "required", "card destination needs a card object with number or token")
	case c.Number != "" && c.Token != "":
		return fieldErr("destination.card", "ambiguous", "give either card number or card token, not both")
	case c.Number == "" && c.Token == "":
		return fieldErr("destination.card.number", "required", "card number or token is required")
	case c.Token != "":
		switch {
		case len(c.Token) > MaxCardToken:
			return fieldErr("destination.card.token", "too_long", "card token is longer than %d characters", MaxCardToken)
		case strings.Trim(c.Token, "0123456789 -.\u00a0") == "" && LooksLikeCardNumber(c.Token):
			return fieldErr("destination.card.token", "card_number_not_allowed",
				"a card number is not a token: send it as destination.card.number")
		}
		return nil
	}
	if err := CheckCardNumber(c.Number); err != nil {
		return fieldErr("destination.card.number", err.Error(), "%s", cardErrMessages[err.Error()])
	}
	return nil
}

var cardErrMessages = map[string]string{
	"not_digits":     "card number must be 13 to 19 digits, with no spaces or dashes",
	"invalid_length": "card number must be 13 to 19 digits long",
	"invalid_luhn":   "card number fails the Luhn check",
}

// CheckCardNumber checks that a PAN is 13 to 19 digits and passes the Luhn check. Its errors never hold the number.
func CheckCardNumber(pan string) error {
	for _, r := range pan {
		if r < '0' || r > '9' {
			return errors.New("not_digits")
		}
	}
	if len(pan) < 13 || len(pan) > 19 {
		return errors.New("invalid_length")
	}
	if !Luhn(pan) {
		return errors.New("invalid_luhn")
	}
	return nil
}

// Luhn reports whether a string of digits passes the Luhn checksum.
func Luhn(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if d < 0 || d > 9 {
			return false
		}
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return len(digits) > 0 && sum%10 == 0
}

// LooksLikeCardNumber reports whether s holds a card number where none belongs: 13 to 19 digits, whole or in groups
// joined by spaces, dashes or dots, with a card scheme's prefix, that pass the Luhn check and are not part of a
// longer number.
func LooksLikeCardNumber(s string) bool {
	for range cardNumbers(s) {
		return true
	}
	return false
}

// CardBrand names a card's payment system from its number: visa, mastercard, mir, maestro, amex, unionpay or
// unknown.
func CardBrand(pan string) string {
	if len(pan) < 6 {
		return "unknown"
	}
	p2, p4 := atoi(pan[:2]), atoi(pan[:4])
	switch {
	case pan[0] == '4':
		return "visa"
	case p4 >= 2200 && p4 <= 2204:
		return "mir"
	case (p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720):
		return "mastercard"
	case p2 == 34 || p2 == 37:
		return "amex"
	case p2 == 62:
		return "unionpay"
	case p2 == 50 || (p2 >= 56 && p2 <= 69):
		return "maestro"
	}
	return "unknown"
}

func brandTitle(b string) string {
	switch b {
	case "visa":
		return "Visa"
	case "mastercard":
		return "Mastercard"
	case "mir":
		return "Mir"
	case "maestro":
		return "Maestro"
	case "amex":
		return "Amex"
	case "unionpay":
		return "UnionPay"
	}
	return "Card"
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// MaskCardNumbers returns b with the digits of every card number LooksLikeCardNumber finds, but the first six and
// last four, replaced by asterisks, as card numbers may be shown; separators between digit groups stay.
func MaskCardNumbers(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	for start, end := range cardNumbers(b) {
		n := 0
		for _, c := range b[start:end] {
			if isDigit(c) {
				n++
			}
		}
		d := 0
		for i := start; i < end; i++ {
			if isDigit(b[i]) {
				if d >= 6 && d < n-4 {
					out[i] = '*'
				}
				d++
			}
		}
	}
	return out
}
