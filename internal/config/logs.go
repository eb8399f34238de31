package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"

	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/payoutflow/payoutflow/activities"
)

// Log formats (LOG_FORMAT).
const (
	LogText = "text"
	LogJSON = "json"
)

// logFormat reads LOG_FORMAT: text (the default) or json.
func logFormat() (string, error) {
	switch f := env("LOG_FORMAT", LogText); f {
	case LogText, LogJSON:
		return f, nil
	default:
		return "", fmt.Errorf("LOG_FORMAT: %q is not one of text, json", f)
	}
}

// NewLogHandler returns the handler of the process's logs: text (key=value) or JSON lines, from level up.
func NewLogHandler(w io.Writer, format string, level slog.Leveler) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if format == LogJSON {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// SDKLogger returns the logger the Temporal SDK logs through: log, with the component named, the payout named
// (payout_id, its workflow's id), and the SDK's ERROR line about an activity error the workflow expects and acts
// on (an outcome it then looks up) lowered to DEBUG: ERROR is kept for what a person must act on, and the worker's
// interceptor (workflows.PayoutLogging) logs the same at WARN with the payout's fields. (A provider's refusal is a
// benign error, which the SDK itself logs at DEBUG.)
func SDKLogger(log *slog.Logger) sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(sdkHandler{log.With("component", "temporal-sdk").Handler()}))
}

// sdkHandler is the handler of SDKLogger.
type sdkHandler struct{ slog.Handler }

func (h sdkHandler) Handle(ctx context.Context, r slog.Record) error {
	var add []slog.Attr
	lower := false
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "WorkflowID":
			if id := a.Value.String(); payoutIDRE.MatchString(id) {
				add = append(add, slog.String("payout_id", id))
			}
		case "Error":
			err, ok := a.Value.Any().(error)
			var ae *temporal.ApplicationError
			lower = lower || ok && errors.As(err, &ae) && expectedActivityError[ae.Type()]
		}
		return true
	})
	if lower && r.Level >= slog.LevelError {
		if !h.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		nr := slog.NewRecord(r.Time, slog.LevelDebug, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool { nr.AddAttrs(a); return true })
		r = nr
	}
	r.AddAttrs(add...)
	return h.Handler.Handle(ctx, r)
}

func (h sdkHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	for _, a := range attrs {
		if a.Key == "WorkflowID" && payoutIDRE.MatchString(a.Value.String()) {
			attrs = append(attrs, slog.String("payout_id", a.Value.String()))
			break
		}
	}
	return sdkHandler{h.Handler.WithAttrs(attrs)}
}

func (h sdkHandler) WithGroup(name string) slog.Handler { return sdkHandler{h.Handler.WithGroup(name)} }

// expectedActivityError are the types of activity errors the SDK would log at ERROR that need no person: the
// workflow resolves them itself.
var expectedActivityError = map[string]bool{
	activities.ErrUnknownOutcome: true, // looked up with the provider before anything else
	activities.ErrRejected:       true, // benign already; kept should an older worker's error come through
	activities.ErrExists:         true,
	activities.ErrEventDelivery:  true, // tried again; the worker's own WARN line says so, an abandoned event is ERROR
}

// payoutIDRE is the shape of a payout's id, which is its workflow's id.
var payoutIDRE = regexp.MustCompile(`^po_[0-9a-f]{32}$`)
