package faults

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	c, err := Parse("seed=42, latency=0.2:50ms,before=0.05,after=0.1,cut=0.02,hang=0.01:40s,late=0.02:45s,lag=0.3:20s," +
		"drop=0.1,dup=0.1,delay=0.1:2s,reorder=0.05:3s,forge=0.5")
	require.NoError(t, err)
	require.Equal(t, Config{Seed: 42, Latency: Rate{0.2, 50 * time.Millisecond}, Before: 0.05, After: 0.1, Cut: 0.02,
		Hang: Rate{0.01, 40 * time.Second}, Late: Rate{0.02, 45 * time.Second}, Lag: Rate{0.3, 20 * time.Second},
		Drop: 0.1, Duplicate: 0.1, Delay: Rate{0.1, 2 * time.Second}, Reorder: Rate{0.05, 3 * time.Second}, Forge: 0.5}, c)

	none, err := Parse("")
	require.NoError(t, err)
	require.Equal(t, Config{}, none)

	for _, bad := range []string{"after", "after=2", "after=x", "hang=0.1:soon", "late=0.1:-1s", "lag=1.5", "flood=0.1", "seed=-1"} {
		_, err := Parse(bad)
		require.Error(t, err, bad)
	}
}

// counting is an API that counts the operations it executed.
func counting(executed *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		executed.Add(1)
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
}

func all(*http.Request) bool { return true }

func TestHandler_FaultsBeforeAndAfterTheOperation(t *testing.T) {
	tests := []struct {
		name         string
		cfg          Config
		executed     int64
		wantStatus   []int
		connectionUp bool
	}{
		{"before: nothing executes", Config{Before: 1}, 0, []int{500, 502, 503, 504}, true},
		{"after: executes, answer lost", Config{After: 1}, 1, []int{502, 504}, true},
		{"cut: executes, no answer", Config{Cut: 1}, 1, nil, false},
		{"none", Config{}, 1, []int{200}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var executed atomic.Int64
			in := New(tt.cfg)
			srv := httptest.NewServer(in.Handler(counting(&executed), all))
			defer srv.Close()
			resp, err := http.Post(srv.URL+"/api", "application/json", strings.NewReader("{}"))
			if !tt.connectionUp {
				require.Error(t, err, "the connection is cut with no answer")
			} else {
				require.NoError(t, err)
				resp.Body.Close()
				require.Contains(t, tt.wantStatus, resp.StatusCode)
			}
			require.Equal(t, tt.executed, executed.Load())
			require.Equal(t, int64(1), in.Stats().Requests)
		})
	}
}

func TestHandler_HangOutlastsTheClientButExecutes(t *testing.T) {
	var executed atomic.Int64
	in := New(Config{Hang: Rate{1, time.Minute}})
	srv := httptest.NewServer(in.Handler(counting(&executed), all))
	defer srv.Close()
	client := &http.Client{Timeout: 200 * time.Millisecond}
	_, err := client.Post(srv.URL, "application/json", strings.NewReader("{}"))
	require.Error(t, err)
	require.Equal(t, int64(1), executed.Load())
	require.Equal(t, int64(1), in.Stats().Hung)
}

func TestHandler_LateExecutesOnlyAfterTheClientGaveUp(t *testing.T) {
	var executed atomic.Int64
	var executedAt atomic.Int64
	var body atomic.Value
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body.Store(string(b))
		require.NoError(t, r.Context().Err(), "the late operation runs on a context the client's leaving does not end")
		executedAt.Store(time.Now().UnixNano())
		executed.Add(1)
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	in := New(Config{Late: Rate{1, 400 * time.Millisecond}})
	srv := httptest.NewServer(in.Handler(api, all))
	defer srv.Close()

	// A client that gives up first: nothing has executed when it does.
	client := &http.Client{Timeout: 100 * time.Millisecond}
	_, err := client.Post(srv.URL, "application/json", strings.NewReader(`{"pay":1}`))
	gaveUp := time.Now()
	require.Error(t, err)
	require.Zero(t, executed.Load(), "nothing executes while the client waits")
	require.Eventually(t, func() bool { return executed.Load() == 1 }, 2*time.Second, 10*time.Millisecond,
		"the operation executes after the client gave up")
	require.Greater(t, executedAt.Load(), gaveUp.UnixNano())
	require.Equal(t, `{"pay":1}`, body.Load(), "the request executes as it came")

	// A client that waits longer than the hold sees the connection cut, and the operation executes after that.
	_, err = (&http.Client{Timeout: 5 * time.Second}).Post(srv.URL, "application/json", strings.NewReader(`{"pay":2}`))
	cut := time.Now()
	require.Error(t, err, "the connection is cut with no answer")
	require.Eventually(t, func() bool { return executed.Load() == 2 }, 2*time.Second, 10*time.Millisecond)
	require.GreaterOrEqual(t, executedAt.Load(), cut.Add(-50*time.Millisecond).UnixNano())
	require.Equal(t, int64(2), in.Stats().Late)
}

func TestHandler_LagTellsTheSandboxWhatAStatusCallCannotSeeYet(t *testing.T) {
	written := time.Now()
	var hidden, seenOld atomic.Bool
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lag := LagOf(r)
		hidden.Store(lag.Hides(written))
		seenOld.Store(!lag.Hides(written.Add(-time.Hour)) && !lag.Hides(time.Time{}))
	})
	get := func(in *Injector) {
		srv := httptest.NewServer(in.Handler(api, all))
		defer srv.Close()
		resp, err := http.Get(srv.URL)
		require.NoError(t, err)
		resp.Body.Close()
	}

	lagged := New(Config{Lag: Rate{1, time.Minute}})
	get(lagged)
	require.True(t, hidden.Load(), "a write within the lag is not seen")
	require.True(t, seenOld.Load(), "a write before the lag is seen")
	require.Equal(t, int64(1), lagged.Stats().Lagged)

	none := New(Config{})
	get(none)
	require.False(t, hidden.Load(), "without the fault everything is seen")
	require.Zero(t, none.Stats().Lagged)

	require.False(t, Lag{}.Hides(time.Now()), "the zero Lag sees everything")
}

func TestHandler_LeavesTheSandboxsOwnPagesAlone(t *testing.T) {
	var executed atomic.Int64
	in := New(Config{Before: 1})
	srv := httptest.NewServer(in.Handler(counting(&executed), func(r *http.Request) bool { return r.URL.Path != "/ledger" }))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/ledger")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// receiver is a webhook receiver that accepts only bodies that are not forged (that say "genuine").
type receiver struct {
	got      atomic.Int64
	rejected atomic.Int64
	bodies   chan string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if string(b) != `{"status":"succeeded","genuine":true}` {
		rc.rejected.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rc.got.Add(1)
	rc.bodies <- string(b)
}

func TestTransport_WebhookFaults(t *testing.T) {
	const body = `{"status":"succeeded","genuine":true}`
	tests := []struct {
		name               string
		cfg                Config
		delivered, refused int64
	}{
		{"none", Config{}, 1, 0},
		{"drop", Config{Drop: 1}, 0, 0},
		{"duplicate", Config{Duplicate: 1}, 2, 0},
		{"delay", Config{Delay: Rate{1, 50 * time.Millisecond}}, 1, 0},
		{"reorder", Config{Reorder: Rate{1, 50 * time.Millisecond}}, 1, 0},
		{"forge", Config{Forge: 1}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &receiver{bodies: make(chan string, 4)}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			in := New(tt.cfg)
			client := &http.Client{Transport: in.Transport(nil)}
			resp, err := client.Post(srv.URL, "application/json", strings.NewReader(body))
			require.NoError(t, err)
			_, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, "the sandbox believes it delivered")
			require.Eventually(t, func() bool { return rc.got.Load() == tt.delivered }, 2*time.Second, 10*time.Millisecond)
			time.Sleep(100 * time.Millisecond)
			require.Equal(t, tt.delivered, rc.got.Load())
			require.Equal(t, tt.refused, rc.rejected.Load())
			require.Zero(t, in.Stats().ForgedAccepted)
		})
	}
}

func TestTransport_CountsAForgeryThatIsBelieved(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})) // believes anything
	defer srv.Close()
	in := New(Config{Forge: 1})
	client := &http.Client{Transport: in.Transport(nil)}
	resp, err := client.Post(srv.URL, "application/json", strings.NewReader(`{"status":"failed"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, int64(1), in.Stats().ForgedAccepted)
}

func TestSameSeedSameFaults(t *testing.T) {
	a, b := New(Config{Seed: 7, After: 0.5}), New(Config{Seed: 7, After: 0.5})
	for range 100 {
		require.Equal(t, a.roll(0.5), b.roll(0.5))
	}
}
