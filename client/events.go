package client

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the header that signs every event payoutflow posts to a backend:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">", with one v1 per secret while a secret is rotated.
const SignatureHeader = "Payoutflow-Signature"

// DefaultTolerance is how far an event's signing time may be from now: older ones are refused as replays.
const DefaultTolerance = 5 * time.Minute

// Event is one event payoutflow sends (or GET /v1/events lists). Events of a payout are numbered by Sequence; the
// same event (a retry) has the same ID, which a backend uses to ignore repeats. Data is the payout as
// GET /v1/payouts/{id} returned it when the event happened.
type Event struct {
	ID       string    `json:"id"`
	Type     string    `json:"type"`
	Created  time.Time `json:"created"`
	PayoutID string    `json:"payout_id"`
	Sequence int       `json:"sequence"`
	Data     Payout    `json:"data"`
}

// EventPage is a page of GET /v1/events.
type EventPage struct {
	Events []Event `json:"events"`
	// HasMore tells that more events follow: ask again after the last one's ID.
	HasMore  bool      `json:"has_more"`
	Response *Response `json:"-"`
}

// Events lists up to limit events after the event id after ("" for the first), oldest first (limit 0: the API's
// 20). A backend keeps the last ID it handled and asks from there, to catch up on what its endpoint missed.
func (c *Client) Events(ctx context.Context, after string, limit int) (*EventPage, error) {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var p EventPage
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/events", query: q, retry: retrySafe}, &p)
	if err != nil {
		return nil, err
	}
	p.Response = resp
	return &p, nil
}

// Event types.
const (
	EventPayoutCreated          = "payout.created"
	EventPayoutAwaitingApproval = "payout.awaiting_approval"
	EventPayoutConfirmed        = "payout.confirmed"
	EventPayoutSucceeded        = "payout.succeeded"
	EventPayoutFailed           = "payout.failed"
	EventPayoutCancelled        = "payout.cancelled"
	EventPayoutNeedsAttention   = "payout.needs_attention"
	EventPayoutContradiction    = "payout.contradiction"
)

// Reasons a signature is refused; a *SignatureError matches one of them with errors.Is.
var (
	// ErrNoSignature: the header is missing or carries no v1.
	ErrNoSignature = errors.New("payoutflow: no event signature")
	// ErrBadSignatureHeader: the header is not "t=<unix seconds>,v1=<hex>[,v1=<hex>…]".
	ErrBadSignatureHeader = errors.New("payoutflow: malformed event signature header")
	// ErrSignatureTooOld: the signing time is further from now than the tolerance (a replay, or a skewed clock).
	ErrSignatureTooOld = errors.New("payoutflow: event signature outside the tolerance")
	// ErrSignatureMismatch: no v1 matches the body under any of the secrets.
	ErrSignatureMismatch = errors.New("payoutflow: event signature does not match")
)

// SignatureError is why an event's signature was refused: Reason is one of ErrNoSignature, ErrBadSignatureHeader,
// ErrSignatureTooOld, ErrSignatureMismatch.
type SignatureError struct {
	Reason error
	Detail string
}

func (e *SignatureError) Error() string {
	if e.Detail == "" {
		return e.Reason.Error()
	}
	return e.Reason.Error() + ": " + e.Detail
}

// Unwrap makes errors.Is(err, ErrSignatureMismatch) and the other reasons work.
func (e *SignatureError) Unwrap() error { return e.Reason }

// Verifier checks the signatures of the events an endpoint receives.
type Verifier struct {
	// Secrets are the endpoint's secrets (EVENTS_SECRET on payoutflow's side); a signature under any of them is
	// taken, so that a secret can be rotated without refusing events.
	Secrets []string
	// Tolerance is how far the signing time may be from now; DefaultTolerance when zero.
	Tolerance time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// VerifyEvent checks that header signs body under one of secrets within DefaultTolerance, and decodes the event.
func VerifyEvent(body []byte, header string, secrets ...string) (Event, error) {
	return Verifier{Secrets: secrets}.Event(body, header)
}

// Verify checks that header (the Payoutflow-Signature value) signs body.
func (v Verifier) Verify(body []byte, header string) error {
	t, sigs, err := parseSignature(header)
	if err != nil {
		return err
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tolerance := v.Tolerance
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if age := now().Sub(time.Unix(t, 0)); age > tolerance || age < -tolerance {
		return &SignatureError{Reason: ErrSignatureTooOld, Detail: fmt.Sprintf("signed %s from now, tolerance %s", age.Round(time.Second), tolerance)}
	}
	ts := strconv.FormatInt(t, 10)
	for _, secret := range v.Secrets {
		if secret == "" {
			continue
		}
		want := mac(secret, ts, body)
		for _, sig := range sigs {
			if hmac.Equal(sig, want) {
				return nil
			}
		}
	}
	return &SignatureError{Reason: ErrSignatureMismatch}
}

// Event verifies body against header and decodes the event it carries.
func (v Verifier) Event(body []byte, header string) (Event, error) {
	var ev Event
	if err := v.Verify(body, header); err != nil {
		return ev, err
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return ev, fmt.Errorf("payoutflow: decode event: %w", err)
	}
	return ev, nil
}

// maxEventBody bounds the body Request reads.
const maxEventBody = 1 << 20

// Request reads, verifies and decodes the event an endpoint's HTTP handler received. Answer 2xx once it is handled
// (anything else makes payoutflow try again later), and 400 to an error.
func (v Verifier) Request(r *http.Request) (Event, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEventBody+1))
	if err != nil {
		return Event{}, fmt.Errorf("payoutflow: read event: %w", err)
	}
	if len(body) > maxEventBody {
		return Event{}, fmt.Errorf("payoutflow: event body over %d bytes", maxEventBody)
	}
	return v.Event(body, r.Header.Get(SignatureHeader))
}

// Sign is the Payoutflow-Signature value of body signed at t with each of secrets: what payoutflow sends, and what a
// backend's tests can sign their own events with.
func Sign(t time.Time, body []byte, secrets ...string) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	parts := []string{"t=" + ts}
	for _, secret := range secrets {
		parts = append(parts, "v1="+hex.EncodeToString(mac(secret, ts, body)))
	}
	return strings.Join(parts, ",")
}

// mac is the HMAC-SHA256 of "<ts>.<body>" under secret.
func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return m.Sum(nil)
}

// parseSignature reads "t=<unix seconds>,v1=<hex>[,v1=<hex>…]"; other schemes are skipped.
func parseSignature(header string) (int64, [][]byte, error) {
	if strings.TrimSpace(header) == "" {
		return 0, nil, &SignatureError{Reason: ErrNoSignature, Detail: "no " + SignatureHeader + " header"}
	}
	var t int64 = -1
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return 0, nil, &SignatureError{Reason: ErrBadSignatureHeader, Detail: fmt.Sprintf("%q is not key=value", part)}
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n <= 0 || t != -1 {
				return 0, nil, &SignatureError{Reason: ErrBadSignatureHeader, Detail: "t must be one Unix time in seconds"}
			}
			t = n
		case "v1":
			sig, err := hex.DecodeString(val)
			if err != nil || len(sig) != sha256.Size {
				return 0, nil, &SignatureError{Reason: ErrBadSignatureHeader, Detail: "v1 must be 64 hex digits"}
			}
			sigs = append(sigs, sig)
		}
	}
	switch {
	case t == -1:
		return 0, nil, &SignatureError{Reason: ErrBadSignatureHeader, Detail: "no t"}
	case len(sigs) == 0:
		return 0, nil, &SignatureError{Reason: ErrNoSignature, Detail: "no v1 signature"}
	}
	return t, sigs, nil
}
