package bepaid

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/redact"
)

// ProviderOptions are what the provider sends with every payout.
type ProviderOptions struct {
	// NotificationURL receives bePaid's notifications of final statuses (our webhook receiver).
	NotificationURL string
	// VerificationURL, when set, is asked by bePaid before it completes each payout.
	VerificationURL string
	// Test marks every payout as a test transaction.
	Test bool
	// Language is bePaid's language for e-mails (en, ru, ...); bePaid's default (en) when empty.
	Language string
}

// Provider is bePaid as a payout provider: a card payout is one request, decided at once or after a while, with
// no session and no confirm step.
type Provider struct {
	client *Client
	opts   ProviderOptions
}

var _ providers.Provider = (*Provider)(nil)

// NewProvider returns the provider that calls bePaid through client.
func NewProvider(client *Client, opts ProviderOptions) *Provider {
	return &Provider{client: client, opts: opts}
}

// Name returns "bepaid".
func (p *Provider) Name() string { return Name }

// Open returns ref unchanged: bePaid has no step before the payout.
func (p *Provider) Open(_ context.Context, ref providers.Ref) (providers.Ref, error) {
	return ref, nil
}

// Submit sends the payout, with our payout ID as tracking_id and duplicate_check on. The outcome may be final at
// once (succeeded or failed) or pending; a pending payout ends with a notification, or is found by Status.
func (p *Provider) Submit(ctx context.Context, ref providers.Ref, req payout.Request) (providers.Outcome, error) {
	card := req.Destination.Card
	if card == nil || (card.Number == "" && card.Token == "") {
		return providers.Outcome{Ref: ref}, &providers.Error{Provider: Name, Op: opPayout, Certainty: providers.Known,
			Err: errors.New("bepaid pays out to cards only: a card number or token is required")}
	}
	tx, err := p.client.CreatePayout(ctx, p.payoutRequest(ref, req))
	if err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	return outcome(ref, tx), nil
}

// payoutRequest maps a payout onto bePaid's request.
func (p *Provider) payoutRequest(ref providers.Ref, req payout.Request) PayoutRequest {
	check := true
	description := req.Description
	if description == "" {
		description = "Payout " + ref.PayoutID // bePaid requires one
	}
	out := PayoutRequest{
		Amount:          req.Amount.Value,
		Currency:        strings.ToUpper(req.Amount.Currency),
		Description:     description,
		TrackingID:      ref.PayoutID,
		DuplicateCheck:  &check,
		Language:        p.opts.Language,
		NotificationURL: p.opts.NotificationURL,
		VerificationURL: p.opts.VerificationURL,
		Test:            p.opts.Test,
	}
	if c := req.Destination.Card; c.Token != "" {
		out.Card = &RecipientCard{Token: c.Token}
	} else {
		// The year goes as an integer (seed 003); payout validation has held it to four digits.
		year, _ := strconv.Atoi(c.ExpYear)
		out.Card = &RecipientCard{Number: c.Number, Holder: c.Holder, ExpMonth: Month(c.ExpMonth), ExpYear: year}
	}
	r := req.Recipient
	out.Recipient = person(Person{IP: r.IP, Email: r.Email, BirthDate: r.BirthDate, TaxpayerID: r.TaxpayerID})
	out.RecipientBillingAddress = address(r.Address)
	if s := req.Sender; s != nil {
		out.Sender = person(Person{IP: s.IP, Email: s.Email, BirthDate: s.BirthDate})
		out.SenderBillingAddress = address(s.Address)
		if d := s.Document; d != nil {
			out.AdditionalData = &RequestData{Document: &Document{Type: d.Type, Issuer: d.Issuer, Series: d.Series,
				Number: d.Number, IssuedAt: d.IssuedAt, ValidUntil: d.ValidUntil}}
		}
	}
	return out
}

// person is p, or nil when it is empty.
func person(p Person) *Person {
	if p == (Person{}) {
		return nil
	}
	return &p
}

// address is a's billing address, or nil when there is none.
func address(a *payout.Address) *BillingAddress {
	if a == nil || *a == (payout.Address{}) {
		return nil
	}
	return &BillingAddress{FirstName: a.FirstName, LastName: a.LastName, Country: a.Country, City: a.City,
		State: a.State, Zip: a.Zip, Address: a.Line, Phone: a.Phone}
}

// Confirm is not supported: bePaid executes a payout when it is submitted.
func (p *Provider) Confirm(_ context.Context, ref providers.Ref) (providers.Outcome, error) {
	return providers.Outcome{Ref: ref}, notSupported(opConfirm)
}

// Cancel is not supported: bePaid has no payout that waits to be confirmed.
func (p *Provider) Cancel(_ context.Context, ref providers.Ref) (providers.Outcome, error) {
	return providers.Outcome{Ref: ref}, notSupported(opCancel)
}

func notSupported(op string) error {
	return &providers.Error{Provider: Name, Op: op, Certainty: providers.Known, Code: CodeNotSupported,
		Description: "bePaid has no " + op + " step for payouts"}
}

// Status asks bePaid where the payout stands: by its transaction uid (ref.SessionID) when known, else by tracking_id
// (our payout ID). When bePaid has no payout transaction with that tracking_id the state is StateCreated: nothing
// was paid, and sending the payout is safe. Of several, a successful one wins (money moved), else the most recent.
func (p *Provider) Status(ctx context.Context, ref providers.Ref) (providers.Outcome, error) {
	if ref.SessionID != "" {
		tx, err := p.client.Transaction(ctx, ref.SessionID)
		if err != nil {
			return providers.Outcome{Ref: ref}, err
		}
		return outcome(ref, tx), nil
	}
	txs, err := p.client.ByTrackingID(ctx, ref.PayoutID)
	if err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	tx, ok := pick(txs)
	if !ok {
		return providers.Outcome{Ref: ref, State: providers.StateCreated}, nil
	}
	return outcome(ref, tx), nil
}

// pick chooses the transaction that tells where a payout stands: a successful payout if there is one, else the
// most recent by created_at (on a tie, the first listed: bePaid lists the newest first). Transactions of other
// types are not the payout's.
func pick(txs []Transaction) (Transaction, bool) {
	var best Transaction
	found := false
	for _, tx := range txs {
		if tx.Type != "" && tx.Type != "payout" {
			continue
		}
		switch {
		case !found:
			best, found = tx, true
		case best.Status == StatusSuccessful:
		case tx.Status == StatusSuccessful, tx.Created().After(best.Created()):
			best = tx
		}
	}
	return best, found
}

// outcome reads where a payout stands from its transaction.
func outcome(ref providers.Ref, tx Transaction) providers.Outcome {
	if tx.UID != "" {
		ref.SessionID = tx.UID
	}
	o := providers.Outcome{Ref: ref}
	if c := tx.Card(); c != nil && (c.Last4 != "" || c.Token != "") {
		o.Card = &payout.MaskedCard{Brand: brand(c.Brand), Last4: c.Last4, Tokenized: c.Last4 == ""}
	}
	if tx.Currency != "" {
		o.Amount = &payout.Amount{Value: tx.Amount, Currency: strings.ToUpper(tx.Currency)}
	}
	o.Details = details(tx)
	switch tx.Status {
	case StatusSuccessful:
		o.State = providers.StateSucceeded
	case StatusFailed:
		o.State = providers.StateFailed
		o.ErrorCode, o.ErrorDescription = codeDeclined, tx.Message
		if d := tx.PayoutDetails(); d != nil {
			if d.BankCode != "" {
				o.ErrorCode = string(d.BankCode)
			}
			if o.ErrorDescription == "" {
				o.ErrorDescription = d.Message
			}
		}
		o.ErrorDescription = redact.Text(o.ErrorDescription)
	default:
		// pending, incomplete, or a status added later: not final, so wait. Nothing is called failed while money
		// may yet move.
		o.State = providers.StatePending
	}
	return o
}

// details keeps the bank's references of the payout and bePaid's message.
func details(tx Transaction) map[string]string {
	m := map[string]string{}
	add := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	add("status", tx.Status)
	add("message", redact.Text(tx.Message)) // free text: may quote anything; references are the bank's numbers
	if d := tx.PayoutDetails(); d != nil {
		add("ref_id", string(d.RefID))
		add("rrn", string(d.RRN))
		add("auth_code", string(d.AuthCode))
		add("bank_code", string(d.BankCode))
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// brand maps bePaid's card brand onto the engine's names (visa, mastercard, mir, ...).
func brand(b string) string {
	switch b = strings.ToLower(b); b {
	case "master":
		return "mastercard"
	case "unknown":
		return ""
	}
	return b
}
