package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// These tests put the client in front of a server that fails on purpose, to see what it repeats and what it does
// not; the client against the real API is tested by the integration tests and the examples (integration/).

var fast = WithRetry(RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})

// script answers the requests it gets in turn: a status with a body, or -1 to drop the connection unanswered.
type script struct {
	mu      sync.Mutex
	answers []int
	got     []*http.Request
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.got = append(s.got, r)
	status := http.StatusOK
	if len(s.answers) > 0 {
		status, s.answers = s.answers[0], s.answers[1:]
	}
	s.mu.Unlock()
	switch {
	case status < 0:
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	case status >= 400:
		w.Header().Set("X-Request-Id", "req_test")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"try again"}}`))
	default:
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"id":"po_1","status":"created","accepted":"confirm"}`))
	}
}

func (s *script) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

func newScripted(t *testing.T, answers ...int) (*Client, *script) {
	t.Helper()
	s := &script{answers: answers}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "pf_test", fast)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func TestCreateIsRepeatedWithTheSameGeneratedKeyAfter503AndALostConnection(t *testing.T) {
	c, s := newScripted(t, http.StatusServiceUnavailable, -1, http.StatusCreated)
	p, err := c.Create(context.Background(), CreateRequest{Provider: "bank131"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := s.requests()
	// The dropped connection is resent by net/http itself (a request with an Idempotency-Key is replayable), or by
	// the client: three requests either way, all with the same key.
	if len(got) != 3 || p.Response.StatusCode != http.StatusCreated {
		t.Fatalf("%d requests, status %d; want 3, 201", len(got), p.Response.StatusCode)
	}
	key := got[0].Header.Get("Idempotency-Key")
	if !strings.HasPrefix(key, "pf-") || len(key) != 35 || p.Response.IdempotencyKey != key {
		t.Fatalf("generated key %q, told %q", key, p.Response.IdempotencyKey)
	}
	for i, r := range got {
		if r.Header.Get("Idempotency-Key") != key {
			t.Fatalf("attempt %d sent key %q, the first %q", i+1, r.Header.Get("Idempotency-Key"), key)
		}
		if r.Header.Get("Authorization") != "Bearer pf_test" || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("attempt %d headers %v", i+1, r.Header)
		}
	}
}

func TestCreateSendsTheCallersKeyAndEachCreateItsOwnGeneratedOne(t *testing.T) {
	c, s := newScripted(t, http.StatusCreated, http.StatusCreated, http.StatusCreated)
	ctx := context.Background()
	if _, err := c.Create(ctx, CreateRequest{}, &CreateOptions{IdempotencyKey: "order-1"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.Create(ctx, CreateRequest{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	got := s.requests()
	keys := []string{got[0].Header.Get("Idempotency-Key"), got[1].Header.Get("Idempotency-Key"), got[2].Header.Get("Idempotency-Key")}
	if keys[0] != "order-1" || keys[1] == keys[2] || keys[1] == "" {
		t.Fatalf("keys %q", keys)
	}
}

func TestADecisionIsNotRepeatedOnceItMayHaveReachedTheAPI(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer int
	}{
		{"503", http.StatusServiceUnavailable},
		{"502", http.StatusBadGateway},
		{"internal error", http.StatusInternalServerError},
		{"connection dropped", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s := newScripted(t, tc.answer, http.StatusAccepted)
			for name, call := range map[string]func() (*Decision, error){
				"confirm": func() (*Decision, error) { return c.Confirm(context.Background(), "po_1", "ok") },
				"cancel":  func() (*Decision, error) { return c.Cancel(context.Background(), "po_1", "") },
				"resolve": func() (*Decision, error) {
					return c.Resolve(context.Background(), "po_1", Resolution{Action: ResolveLookUp})
				},
			} {
				s.mu.Lock()
				s.answers, s.got = []int{tc.answer, http.StatusAccepted}, nil
				s.mu.Unlock()
				if _, err := call(); err == nil {
					t.Fatalf("%s: no error", name)
				}
				if n := len(s.requests()); n != 1 {
					t.Fatalf("%s sent %d times", name, n)
				}
			}
		})
	}
}

func TestADecisionIsRepeatedWhenTheConnectionWasRefused(t *testing.T) {
	s := &script{answers: []int{http.StatusAccepted}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	c, err := New(srv.URL, "pf_test", fast, WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Confirm(context.Background(), "po_1", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Response.Attempts != 2 || len(s.requests()) != 1 || d.Accepted != "confirm" {
		t.Fatalf("attempts %d, requests served %d, %+v", d.Response.Attempts, len(s.requests()), d)
	}
}

func TestReadsAreRepeatedUpToMaxAttemptsAndTheLastErrorIsTyped(t *testing.T) {
	c, s := newScripted(t, 503, 503, 503, 503, 200)
	_, err := c.Get(context.Background(), "po_1")
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 503 || e.Code != "unavailable" || e.RequestID != "req_test" {
		t.Fatalf("error %v", err)
	}
	if n := len(s.requests()); n != 4 {
		t.Fatalf("sent %d times, want 4", n)
	}
}

func TestRetryAfterIsWaitedFor(t *testing.T) {
	var first time.Time
	var mu sync.Mutex
	var gap time.Duration
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if first.IsZero() {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		gap = time.Since(first)
		_, _ = w.Write([]byte(`{"provider":"bank131","balance":{"value":5,"currency":"RUB"}}`))
	}))
	defer srv.Close()
	c, err := New(srv.URL, "pf_test", fast)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Balances(context.Background(), "bank131", "")
	if err != nil {
		t.Fatal(err)
	}
	if gap < time.Second || b.Balance.Value != 5 {
		t.Fatalf("retried after %v (want ≥ 1 s), balance %+v", gap, b)
	}
}

func TestARetryThatWouldOutlastTheContextIsNotWaitedFor(t *testing.T) {
	c, s := newScripted(t, http.StatusServiceUnavailable, 200)
	c.retry.MinBackoff, c.retry.MaxBackoff = time.Hour, time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Get(ctx, "po_1")
	if ErrorCode(err) != "unavailable" || time.Since(start) > 500*time.Millisecond || len(s.requests()) != 1 {
		t.Fatalf("error %v after %v and %d requests", err, time.Since(start), len(s.requests()))
	}
}
