package sandbox

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/payoutflow/payoutflow/payout"
)

// 3-D Secure results of a transfer's payer.
const (
	authPassed = "passed"
	authFailed = "failed"
)

// sandboxAcquiring is a transfer's charge of the sender's card. Like the rest of the sandbox it keeps no card
// number and no security code.
type sandboxAcquiring struct {
	id       string
	status   string
	err      *APIError
	brand    string
	last4    string
	amount   int64 // what the sender pays (amounts.source)
	currency string
	// recurrent asks for a recurrent token, given in recurrentToken once the payment succeeded.
	recurrent      bool
	recurrentToken string
	returnURL      string
	// redirectURL is the payer's 3-D Secure page; awaiting says the payer is asked to go there (action_required)
	// and auth is what the payer did there: "", passed or failed.
	redirectURL string
	awaiting    bool
	auth        string
	createdAt   time.Time
	finishedAt  time.Time
}

var (
	expiryMonthFormat  = regexp.MustCompile(`^(0[1-9]|1[0-2])$`)
	expiryYearFormat   = regexp.MustCompile(`^[0-9]{2}$`)
	securityCodeFormat = regexp.MustCompile(`^[0-9]{3,4}$`)
	currencyFormat     = regexp.MustCompile(`^[A-Za-z]{3}$`)
)

// multiInit is session/multi/init: a transfer whose payment from the sender's card waits for 3-D Secure
// (action_required, after the delay); once the payer passed it at the redirect, the payout executes and
// payment_finished follows, with no session/confirm. Called with s.mu held.
func (s *Sandbox) multiInit(body []byte, base, project string) (*sandboxSession, *apiFailure) {
	var in multiInitBody
	if f := decode(body, &in); f != nil {
		return nil, f
	}
	var raw struct {
		Metadata json.RawMessage `json:"metadata"`
	}
	_ = json.Unmarshal(body, &raw) // body decoded above

	sender, f := transferCard("payment_details_multi", in.PaymentDetailsMulti, true)
	if f != nil {
		return nil, f
	}
	recipient, f := transferCard("payout_details_multi", in.PayoutDetailsMulti, false)
	if f != nil {
		return nil, f
	}
	if f := checkTransferAmounts(in.Amounts, in.AmountDetails); f != nil {
		return nil, f
	}
	if f := s.checkPromo(project, in.Amounts.Rate.Rate); f != nil {
		return nil, f
	}
	if f := checkParticipants(in.ParticipantDetails); f != nil {
		return nil, f
	}
	if in.PaymentMetadata == nil || strings.TrimSpace(in.PaymentMetadata.ProviderTxID) == "" {
		return nil, invalid("payment_metadata.provider_tx_id is required")
	}

	sess := s.newSession(raw.Metadata)
	now := time.Now()
	behaviour := cardSucceeds
	if recipient.BankCard.Number == SandboxCardDeclined {
		behaviour = cardDeclined
	}
	number := recipient.BankCard.Number
	sess.payment = &sandboxPayment{
		id:        s.newID("po_"),
		status:    paymentInProgress,
		method:    LedgerTransfer,
		brand:     payout.CardBrand(number),
		last4:     number[len(number)-4:],
		behaviour: behaviour,
		amount:    in.AmountDetails.Amount,
		currency:  strings.ToLower(in.AmountDetails.Currency),
		metadata:  raw.Metadata,
		createdAt: now,
	}
	a := &sandboxAcquiring{
		id:          s.newID("pm_"),
		status:      paymentInProgress,
		brand:       payout.CardBrand(sender.BankCard.Number),
		last4:       sender.BankCard.Number[len(sender.BankCard.Number)-4:],
		amount:      in.Amounts.Source.Amount,
		currency:    "rub",
		redirectURL: base + sandbox3DSPrefix + sess.id,
		createdAt:   now,
	}
	if o := in.PaymentOptions; o != nil {
		a.recurrent, a.returnURL = o.Recurrent, o.ReturnURL
	}
	sess.acquiring = a
	sess.status = sessionInProgress
	sess.updatedAt = now
	s.after(sess.id, s.requireAction)
	return sess, nil
}

// transferCard checks the one card of payment_details_multi (the sender's, with expiry and security code) or
// payout_details_multi (the recipient's).
func transferCard(field string, list []paymentMethodBody, sender bool) (*cardBody, *apiFailure) {
	if len(list) != 1 {
		return nil, invalid("%s must hold exactly one card", field)
	}
	pm := list[0]
	field += "[0]"
	switch {
	case pm.Type != "card":
		return nil, invalid("%s.type must be card: the sandbox transfers from cards to cards", field)
	case pm.Card == nil || pm.Card.Type != "bank_card" || pm.Card.BankCard == nil:
		return nil, invalid("%s.card.type must be bank_card, with bank_card", field)
	case !validCardNumber(pm.Card.BankCard.Number):
		return nil, invalid("%s.card.bank_card.number is not a card number: 14 to 19 digits passing the Luhn check", field)
	}
	if !sender {
		return pm.Card, nil
	}
	c := pm.Card.BankCard
	switch {
	case !expiryMonthFormat.MatchString(c.ExpirationMonth):
		return nil, invalid("%s.card.bank_card.expiration_month must be MM", field)
	case !expiryYearFormat.MatchString(c.ExpirationYear):
		return nil, invalid("%s.card.bank_card.expiration_year must be YY", field)
	case !securityCodeFormat.MatchString(c.SecurityCode):
		return nil, invalid("%s.card.bank_card.security_code must be 3 or 4 digits", field)
	}
	return pm.Card, nil
}

// checkTransferAmounts checks amounts (source in rub, two rates with exactly four decimal places from rub to the
// payout currency) and amount_details.
func checkTransferAmounts(a *Amounts, d *AmountDetails) *apiFailure {
	switch {
	case d == nil:
		return invalid("amount_details is required")
	case d.Amount <= 0:
		return invalid("amount_details.amount must be greater than 0")
	case !currencyFormat.MatchString(d.Currency):
		return invalid("amount_details.currency must be an ISO 4217 code")
	case a == nil:
		return invalid("amounts is required")
	case a.Source.Amount <= 0:
		return invalid("amounts.source.amount must be greater than 0")
	case !strings.EqualFold(a.Source.Currency, "rub"):
		return invalid("amounts.source.currency must be rub")
	}
	rates := []struct {
		name string
		ExchangeRate
	}{{"amounts.rate", a.Rate}, {"amounts.provider_rate", a.ProviderRate}}
	for _, r := range rates {
		name := r.name
		switch {
		case !r.Rate.Valid():
			return invalid("%s.rate must be a positive decimal with exactly 4 decimal places", name)
		case !strings.EqualFold(r.FromCurrency, "rub"):
			return invalid("%s.from_currency must be rub", name)
		case !strings.EqualFold(r.ToCurrency, d.Currency):
			return invalid("%s.to_currency must be the currency of amount_details", name)
		}
	}
	return nil
}

// checkParticipants checks that the sender and the recipient are named.
func checkParticipants(p *TransferParticipants) *apiFailure {
	switch {
	case p == nil:
		return invalid("participant_details is required")
	case strings.TrimSpace(p.Sender.FirstName) == "" || strings.TrimSpace(p.Sender.LastName) == "":
		return invalid("participant_details.sender.first_name and last_name are required")
	case strings.TrimSpace(p.Recipient.FirstName) == "" || strings.TrimSpace(p.Recipient.LastName) == "":
		return invalid("participant_details.recipient.first_name and last_name are required")
	}
	return nil
}

// requireAction runs after multi/init: the payer must pass 3-D Secure at the redirect (action_required).
func (s *Sandbox) requireAction(sess *sandboxSession) {
	a := sess.acquiring
	if a == nil || a.status != paymentInProgress || a.awaiting || a.auth != "" {
		return
	}
	a.awaiting = true
	sess.updatedAt = time.Now()
	s.notify(sess, hookActionRequired)
}

// serve3DS is the payer's 3-D Secure page of a transfer: a GET or POST passes it, with result=fail (query or
// form) it fails. Either way the transfer goes on after the delay. A session that does not wait for the payer is
// answered 409, one that does not exist 404.
func (s *Sandbox) serve3DS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "cannot read the form", http.StatusBadRequest)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, sandbox3DSPrefix)
	result := authPassed
	if r.Form.Get("result") == "fail" {
		result = authFailed
	}

	s.mu.Lock()
	sess := s.sessions[id]
	var a *sandboxAcquiring
	if sess != nil {
		a = sess.acquiring
	}
	switch {
	case a == nil:
		s.mu.Unlock()
		http.Error(w, "no transfer session "+id, http.StatusNotFound)
		return
	case !a.awaiting:
		s.mu.Unlock()
		http.Error(w, "session "+id+" does not wait for 3-D Secure", http.StatusConflict)
		return
	}
	a.awaiting = false
	a.auth = result
	sess.updatedAt = time.Now()
	s.after(sess.id, s.settle)
	s.save(sess)
	returnURL := a.returnURL
	s.mu.Unlock()

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	msg := "3-D Secure passed."
	if result == authFailed {
		msg = "3-D Secure failed."
	}
	page := "<!doctype html><title>Bank 131 sandbox: 3-D Secure</title><p>" + msg + "</p>"
	if returnURL != "" {
		page += fmt.Sprintf(`<p><a href="%s">Back to the shop</a></p>`, html.EscapeString(returnURL))
	}
	_, _ = w.Write([]byte(page))
}

// settle runs after the payer's 3-D Secure: the sender's card is charged and the recipient paid (payment_finished),
// or both fail.
func (s *Sandbox) settle(sess *sandboxSession) {
	a, p := sess.acquiring, sess.payment
	if a == nil || p == nil || a.status != paymentInProgress || a.auth == "" || sess.executed {
		return
	}
	now := time.Now()
	sess.executed = true
	var e *APIError
	switch {
	case a.auth == authFailed:
		e = &APIError{Code: Code3DSError, Description: "The payer did not pass 3-D Secure"}
	case p.behaviour == cardDeclined:
		e = &APIError{Code: CodeDeclinedByIssuerBank, Description: "Declined by issuer bank"}
	}
	if e != nil {
		// The sandbox charges the sender only when the payout goes through.
		a.status, a.err, a.finishedAt = paymentFailed, copyError(e), now
		s.fail(sess, *e)
		s.notify(sess, hookPaymentFinished)
		return
	}
	a.status, a.finishedAt = paymentSucceeded, now
	if a.recurrent {
		a.recurrentToken = "rt_" + strings.TrimPrefix(a.id, "pm_")
	}
	s.pay(sess)
	s.notify(sess, hookPaymentFinished)
}

// view is the acquiring payment as the API shows it, with the payout's metadata.
func (a *sandboxAcquiring) view(p *sandboxPayment) AcquiringPayment {
	v := AcquiringPayment{
		ID:             a.id,
		Status:         a.status,
		CreatedAt:      Timestamp{a.createdAt},
		FinishedAt:     Timestamp{a.finishedAt},
		PaymentDetails: &PaymentMethod{Type: "card", Card: &MaskedCard{Brand: a.brand, Last4: a.last4}},
		AmountDetails:  &AmountDetails{Amount: a.amount, Currency: a.currency},
		RecurrentToken: a.recurrentToken,
		Error:          copyError(a.err),
	}
	if p != nil {
		v.Metadata = p.metadata
	}
	if a.awaiting {
		v.CustomerInteraction = &CustomerInteraction{Type: interactionRedirect, Redirect: &Redirect{
			URL: a.redirectURL, BaseURL: a.redirectURL, Method: http.MethodGet}}
	}
	return v
}
