package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"

	"github.com/payoutflow/payoutflow/codec"
)

// Error is the body of every error answer: {"error": {"code": "...", "message": "...", "field": "..."}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// RequestID is the id of the request that failed (X-Request-Id), to quote when asking about it.
	RequestID string `json:"request_id,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func apiError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

func fieldError(status int, field, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message, Field: field}
}

// errorHandler answers every error as JSON with a stable code, echo's own (404, 405, 413) included.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		log := loggerFrom(c.Request().Context(), log)
		var e *Error
		var he *echo.HTTPError
		var de *codec.DecodeError
		switch {
		case errors.As(err, &e):
		case errors.As(err, &de):
			log.Error("request failed: a payout's data does not decrypt", "method", c.Request().Method, "path", c.Path(),
				"key_id", de.KeyID, "key_missing", de.Missing, "error", err)
			e = apiError(http.StatusInternalServerError, "payload_undecodable", fmt.Sprintf(
				"the payout's data is encrypted with codec key %q and does not decrypt with this server's keyring", de.KeyID))
			if de.Missing {
				e.Code, e.Message = "codec_key_missing", fmt.Sprintf("the payout's data is encrypted with codec key %q, "+
					"which is not in this server's keyring (CODEC_KEYS or CODEC_KEY_FILE): add it back as a retired key", de.KeyID)
			}
		case errors.As(err, &he):
			e = &Error{Status: he.Code, Code: codeForStatus(he.Code), Message: http.StatusText(he.Code)}
			if m, ok := he.Message.(string); ok && m != "" {
				e.Message = m
			}
			if he.Code == http.StatusMethodNotAllowed {
				e.Message = methodNotAllowed(c)
			}
		case temporalBusy(err):
			log.Warn("request refused: Temporal is busy or unreachable", "method", c.Request().Method, "path", c.Path(), "error", err)
			e = apiError(http.StatusServiceUnavailable, "temporal_unavailable",
				"Temporal is overloaded or did not answer in time; try again (a repeated create or decision is recognised, never applied twice)")
		default:
			log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "error", err)
			e = apiError(http.StatusInternalServerError, "internal_error", "internal error; the request may be retried")
		}
		answer := *e
		answer.RequestID = RequestID(c.Request().Context())
		e = &answer
		if e.Status == http.StatusServiceUnavailable {
			c.Response().Header().Set("Retry-After", retryAfterSeconds) // every 503 is worth asking again soon
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(e.Status)
			return
		}
		_ = c.JSON(e.Status, map[string]*Error{"error": e})
	}
}

// retryAfterSeconds is the Retry-After of a 503: the client's back-off starts there.
const retryAfterSeconds = "5"

// temporalBusy reports whether err is Temporal's refusal of a call for want of capacity or time (resource
// exhausted, unavailable, deadline exceeded): a retryable 503, not a failure of the request.
func temporalBusy(err error) bool {
	var exhausted *serviceerror.ResourceExhausted
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	return errors.As(err, &exhausted) || errors.As(err, &unavailable) || errors.As(err, &deadline) ||
		errors.Is(err, context.DeadlineExceeded)
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "error"
}
