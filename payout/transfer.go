package payout

import (
	"log/slog"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Transfer makes a payout a cross-border transfer: the sender pays by card in
// roubles, after passing 3-D Secure, and the recipient's card (Destination.Card.Number) is paid the payout's Amount
// in its currency.
type Transfer struct {
	// Source is what the sender pays: roubles.
	Source Amount `json:"source"`
	// Rate and ProviderRate are roubles per unit of the payout currency, as decimal strings with exactly four
	// places ("9.2222"): ours, and the recipient's bank's.
	Rate         string `json:"rate"`
	ProviderRate string `json:"provider_rate"`
	// ProviderTxID is the transfer's id at the recipient's bank (payment_metadata.provider_tx_id).
	ProviderTxID string `json:"provider_tx_id"`
	// Recurrent asks for a token to repeat payments from the sender's card; it is kept in the payout's state.
	Recurrent bool `json:"recurrent,omitempty"`
	// ReturnURL is where the payer comes back to after 3-D Secure.
	ReturnURL string `json:"return_url,omitempty"`
	// CustomerReference is the sender's id in the backend (customer.reference).
	CustomerReference string `json:"customer_reference,omitempty"`
	// PromoProjectID is the id of the promo rate's project, for a transfer at a promo rate: the provider wants it
	// instead of our project (seed 002).
	PromoProjectID string            `json:"promo_project_id,omitempty"`
	Sender         TransferSender    `json:"sender"`
	Recipient      TransferRecipient `json:"recipient"`
	// SenderCard is the card the sender pays with. The API hands it to the bank and forgets it: it never enters
	// the workflow, its history, logs or errors.
	SenderCard *SenderCard `json:"sender_card,omitempty"`
}

// SenderCard is a payer's card with its security code. Its String shows the last four digits only.
type SenderCard struct {
	Number   string `json:"number"`
	ExpMonth string `json:"exp_month"` // 01..12
	ExpYear  string `json:"exp_year"`  // 2030
	CVV      string `json:"cvv"`
}

// String reads like "card •4242".
func (c SenderCard) String() string { return "card •" + last4(c.Number) }

// GoString is String.
func (c SenderCard) GoString() string { return c.String() }

// LogValue is String: a logged card shows its last four digits only.
func (c SenderCard) LogValue() slog.Value { return slog.StringValue(c.String()) }

// TransferSender is who sends a transfer, as the provider must know them. Countries are ISO 3166-1 alpha-3.
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
	BirthDate          string            `json:"birth_date"` // YYYY-MM-DD
	Document           *TransferDocument `json:"document"`
	Phone              string            `json:"phone,omitempty"` // +<digits>
	Email              string            `json:"email,omitempty"`
}

// TransferDocument is the sender's identity document.
type TransferDocument struct {
	Type         string `json:"type"`
	Number       string `json:"number"`
	IssuedAt     string `json:"issued_at,omitempty"` // YYYY-MM-DD
	DivisionCode string `json:"division_code,omitempty"`
	IssuedBy     string `json:"issued_by,omitempty"`
}

// TransferRecipient is who receives a transfer.
type TransferRecipient struct {
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	MiddleName string `json:"middle_name,omitempty"`
	BirthDate  string `json:"birth_date,omitempty"` // YYYY-MM-DD
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
}

var (
	rateRE    = regexp.MustCompile(`^[0-9]{1,9}\.[0-9]{4}$`)
	iso3RE    = regexp.MustCompile(`^[A-Z]{3}$`)
	cvvRE     = regexp.MustCompile(`^[0-9]{3,4}$`)
	intlPhone = regexp.MustCompile(`^\+[0-9]{7,15}$`)
	// projectIDRE is an X-PARTNER-PROJECT value as a header carries it.
	projectIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
)

// ValidRate reports whether rate is a positive decimal string with exactly four places, as providers take rates.
func ValidRate(rate string) bool {
	return rateRE.MatchString(rate) && strings.Trim(rate, "0.") != ""
}

// validateTransfer checks a transfer: to a card number, with rates of four places, the sender's
// card and the sender's and recipient's details the bank requires.
func (r Request) validateTransfer() error {
	t := r.Transfer
	f := func(field, code, format string, args ...any) error {
		return fieldErr("transfer."+field, code, format, args...)
	}
	switch {
	case r.Destination.Card == nil || r.Destination.Card.Number == "":
		return fieldErr("destination.card.number", "required", "a transfer pays out to the recipient's card number")
	case r.SingleRequest || r.SourceAccount != "":
		return f("", "not_supported", "a transfer takes neither single_request nor source_account")
	case t.Source.Currency != "RUB":
		return f("source.currency", "currency_not_supported", "the sender pays in RUB")
	case t.Source.Value <= 0:
		return f("source.value", "must_be_positive", "the source amount must be a positive number of minor units")
	case t.Rate == "":
		return f("rate", "required", "rate is required, as a decimal string with 4 places, e.g. \"9.2222\"")
	case !ValidRate(t.Rate):
		return f("rate", "invalid_rate_precision", "rate must be a decimal string with exactly 4 places, e.g. \"9.2222\"")
	case t.ProviderRate == "":
		return f("provider_rate", "required", "provider_rate is required, as a decimal string with 4 places")
	case !ValidRate(t.ProviderRate):
		return f("provider_rate", "invalid_rate_precision", "provider_rate must be a decimal string with exactly 4 places, e.g. \"8.2200\"")
	case strings.TrimSpace(t.ProviderTxID) == "" || len(t.ProviderTxID) > 64:
		return f("provider_tx_id", "required", "provider_tx_id (the transfer's id at the recipient's bank, up to 64 characters) is required")
	case t.ReturnURL != "" && !strings.HasPrefix(t.ReturnURL, "https://") && !strings.HasPrefix(t.ReturnURL, "http://"):
		return f("return_url", "invalid_url", "return_url must be an http(s) URL")
	case t.PromoProjectID != "" && !projectIDRE.MatchString(t.PromoProjectID):
		return f("promo_project_id", "invalid_promo_project_id", "promo_project_id must be the promo rate's project id "+
			"from the provider: up to 64 letters, digits, '_', '-' or '.'")
	}
	if err := t.Sender.validate(); err != nil {
		return err
	}
	rc := t.Recipient
	switch {
	case strings.TrimSpace(rc.FirstName) == "" || strings.TrimSpace(rc.LastName) == "":
		return f("recipient", "required", "the recipient's first_name and last_name are required")
	case rc.BirthDate != "" && !validDate(rc.BirthDate):
		return f("recipient.birth_date", "invalid_date", "birth_date must be YYYY-MM-DD")
	case rc.Phone != "" && !intlPhone.MatchString(rc.Phone):
		return f("recipient.phone", "invalid_phone", "phone must be + and 7 to 15 digits")
	}
	c := t.SenderCard
	switch {
	case c == nil:
		return f("sender_card", "required", "the sender's card (number, exp_month, exp_year, cvv) is required")
	case CheckCardNumber(c.Number) != nil:
		return f("sender_card.number", "invalid_card_number", "the sender's card number must be 13 to 19 digits passing the Luhn check")
	case !monthRE.MatchString(c.ExpMonth):
		return f("sender_card.exp_month", "invalid_exp_month", "exp_month must be two digits, 01 to 12")
	case !yearRE.MatchString(c.ExpYear):
		return f("sender_card.exp_year", "invalid_exp_year", "exp_year must be four digits, e.g. 2030")
	case !cvvRE.MatchString(c.CVV):
		return f("sender_card.cvv", "invalid_cvv", "cvv must be 3 or 4 digits")
	}
	return t.checkText()
}

// maxTransferText bounds each free-text field of a transfer.
const maxTransferText = 255

// checkText bounds the transfer's free-text fields and keeps card numbers out of them, as they travel in the
// workflow's input, and refuses names that could pass for others (checkName).
func (t *Transfer) checkText() error {
	s, r := t.Sender, t.Recipient
	fields := [][2]string{
		{"provider_tx_id", t.ProviderTxID}, {"customer_reference", t.CustomerReference}, {"return_url", t.ReturnURL},
		{"promo_project_id", t.PromoProjectID},
		{"sender.first_name", s.FirstName}, {"sender.last_name", s.LastName}, {"sender.middle_name", s.MiddleName},
		{"sender.state", s.State}, {"sender.city", s.City}, {"sender.postal_code", s.PostalCode},
		{"sender.street", s.Street}, {"sender.building", s.Building}, {"sender.flat", s.Flat},
		{"sender.email", s.Email}, {"recipient.first_name", r.FirstName}, {"recipient.last_name", r.LastName},
		{"recipient.middle_name", r.MiddleName}, {"recipient.email", r.Email},
	}
	if d := s.Document; d != nil {
		fields = append(fields, [2]string{"sender.document.type", d.Type}, [2]string{"sender.document.number", d.Number},
			[2]string{"sender.document.division_code", d.DivisionCode}, [2]string{"sender.document.issued_by", d.IssuedBy})
	}
	for _, f := range fields {
		name, v := f[0], f[1]
		switch {
		case utf8.RuneCountInString(v) > maxTransferText:
			return fieldErr("transfer."+name, "too_long", "%s is longer than %d characters", name, maxTransferText)
		case LooksLikeCardNumber(v):
			return fieldErr("transfer."+name, "card_number_not_allowed", "%s must not carry a card number", name)
		}
	}
	for _, f := range [][2]string{
		{"sender.first_name", s.FirstName}, {"sender.middle_name", s.MiddleName}, {"sender.last_name", s.LastName},
		{"recipient.first_name", r.FirstName}, {"recipient.middle_name", r.MiddleName}, {"recipient.last_name", r.LastName},
	} {
		if err := checkName("transfer."+f[0], f[0], f[1]); err != nil {
			return err
		}
	}
	return nil
}

func (s TransferSender) validate() error {
	f := func(field, code, format string, args ...any) error {
		return fieldErr("transfer.sender."+field, code, format, args...)
	}
	switch {
	case strings.TrimSpace(s.FirstName) == "" || strings.TrimSpace(s.LastName) == "":
		return f("first_name", "required", "the sender's first_name and last_name are required")
	case !iso3RE.MatchString(s.CitizenshipCountry):
		return f("citizenship_country", "invalid_country", "citizenship_country must be an ISO 3166-1 alpha-3 code, e.g. RUS")
	case !iso3RE.MatchString(s.Country):
		return f("country", "invalid_country", "country must be an ISO 3166-1 alpha-3 code, e.g. RUS")
	case strings.TrimSpace(s.City) == "" || strings.TrimSpace(s.Street) == "":
		return f("city", "required", "the sender's city and street are required")
	case !validDate(s.BirthDate):
		return f("birth_date", "invalid_date", "the sender's birth_date is required, as YYYY-MM-DD")
	case s.Document == nil:
		return f("document", "required", "the sender's identity document (type, number) is required")
	case strings.TrimSpace(s.Document.Type) == "" || strings.TrimSpace(s.Document.Number) == "":
		return f("document", "required", "the sender's document needs its type and number")
	case s.Document.IssuedAt != "" && !validDate(s.Document.IssuedAt):
		return f("document.issued_at", "invalid_date", "issued_at must be YYYY-MM-DD")
	case s.Phone != "" && !intlPhone.MatchString(s.Phone):
		return f("phone", "invalid_phone", "phone must be + and 7 to 15 digits")
	}
	return nil
}
