package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"
)

// RetryPolicy is how the client repeats a request that is safe to repeat: a read, a create with its idempotency
// key, or any request that provably never reached the API. It waits MinBackoff, then twice as long each time up to
// MaxBackoff (with jitter), or longer when the API's Retry-After asks.
type RetryPolicy struct {
	// MaxAttempts is how many times a request is sent at most: 0 or 1 never repeats it; a negative number repeats
	// it until its context ends.
	MaxAttempts int
	MinBackoff  time.Duration
	MaxBackoff  time.Duration
}

// DefaultRetryPolicy sends a request up to 4 times over about 3 s.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, MinBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second}

// retryKind is how a request may be repeated.
type retryKind int

const (
	// retrySafe: repeating the request changes nothing (a GET, a create with its idempotency key), so it is
	// repeated after any failure that may pass: no answer, 429, the API's internal_error 500, 502, 503, 504.
	retrySafe retryKind = iota
	// retryUnsent: repeating a request that reached the API could act twice or misreport (a confirm answered 409
	// already_approved), so it is repeated only when it provably did not reach it: the connection was refused, or
	// 429 (refused before it was handled).
	retryUnsent
)

// next tells whether attempt, which failed with err, is repeated, and after how long.
func (p RetryPolicy) next(ctx context.Context, kind retryKind, attempt int, err error) (time.Duration, bool) {
	if p.MaxAttempts >= 0 && attempt >= max(p.MaxAttempts, 1) || ctx.Err() != nil {
		return 0, false
	}
	var wait time.Duration
	var te *transportError
	var ae *Error
	switch {
	case errors.As(err, &te):
		if kind == retryUnsent && !te.unsent() {
			return 0, false
		}
	case errors.As(err, &ae):
		if !retryableStatus(kind, ae) {
			return 0, false
		}
		wait = ae.RetryAfter
	default:
		return 0, false
	}
	wait = max(wait, p.backoff(attempt))
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return 0, false // the wait would outlast the caller: the error now beats the context's later
	}
	return wait, true
}

func retryableStatus(kind retryKind, e *Error) bool {
	switch e.StatusCode {
	case http.StatusTooManyRequests:
		return true
	case http.StatusInternalServerError:
		return kind == retrySafe && e.Code == "internal_error"
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return kind == retrySafe
	}
	return false
}

// backoff is the wait after attempt: MinBackoff doubled per attempt up to MaxBackoff, the second half of it
// drawn at random.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	lo, hi := p.MinBackoff, p.MaxBackoff
	if lo <= 0 {
		lo = 100 * time.Millisecond
	}
	if hi < lo {
		hi = lo
	}
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}
