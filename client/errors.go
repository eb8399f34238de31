package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Error is an error the API answered: its HTTP status and the body {"error": {"code", "message", "field",
// "request_id"}}. Use errors.As to read it, or errors.Is with the sentinels (ErrNotFound, …).
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the API's stable error code, such as "payout_not_found" or "idempotency_key_reused"; "" when the
	// answer was not the API's (a proxy's 502).
	Code string
	// Field names the request field (or header, or query parameter) at fault, when there is one.
	Field string
	// Message is the API's explanation for a person.
	Message string
	// RequestID is the answer's request id (X-Request-Id), to quote to the API's operators.
	RequestID string
	// Method and Path are the request's.
	Method, Path string
	// RetryAfter is what the Retry-After header asked for; zero without one.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "payoutflow: %s %s: %d", e.Method, e.Path, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Field != "" {
		b.WriteString(" (field " + e.Field + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" [request " + e.RequestID + "]")
	}
	return b.String()
}

// Sentinels to test an *Error with errors.Is.
var (
	// ErrNotFound: 404, such as no payout with that id.
	ErrNotFound = errors.New("payoutflow: not found")
	// ErrConflict: 409, such as a payout that cannot take the decision now, or an idempotency key reused with
	// another body.
	ErrConflict = errors.New("payoutflow: conflict")
	// ErrInvalid: 400 or 422, a request the API refused as malformed or invalid; Error.Field names the field.
	ErrInvalid = errors.New("payoutflow: invalid request")
	// ErrUnauthorized: 401, a missing or unknown API key.
	ErrUnauthorized = errors.New("payoutflow: unauthorized")
	// ErrForbidden: 403, the API key may not do this.
	ErrForbidden = errors.New("payoutflow: forbidden")
	// ErrRateLimited: 429.
	ErrRateLimited = errors.New("payoutflow: rate limited")
)

// Is makes errors.Is(err, ErrNotFound) and the other sentinels match by status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrInvalid:
		return e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnprocessableEntity
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// IsNotFound reports whether err is the API's 404.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsConflict reports whether err is the API's 409.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsInvalid reports whether err is the API's 400 or 422.
func IsInvalid(err error) bool { return errors.Is(err, ErrInvalid) }

// ErrorCode is the API's error code in err ("payout_not_found", …), "" when err is not an *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// newError reads an error answer.
func newError(method, path string, a *answer) *Error {
	e := &Error{StatusCode: a.StatusCode, Method: method, Path: path, RequestID: a.RequestID,
		RetryAfter: retryAfter(a.Header.Get("Retry-After"), time.Now())}
	var body struct {
		Error struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			Field     string `json:"field"`
			RequestID string `json:"request_id"`
		} `json:"error"`
	}
	if json.Unmarshal(a.body, &body) == nil && body.Error.Code != "" {
		e.Code, e.Message, e.Field = body.Error.Code, body.Error.Message, body.Error.Field
		if e.RequestID == "" {
			e.RequestID = body.Error.RequestID
		}
		return e
	}
	// Not the API's answer (a proxy's): its status text and the start of its body.
	msg := strings.TrimSpace(string(a.body))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	e.Message = strings.TrimSpace(http.StatusText(a.StatusCode) + " " + msg)
	return e
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var secs int
	if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// transportError is a request that got no answer: a connection refused, reset or timed out.
type transportError struct {
	method, path string
	err          error
	// afterAnswer tells that the answer's headers came and its body did not.
	afterAnswer bool
}

func (e *transportError) Error() string {
	return fmt.Sprintf("payoutflow: %s %s: no answer: %v", e.method, e.path, e.err)
}

func (e *transportError) Unwrap() error { return e.err }

// unsent reports whether the request provably never reached the API: the connection could not be made.
func (e *transportError) unsent() bool {
	var op *net.OpError
	return !e.afterAnswer && errors.As(e.err, &op) && op.Op == "dial"
}
