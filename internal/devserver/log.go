package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// slogLogger adapts a *slog.Logger to the Temporal server's log.Logger.
//
// DPanic, Panic and Fatal are logged at error level and do not panic or exit, as in the
// Temporal CLI's embedded dev server: the server calls Fatal from goroutines in places where
// crashing the whole process (our HTTP API included) would be worse than a logged error.
// Panic and Fatal are also kept in fatal, which Start checks: while the server is being built,
// they mean a part of it is missing (a listener that could not bind is nil).
type slogLogger struct {
	l     *slog.Logger
	min   slog.Leveler
	quiet *atomic.Bool // when set, only errors pass (used while stopping, which logs many warnings)
	fatal *fatalLog
}

// fatalLog keeps the first Panic or Fatal a server logged, as an error.
type fatalLog struct {
	mu  sync.Mutex
	err error
}

func (f *fatalLog) record(msg string, tags []tag.Tag) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return
	}
	details := make([]string, 0, len(tags))
	for _, t := range tags {
		details = append(details, fmt.Sprintf("%s=%v", t.Key(), t.Value())) // an error tag's value is its text
	}
	if len(details) > 0 {
		msg += ": " + strings.Join(details, ", ")
	}
	f.err = errors.New(msg)
}

// Err returns the first Panic or Fatal logged, or nil.
func (f *fatalLog) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

var (
	_ log.Logger     = slogLogger{}
	_ log.WithLogger = slogLogger{}
)

// newServerLogger returns a server logger writing to l (nothing if nil) at min and above, keeping Panic and Fatal in fatal.
func newServerLogger(l *slog.Logger, min slog.Leveler, quiet *atomic.Bool, fatal *fatalLog) log.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	if min == nil {
		min = slog.LevelWarn
	}
	return slogLogger{l: l, min: min, quiet: quiet, fatal: fatal}
}

func (s slogLogger) Debug(msg string, tags ...tag.Tag)  { s.log(slog.LevelDebug, msg, tags) }
func (s slogLogger) Info(msg string, tags ...tag.Tag)   { s.log(slog.LevelInfo, msg, tags) }
func (s slogLogger) Warn(msg string, tags ...tag.Tag)   { s.log(slog.LevelWarn, msg, tags) }
func (s slogLogger) Error(msg string, tags ...tag.Tag)  { s.log(slog.LevelError, msg, tags) }
func (s slogLogger) DPanic(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }
func (s slogLogger) Panic(msg string, tags ...tag.Tag) {
	s.fatal.record(msg, tags)
	s.log(slog.LevelError, msg, tags)
}
func (s slogLogger) Fatal(msg string, tags ...tag.Tag) {
	s.fatal.record(msg, tags)
	s.log(slog.LevelError, msg, tags)
}

// With returns a logger that adds tags to every record.
func (s slogLogger) With(tags ...tag.Tag) log.Logger {
	args := make([]any, len(tags))
	for i, t := range tags {
		args[i] = slog.Any(t.Key(), t.Value())
	}
	return slogLogger{l: s.l.With(args...), min: s.min, quiet: s.quiet, fatal: s.fatal}
}

func (s slogLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if level < s.min.Level() || (level < slog.LevelError && s.quiet.Load()) || !s.l.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, len(tags))
	for i, t := range tags {
		attrs[i] = slog.Any(t.Key(), t.Value())
	}
	s.l.LogAttrs(ctx, level, msg, attrs...)
}
