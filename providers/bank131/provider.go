package bank131

import (
	"context"
	"errors"
	"strings"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/redact"
)

// Provider is Bank 131 as a payout provider: payouts to a card (by number or token) or by SBP phone number,
// executed on confirm, and cross-border transfers (Transfer).
type Provider struct {
	client *Client
}

var (
	_ providers.Provider    = (*Provider)(nil)
	_ providers.BankLister  = (*Provider)(nil)
	_ providers.Transferrer = (*Provider)(nil)
)

// EventActionRequired is the kind of the event an action_required webhook becomes: the payer must act (pass 3-D
// Secure) at Outcome.Details[DetailRedirectURL] before the transfer goes on.
const EventActionRequired = providers.EventActionRequired

// Outcome.Details keys this provider fills in.
const (
	// DetailSessionStatus is the session's status in a Status answer; "error" is not final and wants an operator.
	DetailSessionStatus = "session_status"
	// DetailRedirectURL is where the payer must go to pass 3-D Secure (a transfer's action_required).
	DetailRedirectURL = providers.DetailRedirectURL
	// DetailRedirectMethod is the HTTP method of that redirect (GET or POST).
	DetailRedirectMethod = providers.DetailRedirectMethod
	// DetailRecurrentToken is the token for repeating a transfer's payment from the sender's card.
	DetailRecurrentToken = "recurrent_token"
)

// codeInvalidToken is the code of a Submit refused because token/info does not know the card token.
const codeInvalidToken = "invalid_token"

// NewProvider returns the provider that calls Bank 131 through client.
func NewProvider(client *Client) *Provider {
	return &Provider{client: client}
}

// Name returns "bank131".
func (p *Provider) Name() string { return Name }

// SingleRequest reports whether the payout is created and started in one call (session/init/payout, or its
// nominal and rko variants for a source account), with no session opened before: the workflow must not Open it,
// and Submit creates the session.
func SingleRequest(req payout.Request) bool {
	return req.SingleRequest || req.SourceAccount != ""
}

// Open creates the payout's session, with the payout ID as its metadata. A ref that has a session already is
// returned as it is. Open cannot see the request: the caller must not Open a single-request payout
// (SingleRequest), whose session Submit creates.
func (p *Provider) Open(ctx context.Context, ref providers.Ref) (providers.Ref, error) {
	if ref.SessionID != "" {
		return ref, nil
	}
	s, err := p.client.CreateSession(ctx, ref.PayoutID)
	if err != nil {
		return ref, err
	}
	ref.SessionID = s.ID
	return ref, nil
}

// Submit starts the payout in the payout's session (session/start/payout) or, for a single-request payout without
// a session, creates the session with it (session/init/payout, /nominal or /rko) and returns the new session in
// Outcome.Ref. The payout goes to a card number, a card token (checked with token/info first: its brand and last
// four digits come back in Outcome.Card) or an SBP phone. A single-request payout that was opened all the same
// is started in its session, unless it is paid from a source account (refused: those are init calls only). No
// money moves until Confirm.
func (p *Provider) Submit(ctx context.Context, ref providers.Ref, req payout.Request) (providers.Outcome, error) {
	single := SingleRequest(req)
	op := opStart
	if ref.SessionID == "" {
		if !single {
			return providers.Outcome{Ref: ref}, needSession(opStart, ref)
		}
		var err error
		if op, err = initOp(req.SourceAccount); err != nil {
			return providers.Outcome{Ref: ref}, localError(opInit, err)
		}
	} else if req.SourceAccount != "" {
		return providers.Outcome{Ref: ref}, localError(opStart, errors.New(
			"a payout from the "+req.SourceAccount+" account is created with its session: submit it without one"))
	}

	sp := StartPayout{
		SessionID:     ref.SessionID,
		RecipientName: req.Recipient.FullName,
		Amount:        req.Amount.Value,
		Currency:      req.Amount.Currency,
		Metadata:      ref.PayoutID,
	}
	var card *payout.MaskedCard
	switch d := req.Destination; {
	case d.Card != nil && d.Card.Number != "":
		sp.CardNumber = d.Card.Number
	case d.Card != nil && d.Card.Token != "":
		info, err := p.client.TokenInfo(ctx, d.Card.Token)
		if err != nil {
			return providers.Outcome{Ref: ref}, invalidToken(err)
		}
		sp.CardToken = d.Card.Token
		card = &payout.MaskedCard{Brand: info.Brand, Last4: info.Last4, Tokenized: true}
	case d.SBP != nil:
		sp.SBP = &SBPPayout{Phone: d.SBP.Phone, BankID: d.SBP.BankID, Description: req.Description}
	default:
		return providers.Outcome{Ref: ref}, localError(op,
			errors.New("bank131 pays out to a card number, a card token or an SBP phone"))
	}

	var (
		s   Session
		err error
	)
	if ref.SessionID == "" {
		sp.IdempotencyKey = ref.PayoutID + ":init"
		s, err = p.client.InitPayout(ctx, req.SourceAccount, sp)
	} else {
		sp.IdempotencyKey = ref.PayoutID + ":start"
		s, err = p.client.StartPayout(ctx, sp)
	}
	if err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	o := outcome(ref, s)
	if card != nil {
		o.Card = card
	}
	return o, nil
}

// invalidToken turns token/info's refusal of a token into a Known invalid_token error that keeps the bank's code in
// its description; other failures (authentication, transport) are returned as they are. Nothing was submitted.
func invalidToken(err error) error {
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Certainty != providers.Known || pe.Code != codeInvalidRequest {
		return err
	}
	desc := pe.Code
	if pe.Description != "" {
		desc += ": " + pe.Description
	}
	return &providers.Error{Provider: Name, Op: opTokenInfo, Certainty: providers.Known, HTTPStatus: pe.HTTPStatus,
		Code: codeInvalidToken, Description: desc}
}

// Transfer starts a cross-border transfer (session/multi/init) with the payout ID as its metadata and returns the
// new session in Outcome.Ref; Outcome.Details carry redirect_url once the payer must pass 3-D Secure and
// recurrent_token once the bank gave one. A ref that has a session already is only asked for its status. t holds
// the sender's card with its security code: it is sent to the bank and nowhere else.
func (p *Provider) Transfer(ctx context.Context, ref providers.Ref, t Transfer) (providers.Outcome, error) {
	if ref.SessionID != "" {
		return p.Status(ctx, ref)
	}
	s, err := p.client.MultiInit(ctx, MultiInit{Transfer: t, Metadata: ref.PayoutID,
		IdempotencyKey: ref.PayoutID + ":transfer"})
	if err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	return outcome(ref, s), nil
}

// StartTransfer hands a cross-border transfer to the bank (session/multi/init) under the payout ID: the sender's
// card, with its security code, goes into this one request and is kept nowhere.
func (p *Provider) StartTransfer(ctx context.Context, ref providers.Ref, req payout.Request, card payout.SenderCard) (
	providers.Outcome, error) {
	t := req.Transfer
	if t == nil || req.Destination.Card == nil {
		return providers.Outcome{Ref: ref}, &providers.Error{Provider: Name, Op: opMultiInit, Certainty: providers.Known,
			Err: errors.New("not a transfer to a card number")}
	}
	to := strings.ToLower(req.Amount.Currency)
	s, rc := t.Sender, t.Recipient
	sender := TransferSender{
		CitizenshipCountryISO3: s.CitizenshipCountry, FirstName: s.FirstName, LastName: s.LastName,
		MiddleName: s.MiddleName, CountryISO3: s.Country, State: s.State, City: s.City, PostalCode: s.PostalCode,
		Street: s.Street, Building: s.Building, Flat: s.Flat, DateOfBirth: s.BirthDate,
	}
	if d := s.Document; d != nil {
		sender.IdentityDocument = &IdentityDocument{IDType: d.Type, IDNumber: d.Number, IssueDate: d.IssuedAt,
			DivisionCode: d.DivisionCode, IssuedBy: d.IssuedBy}
	}
	sender.Contacts = contacts(s.Phone, s.Email)
	recipient := TransferRecipient{FirstName: rc.FirstName, LastName: rc.LastName, MiddleName: rc.MiddleName,
		DateOfBirth: rc.BirthDate, Contacts: contacts(rc.Phone, rc.Email)}
	year := card.ExpYear
	if len(year) == 4 {
		year = year[2:]
	}
	return p.Transfer(ctx, ref, Transfer{
		SenderCard: CardDetails{Number: card.Number, ExpiryMonth: card.ExpMonth, ExpiryYear: year,
			SecurityCode: card.CVV},
		RecipientCard: req.Destination.Card.Number,
		Recurrent:     t.Recurrent,
		ReturnURL:     t.ReturnURL,
		Amounts: Amounts{
			Source:       AmountDetails{Amount: t.Source.Value, Currency: "rub"},
			Rate:         ExchangeRate{Rate: Rate(t.Rate), FromCurrency: "rub", ToCurrency: to},
			ProviderRate: ExchangeRate{Rate: Rate(t.ProviderRate), FromCurrency: "rub", ToCurrency: to},
		},
		Amount:            AmountDetails{Amount: req.Amount.Value, Currency: to},
		Participants:      TransferParticipants{Sender: sender, Recipient: recipient},
		ProviderTxID:      t.ProviderTxID,
		CustomerReference: t.CustomerReference,
		PromoProjectID:    t.PromoProjectID,
	})
}

func contacts(phone, email string) *Contacts {
	if phone == "" && email == "" {
		return nil
	}
	c := &Contacts{Email: email}
	if phone != "" {
		c.Phone = &ContactPhone{FullNumber: phone}
	}
	return c
}

// SBPBanks lists the banks that take SBP payouts (fps/banks), those whose English or Russian name contains name
// (any case) when it is not empty.
func (p *Provider) SBPBanks(ctx context.Context, name string) ([]providers.Bank, error) {
	banks, err := p.client.FPSBanks(ctx)
	if err != nil {
		return nil, err
	}
	name = strings.ToLower(name)
	out := []providers.Bank{}
	for _, b := range banks {
		if name != "" && !strings.Contains(strings.ToLower(b.Name), name) &&
			!strings.Contains(strings.ToLower(b.RuName), name) {
			continue
		}
		title := b.Name
		if title == "" {
			title = b.RuName
		}
		out = append(out, providers.Bank{ID: b.ID, Name: title})
	}
	return out, nil
}

// Confirm tells the bank to execute the payout.
func (p *Provider) Confirm(ctx context.Context, ref providers.Ref) (providers.Outcome, error) {
	if err := needSession(opConfirm, ref); err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	s, err := p.client.Confirm(ctx, ref.SessionID, ref.PayoutID+":confirm")
	if err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	return outcome(ref, s), nil
}

// Cancel drops the payout's session.
func (p *Provider) Cancel(ctx context.Context, ref providers.Ref) (providers.Outcome, error) {
	if err := needSession(opCancel, ref); err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	s, err := p.client.Cancel(ctx, ref.SessionID, ref.PayoutID+":cancel")
	if err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	return outcome(ref, s), nil
}

// Status asks the bank where the payout's session stands. Outcome.Details["session_status"] is the session's
// status: a session in "error" stays pending (the bank calls it not final) and wants an operator's eye.
func (p *Provider) Status(ctx context.Context, ref providers.Ref) (providers.Outcome, error) {
	if err := needSession(opStatus, ref); err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	s, err := p.client.Status(ctx, ref.SessionID)
	if err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	o := outcome(ref, s)
	setDetail(&o, DetailSessionStatus, s.Status)
	if s.Status == sessionError && !o.State.Final() {
		setDetail(&o, providers.DetailAttention, "Bank 131 reports the session in status error, which is not final: "+
			"the bank asks to wait for the final status (its support can tell more)")
	}
	return o, nil
}

// needSession fails, with nothing sent, when the payout has no session yet.
func needSession(op string, ref providers.Ref) error {
	if ref.SessionID != "" {
		return nil
	}
	return &providers.Error{Provider: Name, Op: op, Certainty: providers.Known,
		Err: errors.New("payout has no bank131 session: Open it first")}
}

// setDetail sets a detail of the outcome unless value is empty.
func setDetail(o *providers.Outcome, key, value string) {
	if value == "" {
		return
	}
	if o.Details == nil {
		o.Details = make(map[string]string)
	}
	o.Details[key] = value
}

// acquiringDetails copies into the outcome what a transfer's acquiring payment asks of the payer (the 3-D Secure
// redirect) and the recurrent token it gave.
func acquiringDetails(o *providers.Outcome, s Session) {
	if len(s.AcquiringPayments) == 0 {
		return
	}
	ap := s.AcquiringPayments[0]
	if ci := ap.CustomerInteraction; ci != nil && ci.Type == interactionRedirect && ci.Redirect != nil {
		setDetail(o, DetailRedirectURL, ci.Redirect.URL)
		setDetail(o, DetailRedirectMethod, ci.Redirect.Method)
	}
	setDetail(o, DetailRecurrentToken, ap.RecurrentToken)
}

// outcome reads where a payout stands from its session: the first payment decides, the session fills in.
func outcome(ref providers.Ref, s Session) providers.Outcome {
	if s.ID != "" {
		ref.SessionID = s.ID
	}
	o := providers.Outcome{Ref: ref}
	acquiringDetails(&o, s)
	if len(s.Payments) == 0 {
		switch s.Status {
		case sessionCancelled:
			o.State = providers.StateCancelled
			setError(&o, nil, s.Error)
		case sessionCreated:
			o.State = providers.StateCreated
		default: // in_progress, error (not final) or anything new: wait.
			o.State = providers.StatePending
		}
		return o
	}

	pm := s.Payments[0]
	o.Ref.PaymentID = pm.ID
	if pm.PaymentMethod != nil && pm.PaymentMethod.Card != nil && pm.PaymentMethod.Card.Last4 != "" {
		o.Card = &payout.MaskedCard{Brand: pm.PaymentMethod.Card.Brand, Last4: pm.PaymentMethod.Card.Last4}
	}
	if pm.AmountDetails != nil {
		o.Amount = &payout.Amount{Value: pm.AmountDetails.Amount, Currency: strings.ToUpper(pm.AmountDetails.Currency)}
	}

	switch {
	case pm.Status == paymentSucceeded:
		// Money moved: nothing else in the session outweighs that.
		o.State = providers.StateSucceeded
	case s.Status == sessionCancelled:
		o.State = providers.StateCancelled
		setError(&o, pm.Error, s.Error)
	case pm.Status == paymentFailed:
		o.State = providers.StateFailed
		if pm.Error != nil && pm.Error.Code == codeSessionCancelledByPartner {
			o.State = providers.StateCancelled
		}
		setError(&o, pm.Error, s.Error)
	case pm.Status == paymentPending || s.NextAction == nextActionConfirm:
		o.State = providers.StateAwaitingConfirm
	default: // in_progress, a session in error (not final), or anything new: wait.
		o.State = providers.StatePending
	}
	return o
}

// setError copies the first error given into the outcome.
func setError(o *providers.Outcome, errs ...*APIError) {
	for _, e := range errs {
		if e != nil && e.Code != "" {
			o.ErrorCode, o.ErrorDescription = e.Code, redact.Text(e.Description)
			return
		}
	}
}
