package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"regexp"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/trace"

	"github.com/payoutflow/payoutflow/payout"
)

// HeaderRequestID names the header that carries a request's id, both ways: a caller may send one, and every answer
// carries the one its request was handled under.
const HeaderRequestID = echo.HeaderXRequestID

// requestIDRE is what a caller's request id may be: 1 to 128 characters safe in a header and a log line (UUIDs,
// ULIDs, a proxy's ids). Any other is replaced by one of ours.
var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:/+=@-]{1,128}$`)

// phoneLikeRE is a request id that may be a phone or an account number, which never reach a log line: only digits
// (7 or more, perhaps written as a phone is: "+7-900-123-45-67"), or an international phone ("+" and 10 or more
// digits) within an id. Hex ids (UUIDs, trace ids) that happen to hold digit runs are kept.
var phoneLikeRE = regexp.MustCompile(`^\+?[0-9](?:[-.()]*[0-9]){6,}$|\+[0-9](?:[-.()]*[0-9]){9}`)

type requestIDKey struct{}

type loggerKey struct{}

// requestID takes the request's id from X-Request-Id when it is a safe one (else makes one), answers it in
// X-Request-Id, and carries it, and a logger that names it (and the trace, when the request is traced), in the
// request's context.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(HeaderRequestID)
		// A card number or a phone never reaches a log line, even as the id a caller chose.
		if !requestIDRE.MatchString(id) || payout.LooksLikeCardNumber(id) || phoneLikeRE.MatchString(id) {
			id = newRequestID()
		}
		c.Response().Header().Set(HeaderRequestID, id)
		ctx := context.WithValue(c.Request().Context(), requestIDKey{}, id)
		log := s.log.With("request_id", id)
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			log = log.With("trace_id", sc.TraceID().String())
		}
		ctx = context.WithValue(ctx, loggerKey{}, log)
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// newRequestID returns a fresh request id: "req_" and 32 hex digits, a letter in every eight, so that no id
// looks like a card number (13 digits or more in a row) and is masked as one in logs.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	h := []byte(hex.EncodeToString(b))
	for i := 7; i < len(h); i += 8 {
		if h[i] <= '9' {
			h[i] = 'a' + (h[i]-'0')%6
		}
	}
	return "req_" + string(h)
}

// RequestID returns the id of the request ctx belongs to, or "" outside a request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// logger returns the logger of the request ctx belongs to (it names the request id), or the server's.
func (s *Server) logger(ctx context.Context) *slog.Logger { return loggerFrom(ctx, s.log) }

// loggerFrom returns the logger ctx carries, or fallback.
func loggerFrom(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return fallback
}
