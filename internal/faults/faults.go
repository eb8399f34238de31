// Package faults injects the faults of a bad network and a bad provider into the provider sandboxes: slow answers,
// 5xx before and after the operation executed, connections cut after it executed, answers held past the client's
// timeout, operations executed only after the client gave up, status calls that do not see the latest writes yet
// (read-after-write lag), and webhooks dropped, duplicated, delayed, sent out of order or forged. Each fault has a rate, and one
// seed drives them all, so that a failing chaos run can be replayed (as closely as the order of concurrent requests
// allows).
package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Rate is how often a fault happens (0 to 1) and, for faults that take time, how long at most.
type Rate struct {
	P float64
	D time.Duration
}

// Config says which faults happen how often. The zero Config injects nothing.
type Config struct {
	Seed uint64
	// Latency delays an API answer by up to D.
	Latency Rate
	// Before answers 500, 502, 503 or 504 without executing the request.
	Before float64
	// After executes the request, then answers 502 or 504 instead: the dangerous case.
	After float64
	// Cut executes the request, then closes the connection with no answer.
	Cut float64
	// Hang executes the request, then holds the answer for D, past the client's timeout.
	Hang Rate
	// Late holds the request for D without executing it, closes the connection (the client has given up by then,
	// or sees it cut), and only then executes it: the provider does what nobody waits for any more.
	Late Rate
	// Lag makes the sandbox answer a status or lookup call as it stood D ago: a payout created within the last D
	// does not exist yet, one decided within the last D is still pending (read-after-write lag). The sandbox reads
	// it with LagOf; calls that write are never lagged.
	Lag Rate
	// Drop does not send a webhook, and tells the sandbox it was delivered.
	Drop float64
	// Duplicate sends a webhook twice.
	Duplicate float64
	// Delay holds a webhook for up to D before it is sent.
	Delay Rate
	// Reorder tells the sandbox a webhook was delivered and sends it up to D later, after the ones behind it.
	Reorder Rate
	// Forge sends, before a webhook, a copy whose body is changed and whose signature is not.
	Forge float64
}

// Parse reads a spec such as "seed=42,latency=0.2:50ms,before=0.05,after=0.05,cut=0.02,hang=0.01:40s,
// late=0.01:45s,lag=0.2:20s,drop=0.1,dup=0.1,delay=0.1:2s,reorder=0.05:3s,forge=0.05". "" is no fault.
func Parse(spec string) (Config, error) {
	var c Config
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return c, fmt.Errorf("faults: %q: want name=value", part)
		}
		if name == "seed" {
			seed, err := strconv.ParseUint(value, 10, 64)
			if err != nil {
				return c, fmt.Errorf("faults: seed %q: %w", value, err)
			}
			c.Seed = seed
			continue
		}
		r, err := parseRate(value)
		if err != nil {
			return c, fmt.Errorf("faults: %s: %w", name, err)
		}
		switch name {
		case "latency":
			c.Latency = r
		case "before":
			c.Before = r.P
		case "after":
			c.After = r.P
		case "cut":
			c.Cut = r.P
		case "hang":
			c.Hang = r
		case "late":
			c.Late = r
		case "lag":
			c.Lag = r
		case "drop":
			c.Drop = r.P
		case "dup":
			c.Duplicate = r.P
		case "delay":
			c.Delay = r
		case "reorder":
			c.Reorder = r
		case "forge":
			c.Forge = r.P
		default:
			return c, fmt.Errorf("faults: unknown fault %q (latency, before, after, cut, hang, late, lag, drop, dup, delay, reorder, forge, seed)", name)
		}
	}
	return c, nil
}

func parseRate(s string) (Rate, error) {
	p, d, hasD := strings.Cut(s, ":")
	var r Rate
	var err error
	if r.P, err = strconv.ParseFloat(p, 64); err != nil || r.P < 0 || r.P > 1 {
		return r, fmt.Errorf("rate %q: want a number from 0 to 1", p)
	}
	if hasD {
		if r.D, err = time.ParseDuration(d); err != nil || r.D <= 0 {
			return r, fmt.Errorf("duration %q: want one such as 2s", d)
		}
	}
	return r, nil
}

// Defaults for faults given without a duration.
const (
	defaultLatency = 200 * time.Millisecond
	defaultHang    = 40 * time.Second
	defaultLate    = 45 * time.Second
	defaultLag     = 20 * time.Second
	defaultDelay   = 2 * time.Second
	defaultReorder = 3 * time.Second
)

// Stats counts what an Injector did. Late counts requests executed after the client gave up; Lagged, status calls
// that did not see a payout created or decided within the lag.
type Stats struct {
	Requests   int64 `json:"requests"`
	Slowed     int64 `json:"slowed"`
	Before     int64 `json:"failed_before"`
	After      int64 `json:"failed_after"`
	Cut        int64 `json:"cut"`
	Hung       int64 `json:"hung"`
	Late       int64 `json:"late"`
	Lagged     int64 `json:"lagged"`
	Webhooks   int64 `json:"webhooks"`
	Dropped    int64 `json:"dropped"`
	Duplicated int64 `json:"duplicated"`
	Delayed    int64 `json:"delayed"`
	Reordered  int64 `json:"reordered"`
	Forged     int64 `json:"forged"`
	// ForgedAccepted counts forged webhooks the receiver answered 2xx: each is a forgery believed.
	ForgedAccepted int64 `json:"forged_accepted"`
}

// Injector injects the faults of a Config.
type Injector struct {
	cfg   Config
	mu    sync.Mutex
	rng   *rand.Rand
	stats struct {
		requests, slowed, before, after, cut, hung, late, lagged            atomic.Int64
		webhooks, dropped, duplicated, delayed, reordered, forged, forgedOK atomic.Int64
	}
}

// New returns an injector of cfg's faults.
func New(cfg Config) *Injector {
	if cfg.Latency.D == 0 {
		cfg.Latency.D = defaultLatency
	}
	if cfg.Hang.D == 0 {
		cfg.Hang.D = defaultHang
	}
	if cfg.Late.D == 0 {
		cfg.Late.D = defaultLate
	}
	if cfg.Lag.D == 0 {
		cfg.Lag.D = defaultLag
	}
	if cfg.Delay.D == 0 {
		cfg.Delay.D = defaultDelay
	}
	if cfg.Reorder.D == 0 {
		cfg.Reorder.D = defaultReorder
	}
	return &Injector{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
}

// Stats returns the counts so far.
func (in *Injector) Stats() Stats {
	s := &in.stats
	return Stats{Requests: s.requests.Load(), Slowed: s.slowed.Load(), Before: s.before.Load(), After: s.after.Load(),
		Cut: s.cut.Load(), Hung: s.hung.Load(), Late: s.late.Load(), Lagged: s.lagged.Load(), Webhooks: s.webhooks.Load(), Dropped: s.dropped.Load(),
		Duplicated: s.duplicated.Load(), Delayed: s.delayed.Load(), Reordered: s.reordered.Load(),
		Forged: s.forged.Load(), ForgedAccepted: s.forgedOK.Load()}
}

// StatsHandler serves Stats as JSON.
func (in *Injector) StatsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(in.Stats())
	})
}

// roll reports whether a fault of rate p happens now.
func (in *Injector) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rng.Float64() < p
}

// upTo is a random duration in (0, d].
func (in *Injector) upTo(d time.Duration) time.Duration {
	in.mu.Lock()
	defer in.mu.Unlock()
	return time.Duration(in.rng.Int64N(int64(d))) + 1
}

func (in *Injector) pick(options ...int) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return options[in.rng.IntN(len(options))]
}

// Handler serves next with the API faults, on the requests applies accepts (the provider's API, not the sandbox's
// own pages).
func (in *Injector) Handler(next http.Handler, applies func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !applies(r) {
			next.ServeHTTP(w, r)
			return
		}
		in.stats.requests.Add(1)
		if in.roll(in.cfg.Latency.P) {
			in.stats.slowed.Add(1)
			sleep(r, in.upTo(in.cfg.Latency.D))
		}
		if in.roll(in.cfg.Before) {
			in.stats.before.Add(1)
			w.WriteHeader(in.pick(http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable,
				http.StatusGatewayTimeout))
			return
		}
		if in.roll(in.cfg.Lag.P) {
			mark := &lagMark{cutoff: time.Now().Add(-in.cfg.Lag.D)}
			r = r.WithContext(context.WithValue(r.Context(), lagKey{}, mark))
			defer func() {
				if mark.hid.Load() {
					in.stats.lagged.Add(1)
				}
			}()
		}
		if in.roll(in.cfg.Late.P) {
			in.stats.late.Add(1)
			in.executeLate(w, r, next)
			return
		}
		after, cut, hang := in.roll(in.cfg.After), in.roll(in.cfg.Cut), in.roll(in.cfg.Hang.P)
		if !after && !cut && !hang {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r) // the operation executes
		switch {
		case after:
			in.stats.after.Add(1)
			w.WriteHeader(in.pick(http.StatusBadGateway, http.StatusGatewayTimeout))
		case cut:
			in.stats.cut.Add(1)
			cutConnection(w)
		default:
			in.stats.hung.Add(1)
			_, _ = io.Copy(io.Discard, r.Body) // so that the server notices when the client gives up
			sleep(r, in.cfg.Hang.D)
			copyResponse(w, rec)
		}
	})
}

// executeLate holds the request for Late.D without executing it, cuts the connection (a client that still waits
// sees it cut; one that gave up sees nothing more), and then executes it, its answer going nowhere.
func (in *Injector) executeLate(w http.ResponseWriter, r *http.Request, next http.Handler) {
	body, err := io.ReadAll(r.Body) // the request as it came, to execute without the client
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	t := time.NewTimer(in.cfg.Late.D)
	<-t.C // not cut short when the client gives up: the operation executes after it did
	closed := closeConnection(w)
	late := r.Clone(context.WithoutCancel(r.Context()))
	late.Body, late.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	late.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	next.ServeHTTP(httptest.NewRecorder(), late)
	if !closed {
		panic(http.ErrAbortHandler) // no answer where the connection could not be taken over
	}
}

// cutConnection closes the request's connection with no answer.
func cutConnection(w http.ResponseWriter) {
	if !closeConnection(w) {
		panic(http.ErrAbortHandler) // aborts the answer where the connection cannot be taken over
	}
}

// closeConnection takes the request's connection over and closes it, and reports whether it could.
func closeConnection(w http.ResponseWriter) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

// lagKey is the context key of a request's lagMark.
type lagKey struct{}

// lagMark is a lagged request's view: nothing written after cutoff is seen. hid records that something was.
type lagMark struct {
	cutoff time.Time
	hid    atomic.Bool
}

// Lag is the read-after-write lag a sandbox shows in answering one status or lookup call: the zero Lag sees
// everything.
type Lag struct{ mark *lagMark }

// LagOf is the lag of r: a sandbox answers a status or lookup call (never a call that writes) as it stood before
// the lag, hiding what Lag.Hides.
func LagOf(r *http.Request) Lag {
	mark, _ := r.Context().Value(lagKey{}).(*lagMark)
	return Lag{mark: mark}
}

// Hides reports whether something written at t is not seen yet by this call: t is within the lag. A call that
// hides something counts as lagged (Stats.Lagged).
func (l Lag) Hides(t time.Time) bool {
	if l.mark == nil || t.IsZero() || !t.After(l.mark.cutoff) {
		return false
	}
	l.mark.hid.Store(true)
	return true
}

func sleep(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// Transport sends a sandbox's webhooks through base with the webhook faults. A dropped or reordered webhook is
// answered 200 with body OK at once, so that the sandbox takes it as delivered and goes on.
func (in *Injector) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		var body []byte
		if req.Body != nil {
			b, err := io.ReadAll(req.Body)
			_ = req.Body.Close()
			if err != nil {
				return nil, err
			}
			body = b
		}
		in.stats.webhooks.Add(1)
		send := func(ctx context.Context, b []byte) (*http.Response, error) {
			r := req.Clone(ctx)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
			return base.RoundTrip(r)
		}
		if in.roll(in.cfg.Forge) {
			in.stats.forged.Add(1)
			if resp, err := send(req.Context(), forge(body)); err == nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				_ = resp.Body.Close()
				if resp.StatusCode >= 200 && resp.StatusCode < 300 {
					in.stats.forgedOK.Add(1)
				}
			}
		}
		switch {
		case in.roll(in.cfg.Drop):
			in.stats.dropped.Add(1)
			return delivered(req), nil
		case in.roll(in.cfg.Reorder.P):
			in.stats.reordered.Add(1)
			wait := in.upTo(in.cfg.Reorder.D)
			go func() {
				time.Sleep(wait)
				if resp, err := send(context.WithoutCancel(req.Context()), body); err == nil {
					_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
					_ = resp.Body.Close()
				}
			}()
			return delivered(req), nil
		}
		if in.roll(in.cfg.Delay.P) {
			in.stats.delayed.Add(1)
			t := time.NewTimer(in.upTo(in.cfg.Delay.D))
			select {
			case <-t.C:
			case <-req.Context().Done():
				t.Stop()
				return nil, req.Context().Err()
			}
		}
		if in.roll(in.cfg.Duplicate) {
			in.stats.duplicated.Add(1)
			if resp, err := send(req.Context(), body); err == nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				_ = resp.Body.Close()
			}
		}
		return send(req.Context(), body)
	})
}

// forge changes what a webhook claims, keeping its signature: a failure becomes a success and the other way round,
// or, with neither word in it, a byte is added.
func forge(body []byte) []byte {
	s := string(body)
	switch {
	case strings.Contains(s, "failed"):
		return []byte(strings.Replace(s, "failed", "succeeded", 1))
	case strings.Contains(s, "succeeded"):
		return []byte(strings.Replace(s, "succeeded", "failed", 1))
	case strings.Contains(s, "success"):
		return []byte(strings.Replace(s, "success", "failed", 1))
	}
	return append(append([]byte{}, body...), ' ')
}

// delivered is the answer a receiver gives to a webhook it took: 200, body OK.
func delivered(req *http.Request) *http.Response {
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"text/plain"}}, Body: io.NopCloser(strings.NewReader("OK")),
		ContentLength: 2, Request: req}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
