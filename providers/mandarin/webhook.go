package mandarin

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/redact"
)

// signField is the form field that carries a callback's sign.
const signField = "sign"

// The answer Mandarin expects to a callback: HTTP 200 with body OK.
const (
	AckContentType = "text/plain; charset=utf-8"
	AckBody        = "OK"
)

// Webhooks verifies Mandarin's callbacks and translates them. A callback is a form-urlencoded POST whose sign
// field signs all the other fields with the merchant's secret (see Sign).
type Webhooks struct {
	merchantID string
	secret     string
}

var _ providers.Webhooks = (*Webhooks)(nil)

// NewWebhooks returns the translator that trusts callbacks signed with secret. With an empty secret every callback
// is rejected. When merchantID is set, a callback naming another merchant is rejected too.
func NewWebhooks(merchantID, secret string) *Webhooks {
	return &Webhooks{merchantID: merchantID, secret: secret}
}

// Acknowledge is the answer a callback expects once it is taken: HTTP 200 with body OK. Anything else makes
// Mandarin send it again.
func (w *Webhooks) Acknowledge() (contentType string, body []byte) {
	return AckContentType, []byte(AckBody)
}

// Translate verifies the sign of a callback before it reads anything else, then reads it. A transaction callback
// with a final status (success; failed or fail) becomes one payment_finished event for the payout named by
// orderId, with the transaction id as Ref.SessionID; other statuses and card-binding callbacks yield no events.
func (w *Webhooks) Translate(_ http.Header, body []byte) ([]providers.Event, error) {
	fields, err := url.ParseQuery(string(body))
	if err != nil || w.secret == "" || !VerifySign(fields, w.secret) {
		return nil, fmt.Errorf("mandarin callback: %w", providers.ErrBadSignature)
	}
	if mid := fields.Get("merchantId"); w.merchantID != "" && mid != "" &&
		subtle.ConstantTimeCompare([]byte(mid), []byte(w.merchantID)) != 1 {
		return nil, fmt.Errorf("mandarin callback for another merchant: %w", providers.ErrBadSignature)
	}
	if t := fields.Get("object_type"); t != "" && t != "transaction" {
		return nil, nil // a card binding: no payout's business
	}
	orderID, txID := fields.Get("orderId"), fields.Get("transaction")
	switch {
	case txID == "":
		return nil, &providers.MalformedError{Reason: "mandarin: callback has no transaction"}
	case orderID == "":
		return nil, &providers.MalformedError{Reason: "mandarin: callback for transaction " + txID +
			" has no orderId"}
	}
	status := strings.ToLower(fields.Get("status"))
	o := providers.Outcome{Ref: providers.Ref{PayoutID: orderID, SessionID: txID},
		Details: map[string]string{"status": status}}
	switch status {
	case StatusSuccess:
		o.State = providers.StateSucceeded
	case StatusFailed, StatusFail:
		o.State, o.ErrorCode = providers.StateFailed, status
		if msg := fields.Get("error"); msg != "" {
			o.ErrorDescription = redact.Text(msg)
		}
	default:
		return nil, nil // not final: wait for the next callback, or ask
	}
	if price := fields.Get("price"); price != "" {
		if v, err := ParsePrice(price); err == nil {
			o.Amount = &payout.Amount{Value: v, Currency: "RUB"}
		}
	}
	if n := fields.Get("card_number"); len(n) >= 4 {
		o.Card = &payout.MaskedCard{Last4: n[len(n)-4:]}
	}
	return []providers.Event{{Kind: providers.EventPaymentFinished, Provider: Name, Outcome: o}}, nil
}
