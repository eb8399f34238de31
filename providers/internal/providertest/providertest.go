// Package providertest holds what the providers' tests do alike: a fake API that records requests, servers that
// never answer or refuse connections, a webhook receiver, and assertions on provider errors, events and state
// files. It is for tests only.
package providertest

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
)

// eventWait is how long NextEvent waits for an event; NoEvent watches for quietWait.
const (
	eventWait = 5 * time.Second
	quietWait = 100 * time.Millisecond
)

// RequireError asserts err is a *providers.Error of provider, certainty and code, and returns it.
func RequireError(t testing.TB, err error, provider string, certainty providers.Certainty,
	code string) *providers.Error {
	t.Helper()
	var pe *providers.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, provider, pe.Provider)
	require.Equal(t, certainty, pe.Certainty, "error: %v", err)
	require.Equal(t, code, pe.Code, "error: %v", err)
	return pe
}

// NextEvent waits up to 5 s for the next event; what names the events in the failure ("webhook").
func NextEvent(t testing.TB, events <-chan providers.Event, what string) providers.Event {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(eventWait):
		t.Fatalf("no %s event within 5s", what)
		return providers.Event{}
	}
}

// NoEvent asserts that no event arrives for a while (100 ms).
func NoEvent(t testing.TB, events <-chan providers.Event, what string) {
	t.Helper()
	select {
	case e := <-events:
		t.Fatalf("unexpected %s event %s: %+v", what, e.Kind, e.Outcome)
	case <-time.After(quietWait):
	}
}

// Request is one request a FakeAPI got.
type Request struct {
	Method string
	// Path is the URL's path, unescaped; RawPath is the same path as it was sent, escaped.
	Path, RawPath string
	Header        http.Header
	Body          []byte
}

// FakeAPI answers every request with status and a JSON body, and records what it got; the second result returns
// the requests so far. The server is closed when the test ends.
func FakeAPI(t testing.TB, status int, body string) (*httptest.Server, func() []Request) {
	t.Helper()
	var (
		mu   sync.Mutex
		reqs []Request
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, Request{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(),
			Header: r.Header.Clone(), Body: b})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []Request {
		mu.Lock()
		defer mu.Unlock()
		return append([]Request{}, reqs...)
	}
}

// SilentServer takes requests and never answers them, until the test ends.
func SilentServer(t testing.TB) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv
}

// ClosedURL returns the URL of a server that is closed already: connecting to it is refused.
func ClosedURL() string {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	return url
}

// HookReceiver is the merchant's webhook endpoint: it records every body it gets, answers 500 to as many as it is
// told to refuse, and translates the others with the provider's providers.Webhooks, sending their events to
// Events. A body that does not verify is answered 401, one that cannot be read or translated 400.
type HookReceiver struct {
	// Events gets the events of the webhooks translated.
	Events chan providers.Event

	hooks providers.Webhooks

	mu     sync.Mutex
	bodies [][]byte
	refuse int
}

// NewHookReceiver returns a receiver that translates with hooks and buffers up to buffer events.
func NewHookReceiver(hooks providers.Webhooks, buffer int) *HookReceiver {
	return &HookReceiver{Events: make(chan providers.Event, buffer), hooks: hooks}
}

// ServeHTTP takes one webhook.
func (rc *HookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.bodies = append(rc.bodies, body)
	refuse := rc.refuse > 0
	if refuse {
		rc.refuse--
	}
	rc.mu.Unlock()
	if refuse {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	events, err := rc.hooks.Translate(r.Header, body)
	switch {
	case errors.Is(err, providers.ErrBadSignature):
		w.WriteHeader(http.StatusUnauthorized)
		return
	case err != nil:
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	for _, e := range events {
		rc.Events <- e
	}
	if ack, ok := rc.hooks.(providers.Acknowledger); ok {
		ct, body := ack.Acknowledge()
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(body)
	}
}

// Refuse makes the receiver answer 500 to the next n webhooks; 0 accepts them again.
func (rc *HookReceiver) Refuse(n int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.refuse = n
}

// Received returns the bodies received so far, whatever was answered.
func (rc *HookReceiver) Received() [][]byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte{}, rc.bodies...)
}

// RequireMovedAside asserts that a corrupt state file was moved aside, to one file <file>.corrupt-*, and kept as
// it was: content.
func RequireMovedAside(t testing.TB, file string, content []byte) {
	t.Helper()
	moved, err := filepath.Glob(file + ".corrupt-*")
	require.NoError(t, err)
	require.Len(t, moved, 1)
	kept, err := os.ReadFile(moved[0])
	require.NoError(t, err)
	require.Equal(t, content, kept)
}

// RequirePrivateAndAlone asserts that file is readable by its owner only (mode 0600) and that it is alone in its
// directory: no temporary file was left behind.
func RequirePrivateAndAlone(t testing.TB, file string) {
	t.Helper()
	info, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	entries, err := os.ReadDir(filepath.Dir(file))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")
}

// Kill stops a sandbox as a SIGKILL leaves its state file: close (the sandbox's Close) stops its background work,
// then the file is put back as it was before close wrote the whole state, so that the next open replays the
// changes appended since the sandbox opened.
func Kill(t testing.TB, file string, close func()) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	close()
	require.NoError(t, os.WriteFile(file, data, 0o600))
}

// TearLastAppend adds to a state file the start of a record, cut short as by a kill in the middle of its append,
// and asserts that the file held more than its first record: changes were appended.
func TearLastAppend(t testing.TB, file, start string) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Greater(t, bytes.Count(data, []byte("\n")), 1, "changes are appended to the state file")
	require.NoError(t, os.WriteFile(file, append(data, start...), 0o600))
}

// Logs is a logger's output, safe to read while the logger writes.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Logger returns a text logger that writes to l.
func (l *Logs) Logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// Write adds p to the output.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String is the output so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// RequireTornRecordIgnored asserts that a sandbox opened its state file with a last record cut short (see
// TearLastAppend): logs, its logger's output, warn of it and hold no error, and the file was not moved aside.
func RequireTornRecordIgnored(t testing.TB, file string, logs *Logs) {
	t.Helper()
	require.Contains(t, logs.String(), "level=WARN")
	require.Contains(t, logs.String(), "cut short")
	require.NotContains(t, logs.String(), "level=ERROR")
	moved, err := filepath.Glob(file + ".corrupt-*")
	require.NoError(t, err)
	require.Empty(t, moved, "not corrupt")
}
