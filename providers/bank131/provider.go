package bank131

import (
	"context"
	"errors"
	"strings"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/redact"
)

// Provider is Bank 131 as a payout provider: card payouts in a session created first, executed on confirm.
type Provider struct {
	client *Client
}

var _ providers.Provider = (*Provider)(nil)

// NewProvider returns the provider that calls Bank 131 through client.
func NewProvider(client *Client) *Provider {
	return &Provider{client: client}
}

// Name returns "bank131".
func (p *Provider) Name() string { return Name }

// Open creates the payout's session, with the payout ID as its metadata. A ref that has a session already is
// returned as it is.
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

// Submit starts the payout to the request's card number in the payout's session. No money moves until Confirm.
func (p *Provider) Submit(ctx context.Context, ref providers.Ref, req payout.Request) (providers.Outcome, error) {
	if err := needSession(opStart, ref); err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	if req.Destination.Card == nil || req.Destination.Card.Number == "" {
		return providers.Outcome{Ref: ref}, &providers.Error{Provider: Name, Op: opStart, Certainty: providers.Known,
			Err: errors.New("bank131 pays out to card numbers only")}
	}
	s, err := p.client.StartPayout(ctx, StartPayout{
		SessionID:      ref.SessionID,
		CardNumber:     req.Destination.Card.Number,
		RecipientName:  req.Recipient.FullName,
		Amount:         req.Amount.Value,
		Currency:       req.Amount.Currency,
		Metadata:       ref.PayoutID,
		IdempotencyKey: ref.PayoutID + ":start",
	})
	if err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	return outcome(ref, s), nil
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

// Status asks the bank where the payout's session stands.
func (p *Provider) Status(ctx context.Context, ref providers.Ref) (providers.Outcome, error) {
	if err := needSession(opStatus, ref); err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	s, err := p.client.Status(ctx, ref.SessionID)
	if err != nil {
		return providers.Outcome{Ref: ref}, err
	}
	return outcome(ref, s), nil
}

// needSession fails, with nothing sent, when the payout has no session yet.
func needSession(op string, ref providers.Ref) error {
	if ref.SessionID != "" {
		return nil
	}
	return &providers.Error{Provider: Name, Op: op, Certainty: providers.Known,
		Err: errors.New("payout has no bank131 session: Open it first")}
}

// outcome reads where a payout stands from its session: the first payment decides, the session fills in.
func outcome(ref providers.Ref, s Session) providers.Outcome {
	if s.ID != "" {
		ref.SessionID = s.ID
	}
	o := providers.Outcome{Ref: ref}
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
	if pm.PaymentMethod != nil && pm.PaymentMethod.Card != nil {
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
