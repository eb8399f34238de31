package mandarin

import (
	"context"
	"strings"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/redact"
)

// Details keys of an Outcome.
const (
	DetailUserWebLink = "user_web_link"
	DetailFIO         = providers.DetailRecipientName
	DetailState       = "state"
	DetailSBPStatus   = "sbp_status"
)

// ProviderOptions are what the provider sends with every payout.
type ProviderOptions struct {
	// CallbackURL receives Mandarin's callbacks (our receiver): urls.callback.
	CallbackURL string
	// ReturnURL is where the payment page sends the recipient back: urls.return.
	ReturnURL string
	// AllowPaymentPage lets a card payout with neither number nor token go to Mandarin's payment page, where the
	// recipient enters the card: the outcome carries Details["user_web_link"]. When false such a payout is refused.
	AllowPaymentPage bool
	// DefaultEmail and DefaultPhone fill customerInfo.email and .phone (+7XXXXXXXXXX), which Mandarin requires,
	// when the recipient has none (Recipient.Email; Recipient.Phone, else Recipient.Address.Phone): a fallback.
	DefaultEmail string
	DefaultPhone string
	// Channel is the account channel payouts are paid from, for Balance: openbank_direct (the default) or
	// psb_direct.
	Channel string
}

// Provider is Mandarin as a payout provider: a payout is one asynchronous transaction, its result told by
// callback or by the operation's status. SBP payouts without the recipient's name wait for Confirm or Cancel.
type Provider struct {
	client *Client
	opts   ProviderOptions
}

var _ providers.Provider = (*Provider)(nil)

// NewProvider returns the provider that calls Mandarin through client.
func NewProvider(client *Client, opts ProviderOptions) *Provider {
	if opts.Channel == "" {
		opts.Channel = ChannelOpenbank
	}
	return &Provider{client: client, opts: opts}
}

// Name returns "mandarin".
func (p *Provider) Name() string { return Name }

// Open returns ref unchanged: Mandarin has no step before the payout.
func (p *Provider) Open(_ context.Context, ref providers.Ref) (providers.Ref, error) {
	return ref, nil
}

// Submit creates the payout transaction with our payout ID as orderId. The outcome is pending with the operation
// id in Ref.SessionID (and, for an SBP payout without the name, in Ref.PaymentID too: the id that Confirm and
// Cancel use). Submitting again with the same payout ID is what Mandarin prescribes when an answer was lost: a
// payout that succeeded or is in progress is refused as duplicate_order_id (Unknown), one that failed is made anew.
func (p *Provider) Submit(ctx context.Context, ref providers.Ref, req payout.Request) (providers.Outcome, error) {
	tr, sbpNoName, err := p.transaction(ctx, ref, req)
	if err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	tx, err := p.client.CreateTransaction(ctx, tr)
	if err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	ref.SessionID = tx.ID
	if sbpNoName {
		ref.PaymentID = tx.ID
	}
	o := providers.Outcome{Ref: ref, State: providers.StatePending, Amount: &payout.Amount{Value: req.Amount.Value,
		Currency: "RUB"}}
	if tx.UserWebLink != "" {
		o.Details = map[string]string{DetailUserWebLink: tx.UserWebLink}
	}
	if c := req.Destination.Card; c != nil && (c.Number != "" || c.Token != "") {
		o.Card = req.Destination.Masked().Card
	}
	return o, nil
}

// transaction maps a payout onto Mandarin's request, and reports whether it is an SBP payout without the name.
func (p *Provider) transaction(ctx context.Context, ref providers.Ref, req payout.Request) (TransactionRequest, bool,
	error) {
	refuse := func(msg string) error {
		return &providers.Error{Provider: Name, Op: opCreate, Certainty: providers.Known, Code: CodeUnsupportedPayout,
			Description: msg}
	}
	if ref.PayoutID == "" {
		return TransactionRequest{}, false, refuse("the payout id (orderId) is required")
	}
	if !strings.EqualFold(req.Amount.Currency, "RUB") {
		return TransactionRequest{}, false, refuse("mandarin pays out in RUB only")
	}
	if req.Amount.Value <= 0 {
		return TransactionRequest{}, false, refuse("the amount must be positive")
	}
	r := req.Recipient
	phone, email := p.customer(req)
	tr := TransactionRequest{
		Payment:  Payment{OrderID: ref.PayoutID, Action: ActionPayout, Price: FormatPrice(req.Amount.Value)},
		Metadata: req.Metadata,
	}
	if p.opts.CallbackURL != "" || p.opts.ReturnURL != "" {
		tr.URLs = &URLs{Callback: p.opts.CallbackURL, Return: p.opts.ReturnURL}
	}
	info := CustomerInfo{Email: email, Phone: phone}
	d := req.Destination
	switch {
	case d.SBP != nil:
		if d.SBP.Phone == "" || d.SBP.BankID == "" {
			return TransactionRequest{}, false, refuse("an SBP payout needs a phone and a bank id")
		}
		bic := d.SBP.BankBIC
		if bic == "" {
			var err error
			if bic, err = p.bic(ctx, d.SBP.BankID); err != nil {
				return TransactionRequest{}, false, err
			}
		}
		tr.Target = &Target{SBP: &SBPTarget{BankID: d.SBP.BankID, BankBIC: bic}}
		if !d.SBP.WithoutName {
			parts := strings.Fields(r.FullName)
			if len(parts) < 2 {
				return TransactionRequest{}, false, refuse("an SBP payout with the name needs the recipient's " +
					"last and first name")
			}
			info.LastName, info.FirstName = parts[0], parts[1]
			info.MiddleName = strings.Join(parts[2:], " ")
		}
		tr.CustomerInfo = &info
		return tr, d.SBP.WithoutName, nil
	case d.Card != nil && d.Card.Token != "":
		tr.Target = &Target{Card: d.Card.Token}
	case d.Card != nil && d.Card.Number != "":
		tr.Target = &Target{KnownCardNumber: d.Card.Number}
	case d.Type == payout.DestinationPaymentPage && p.opts.AllowPaymentPage:
		// No target: the payment page.
	default:
		return TransactionRequest{}, false, refuse("a card number or token, or an SBP phone and bank, is required")
	}
	if info != (CustomerInfo{}) {
		tr.CustomerInfo = &info
	}
	return tr, false, nil
}

// customer is the phone and email sent as customerInfo (seed 004: required with a card number, a token, the
// payment page and SBP): an SBP payout's phone, else the recipient's phone, else the billing address's; the
// recipient's email; the configured defaults stand in only for what the request does not give.
func (p *Provider) customer(req payout.Request) (phone, email string) {
	r := req.Recipient
	switch {
	case req.Destination.SBP != nil:
		phone = req.Destination.SBP.Phone
	case r.Phone != "":
		phone = r.Phone
	case r.Address != nil && r.Address.Phone != "":
		phone = r.Address.Phone
	default:
		phone = p.opts.DefaultPhone
	}
	email = r.Email
	if email == "" {
		email = p.opts.DefaultEmail
	}
	return phone, email
}

// bic finds an SBP bank's BIC in the bank list. A list that cannot be read now keeps its error's certainty, so that
// a passing fault (a 504) is tried again rather than taken as a refusal of the payout.
func (p *Provider) bic(ctx context.Context, bankID string) (string, error) {
	banks, err := p.client.Banks(ctx, "")
	if err != nil {
		return "", err
	}
	for _, b := range banks {
		if b.BankID == bankID {
			return b.BankBIC, nil
		}
	}
	return "", &providers.Error{Provider: Name, Op: opBanks, Certainty: providers.Known, Code: CodeUnknownBank,
		Description: "bank " + bankID + " is not in Mandarin's SBP bank list"}
}

// Confirm confirms an SBP payout without the recipient's name (ref.PaymentID) whose status is success: the money
// goes. The outcome is pending; the callback or Status tells the end. Any other payout: Known not_supported.
func (p *Provider) Confirm(ctx context.Context, ref providers.Ref) (providers.Outcome, error) {
	if ref.PaymentID == "" {
		return providers.Outcome{Ref: ref}, notSupported(opSBPConfirm)
	}
	if err := p.client.ConfirmSBP(ctx, ref.PaymentID); err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	return providers.Outcome{Ref: ref, State: providers.StatePending}, nil
}

// Cancel rejects an SBP payout without the recipient's name (ref.PaymentID) that is not confirmed yet: the
// outcome is cancelled. Any other payout: Known not_supported.
func (p *Provider) Cancel(ctx context.Context, ref providers.Ref) (providers.Outcome, error) {
	if ref.PaymentID == "" {
		return providers.Outcome{Ref: ref}, notSupported(opSBPReject)
	}
	if err := p.client.RejectSBP(ctx, ref.PaymentID); err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	return providers.Outcome{Ref: ref, State: providers.StateCancelled}, nil
}

func notSupported(op string) error {
	return &providers.Error{Provider: Name, Op: op, Certainty: providers.Known, Code: CodeNotSupported,
		Description: "only an SBP payout without the recipient's name waits for confirmation"}
}

// Status asks where the payout stands by its operation id (ref.SessionID): only the state success is success;
// failed is failure; pendingExecution, none, unknown, payout-only and anything else are pending. For an SBP payout
// without the name (ref.PaymentID) that is not final, it also asks the SBP status: success means the bank checked
// the recipient and the payout waits for Confirm (StateAwaitingConfirm, Details[DetailFIO] the bank's name of the
// recipient); fail is failure.
//
// Without an operation id (the create's answer was lost) Status fails Unknown with operation_id_unknown: Mandarin
// has no lookup by orderId, and Status moves no money, so it does not send the payout again. Submit with the same
// payout ID is the lookup Mandarin prescribes.
func (p *Provider) Status(ctx context.Context, ref providers.Ref) (providers.Outcome, error) {
	if ref.SessionID == "" {
		return providers.Outcome{Ref: ref}, &providers.Error{Provider: Name, Op: opOperation,
			Certainty: providers.Unknown, Code: CodeOperationIDUnknown,
			Description: "no operation id: submit again with the same orderId"}
	}
	op, err := p.client.Operation(ctx, ref.SessionID)
	if err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	o := operationOutcome(ref, op)
	if o.State.Final() || ref.PaymentID == "" {
		return o, nil
	}
	st, err := p.client.SBPStatus(ctx, ref.PaymentID)
	if err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	o.Details[DetailSBPStatus] = st.Status
	if st.FIO != "" {
		o.Details[DetailFIO] = redact.Text(st.FIO)
	}
	switch strings.ToLower(st.Status) {
	case StatusSuccess:
		o.State = providers.StateAwaitingConfirm
	case StatusFail, StatusFailed:
		o.State, o.ErrorCode, o.ErrorDescription = providers.StateFailed, codeSBPPrefix+strings.ToLower(st.Status),
			"the recipient's bank refused the SBP payout"
	}
	return o, nil
}

// operationOutcome reads where a payout stands from its operation.
func operationOutcome(ref providers.Ref, op Operation) providers.Outcome {
	o := providers.Outcome{Ref: ref, State: providers.StatePending, Details: map[string]string{DetailState: op.State}}
	switch strings.ToLower(op.State) {
	case StateSuccess:
		o.State = providers.StateSucceeded
	case StateFailed, StatusFail:
		o.State, o.ErrorCode = providers.StateFailed, StateFailed
	}
	if op.UserWebLink != "" {
		o.Details[DetailUserWebLink] = op.UserWebLink
	}
	if c := op.Card; c != nil && len(c.CardNumber) >= 4 {
		o.Card = &payout.MaskedCard{Brand: strings.ToLower(c.Brand), Last4: c.CardNumber[len(c.CardNumber)-4:]}
	}
	return o
}

// SBPBanks lists the banks that take SBP payouts, those whose name contains name (any case) when it is not empty.
func (p *Provider) SBPBanks(ctx context.Context, name string) ([]providers.Bank, error) {
	banks, err := p.client.Banks(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make([]providers.Bank, len(banks))
	for i, b := range banks {
		out[i] = providers.Bank{ID: b.BankID, Name: b.BankName, BIC: b.BankBIC}
	}
	return out, nil
}

// Balance returns the balance of an account channel (openbank_direct or psb_direct); "" is
// ProviderOptions.Channel.
func (p *Provider) Balance(ctx context.Context, channel string) (payout.Amount, error) {
	if channel == "" {
		channel = p.opts.Channel
	}
	b, err := p.client.Balance(ctx, channel)
	return b.Amount, err
}
