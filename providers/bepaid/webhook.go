package bepaid

import (
	"crypto/rsa"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/redact"
)

// Webhooks verifies bePaid's notifications and verification requests and translates them. Both can carry the
// shop's credentials as HTTP Basic auth and a Content-Signature over the raw body made with the shop's key, which
// bePaid holds; which of them is believed is its NotifyAuth.
type Webhooks struct {
	shopID    string
	secretKey string
	key       *rsa.PublicKey
	auth      NotifyAuth
}

var (
	_ providers.Webhooks      = (*Webhooks)(nil)
	_ providers.Verifications = (*Webhooks)(nil)
)

// NotifyAuth is what authenticates bePaid's notifications and verification requests (BEPAID_NOTIFY_AUTH). Seed 003
// says nothing of it; bePaid's PHP SDK believes a valid Content-Signature alone or, without one, the Basic
// credentials alone.
type NotifyAuth string

const (
	// NotifyAuthSignature believes a valid Content-Signature; Basic credentials, when sent, must be the shop's.
	NotifyAuthSignature NotifyAuth = "signature"
	// NotifyAuthBasic believes the shop's Basic credentials; a Content-Signature, when sent and a key is
	// configured, must verify.
	NotifyAuthBasic NotifyAuth = "basic"
	// NotifyAuthBoth wants both the shop's Basic credentials and a valid Content-Signature.
	NotifyAuthBoth NotifyAuth = "both"
)

// ParseNotifyAuth reads BEPAID_NOTIFY_AUTH: signature, basic or both; empty means signature, which needs a public
// key (hasKey), as both does. Basic alone is never a default.
func ParseNotifyAuth(s string, hasKey bool) (NotifyAuth, error) {
	a := NotifyAuth(s)
	switch a {
	case "":
		a = NotifyAuthSignature
	case NotifyAuthSignature, NotifyAuthBasic, NotifyAuthBoth:
	default:
		return "", fmt.Errorf("%q is not signature, basic or both", s)
	}
	if a != NotifyAuthBasic && !hasKey {
		return "", fmt.Errorf("%s needs bePaid's public key; set it, or ask for basic", a)
	}
	return a, nil
}

// NewWebhooks returns the translator that trusts requests signed by bepaidPublicKey (the shop's public key from
// bePaid's back office; see ParsePublicKey) and, when they carry Basic credentials, carrying the shop's: NotifyAuth
// signature; see WithAuth for the others. With empty credentials, or a nil key (except with basic), every request is
// rejected.
func NewWebhooks(shopID, secretKey string, bepaidPublicKey *rsa.PublicKey) *Webhooks {
	return &Webhooks{shopID: shopID, secretKey: secretKey, key: bepaidPublicKey, auth: NotifyAuthSignature}
}

// WithAuth returns a copy of w that authenticates requests as a says.
func (w *Webhooks) WithAuth(a NotifyAuth) *Webhooks {
	c := *w
	c.auth = a
	return &c
}

// authenticate checks the Basic credentials and the signature of the raw body, as w.auth says. Credentials that
// are sent must be the shop's and a signature that is sent must verify, whatever is asked for; a request that sends
// neither is never believed.
func (w *Webhooks) authenticate(header http.Header, body []byte) error {
	if w.shopID == "" || w.secretKey == "" {
		return providers.ErrBadSignature
	}
	_, _, sentBasic := (&http.Request{Header: header}).BasicAuth()
	_, sentSig := header[http.CanonicalHeaderKey(headerSignature)]
	wantBasic := w.auth == NotifyAuthBasic || w.auth == NotifyAuthBoth
	wantSig := w.auth == NotifyAuthSignature || w.auth == NotifyAuthBoth
	switch {
	case w.auth != NotifyAuthSignature && w.auth != NotifyAuthBasic && w.auth != NotifyAuthBoth:
		return providers.ErrBadSignature
	case (wantBasic || sentBasic) && !w.basicOK(header):
		return providers.ErrBadSignature
	case wantSig && w.key == nil:
		return providers.ErrBadSignature
	case (wantSig || (sentSig && w.key != nil)) && Verify(w.key, body, header.Get(headerSignature)) != nil:
		return providers.ErrBadSignature
	}
	return nil
}

// basicOK reports whether the request carries the shop's Basic credentials.
func (w *Webhooks) basicOK(header http.Header) bool {
	user, pass, ok := (&http.Request{Header: header}).BasicAuth()
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(w.shopID))
	passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(w.secretKey))
	return ok && userOK&passOK == 1
}

// Translate authenticates a notification, then reads it. A final status (successful or failed) becomes one
// payment_finished event for the payout named by tracking_id; pending and incomplete yield no events.
func (w *Webhooks) Translate(header http.Header, body []byte) ([]providers.Event, error) {
	if err := w.authenticate(header, body); err != nil {
		return nil, fmt.Errorf("bepaid notification: %w", err)
	}
	tx, err := readHook(body, "notification")
	if err != nil {
		return nil, err
	}
	switch tx.Status {
	case StatusSuccessful, StatusFailed:
	default:
		return nil, nil // not final: the payout waits for the next notification, or asks
	}
	return []providers.Event{{
		Kind:     providers.EventPaymentFinished,
		Provider: Name,
		Outcome:  outcome(providers.Ref{PayoutID: tx.TrackingID}, tx),
	}}, nil
}

// ParseVerification authenticates a verification request like Translate, then reads the payout it asks about.
func (w *Webhooks) ParseVerification(header http.Header, body []byte) (providers.Verification, error) {
	if err := w.authenticate(header, body); err != nil {
		return providers.Verification{}, fmt.Errorf("bepaid verification: %w", err)
	}
	tx, err := readHook(body, "verification request")
	if err != nil {
		return providers.Verification{}, err
	}
	return providers.Verification{
		Provider:      Name,
		PayoutID:      tx.TrackingID,
		TransactionID: tx.UID,
		Amount:        payout.Amount{Value: tx.Amount, Currency: strings.ToUpper(tx.Currency)},
		CreatedAt:     tx.CreatedAt,
	}, nil
}

// verificationAnswer is the body bePaid expects from a verification_url: code 0 goes on, any other code declines.
// uid, amount and created_at are copied from the request.
type verificationAnswer struct {
	Code            int    `json:"code"`
	UID             string `json:"uid"`
	Amount          int64  `json:"amount"`
	Message         string `json:"message,omitempty"`
	FriendlyMessage string `json:"friendly_message,omitempty"`
	CreatedAt       string `json:"created_at,omitempty"`
}

// defaultDeclineMessage is the message of a decline that gives none.
const defaultDeclineMessage = "Verification declined"

// Answer is the body of our answer to v: {"code":0,...} to go on, {"code":1,...,"message":...} to decline.
func (w *Webhooks) Answer(v providers.Verification, a providers.VerificationAnswer) []byte {
	ans := verificationAnswer{UID: v.TransactionID, Amount: v.Amount.Value, CreatedAt: v.CreatedAt}
	if !a.Approved {
		msg := a.Message
		if msg == "" {
			msg = defaultDeclineMessage
		}
		ans.Code, ans.Message, ans.FriendlyMessage = 1, msg, msg
	}
	b, _ := json.Marshal(ans) // plain fields: always marshals
	return b
}

// readHook reads {"transaction": {...}} with a uid and a tracking_id.
func readHook(body []byte, what string) (Transaction, error) {
	var env transactionEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Transaction{}, &providers.MalformedError{Reason: "bepaid: " + what + " is not JSON: " + redact.Error(err).Error()}
	}
	tx := env.Transaction
	switch {
	case tx == nil:
		return Transaction{}, &providers.MalformedError{Reason: "bepaid: " + what + " has no transaction"}
	case tx.UID == "":
		return Transaction{}, &providers.MalformedError{Reason: "bepaid: " + what + " has no transaction uid"}
	case tx.TrackingID == "":
		return Transaction{}, &providers.MalformedError{Reason: "bepaid: " + what + " for transaction " + tx.UID +
			" has no tracking_id"}
	}
	return *tx, nil
}
