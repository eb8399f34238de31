package bank131

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"

	"github.com/payoutflow/payoutflow/payout"
)

// Transfer is a cross-border transfer (session/multi/init): the sender's card is charged in roubles, after the
// payer passes 3-D Secure (action_required), and the recipient's card is paid in the payout currency at the given
// rates; the bank reports the result with payment_finished, with no session/confirm. Its String, GoString, Format
// and LogValue show neither card number nor security code.
type Transfer struct {
	// SenderCard is the card the money is taken from (payment_details_multi).
	SenderCard CardDetails
	// RecipientCard is the number of the card the money goes to (payout_details_multi).
	RecipientCard string
	// Recurrent asks for a token to repeat payments from the sender's card (payment_options.recurrent); the bank
	// gives it once the payment succeeded, with the user's consent obtained beforehand.
	Recurrent bool
	// ReturnURL is where the payer returns after 3-D Secure (payment_options.return_url).
	ReturnURL string
	// Amounts are what the sender pays (Source, always rub) and the rates (RUB per unit of the payout currency).
	Amounts Amounts
	// Amount is what the recipient gets, in minor units of the payout currency (amount_details).
	Amount AmountDetails
	// Participants are the sender and the recipient, as the transfer API's example gives them.
	Participants TransferParticipants
	// ProviderTxID is the transaction's id at the recipient's (CIS) bank (payment_metadata.provider_tx_id).
	ProviderTxID string
	// CustomerReference is the sender's id in the partner's system (customer.reference); sent when not empty.
	CustomerReference string
	// PromoProjectID, for a transfer at a promo rate, is the promo rate's project id: sent in X-PARTNER-PROJECT
	// instead of the client's project, as seed 002 asks.
	PromoProjectID string
}

// CardDetails is a card as the payer gives it: number, expiry and security code. Its String, GoString, Format and
// LogValue show the brand and last four digits only.
type CardDetails struct {
	Number string
	// ExpiryMonth is "01".."12"; ExpiryYear is two digits ("29").
	ExpiryMonth string
	ExpiryYear  string
	// SecurityCode is the CVC/CVV: never logged, never kept.
	SecurityCode string
}

// String reads like "visa •4242".
func (c CardDetails) String() string { return maskedCard(c.Number) }

// GoString is String.
func (c CardDetails) GoString() string { return c.String() }

// Format prints String whatever the verb.
func (c CardDetails) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue logs String.
func (c CardDetails) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String shows the transfer without card numbers, security code or the participants' details.
func (t Transfer) String() string {
	return fmt.Sprintf("bank131.Transfer{from %s to %s, %d %s for %d %s at %s}", t.SenderCard, maskedCard(t.RecipientCard),
		t.Amounts.Source.Amount, t.Amounts.Source.Currency, t.Amount.Amount, t.Amount.Currency, t.Amounts.Rate.Rate)
}

// GoString is String.
func (t Transfer) GoString() string { return t.String() }

// Format prints String whatever the verb.
func (t Transfer) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }

// LogValue logs String.
func (t Transfer) LogValue() slog.Value { return slog.StringValue(t.String()) }

// maskedCard shows a card number as its brand and last four digits.
func maskedCard(number string) string {
	if number == "" {
		return "no card"
	}
	return payout.CardBrand(number) + " •" + lastN(number, 4)
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

// MultiInit is a session/multi/init request: a transfer, the metadata that comes back in responses and webhooks,
// and the idempotency key. Its String, GoString, Format and LogValue are the transfer's, masked.
type MultiInit struct {
	Transfer Transfer
	// Metadata comes back in the session's payments and in webhooks; any JSON value (our payout ID).
	Metadata any
	// IdempotencyKey, when set, is sent as X-PARTNER-IDEMPOTENCY-KEY.
	IdempotencyKey string
}

// String shows the request without card numbers or security code.
func (m MultiInit) String() string { return "bank131.MultiInit{" + m.Transfer.String() + "}" }

// GoString is String.
func (m MultiInit) GoString() string { return m.String() }

// Format prints String whatever the verb.
func (m MultiInit) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, m.String()) }

// LogValue logs String.
func (m MultiInit) LogValue() slog.Value { return slog.StringValue(m.String()) }

// MultiInit starts a transfer (session/multi/init): the answer is a session in progress whose acquiring payment
// waits for the payer (action_required). A transfer that is plainly incomplete, or whose rates do not have exactly
// four decimal places, is refused before anything is sent (a Known error).
func (c *Client) MultiInit(ctx context.Context, m MultiInit) (Session, error) {
	body, err := m.Transfer.body(m.Metadata)
	if err != nil {
		return Session{}, localError(opMultiInit, err)
	}
	return c.callAs(ctx, m.Transfer.PromoProjectID, opMultiInit, m.IdempotencyKey, body)
}

// check names the first thing missing or malformed in the transfer, never its value.
func (t Transfer) check() error {
	switch {
	case t.SenderCard.Number == "":
		return errors.New("the sender's card number is missing")
	case t.SenderCard.ExpiryMonth == "" || t.SenderCard.ExpiryYear == "":
		return errors.New("the sender's card expiry is missing")
	case t.SenderCard.SecurityCode == "":
		return errors.New("the sender's card security code is missing")
	case t.RecipientCard == "":
		return errors.New("the recipient's card number is missing")
	case t.Amounts.Source.Amount <= 0:
		return errors.New("amounts.source.amount must be greater than 0")
	case t.Amount.Amount <= 0:
		return errors.New("amount_details.amount must be greater than 0")
	case !t.Amounts.Rate.Rate.Valid():
		return errors.New("amounts.rate.rate must be a positive decimal with exactly 4 decimal places")
	case !t.Amounts.ProviderRate.Rate.Valid():
		return errors.New("amounts.provider_rate.rate must be a positive decimal with exactly 4 decimal places")
	}
	return nil
}

// body is the session/multi/init request body, currencies in lower case.
func (t Transfer) body(metadata any) (multiInitBody, error) {
	if err := t.check(); err != nil {
		return multiInitBody{}, err
	}
	lower := func(r ExchangeRate) ExchangeRate {
		r.FromCurrency, r.ToCurrency = strings.ToLower(r.FromCurrency), strings.ToLower(r.ToCurrency)
		return r
	}
	amounts := Amounts{
		Source:       AmountDetails{Amount: t.Amounts.Source.Amount, Currency: strings.ToLower(t.Amounts.Source.Currency)},
		Rate:         lower(t.Amounts.Rate),
		ProviderRate: lower(t.Amounts.ProviderRate),
	}
	participants := t.Participants
	b := multiInitBody{
		PaymentDetailsMulti: []paymentMethodBody{{Type: "card", Card: &cardBody{Type: "bank_card", BankCard: &bankCardBody{
			Number:          t.SenderCard.Number,
			ExpirationYear:  t.SenderCard.ExpiryYear,
			SecurityCode:    t.SenderCard.SecurityCode,
			ExpirationMonth: t.SenderCard.ExpiryMonth,
		}}}},
		PayoutDetailsMulti: []paymentMethodBody{{Type: "card", Card: &cardBody{Type: "bank_card",
			BankCard: &bankCardBody{Number: t.RecipientCard}}}},
		Amounts:            &amounts,
		AmountDetails:      &AmountDetails{Amount: t.Amount.Amount, Currency: strings.ToLower(t.Amount.Currency)},
		ParticipantDetails: &participants,
		PaymentMetadata:    &paymentMetadataBody{ProviderTxID: t.ProviderTxID},
		Metadata:           metadata,
	}
	if t.Recurrent || t.ReturnURL != "" {
		b.PaymentOptions = &paymentOptionsBody{Recurrent: t.Recurrent, ReturnURL: t.ReturnURL}
	}
	if t.CustomerReference != "" {
		b.Customer = &customerBody{Reference: t.CustomerReference}
	}
	return b, nil
}
