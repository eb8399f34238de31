package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/stacktest"
	"github.com/payoutflow/payoutflow/payout"
)

// loadCall is one request of a load test: its answer's status, its body and how long it took.
type loadCall struct {
	status  int
	body    []byte
	elapsed time.Duration
}

// loadDo sends one request of a load test to the API at base as who, one of the test API keys.
func loadDo(hc *http.Client, base, who, method, path string, header map[string]string, body string) loadCall {
	req, _ := http.NewRequest(method, base+path, bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+st.secrets[who])
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	res, err := hc.Do(req)
	if err != nil {
		return loadCall{status: -1, body: []byte(err.Error()), elapsed: time.Since(start)}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return loadCall{status: res.StatusCode, body: b, elapsed: time.Since(start)}
}

// loadTally counts a load test's answers by call and status, keeping one body of each failure, and the calls'
// durations.
type loadTally struct {
	mu       sync.Mutex
	count    map[string]int
	failures map[string]string
	took     map[string][]time.Duration
}

func (l *loadTally) add(call string, c loadCall) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count == nil {
		l.count, l.failures, l.took = map[string]int{}, map[string]string{}, map[string][]time.Duration{}
	}
	key := fmt.Sprintf("%s %d", call, c.status)
	l.count[key]++
	l.took[call] = append(l.took[call], c.elapsed)
	if c.status >= 500 || c.status < 0 {
		l.failures[key] = string(c.body)
	}
}

func (l *loadTally) percentile(call string, p float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := slices.Clone(l.took[call])
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// each runs f(i) for i in [0, n), at most 50 at a time, and waits for them.
func each(n int, f func(i int)) {
	sem := make(chan struct{}, 50)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

// awaitStatus long-polls a payout until its status is want or final (up to two minutes) and returns it.
func awaitStatus(hc *http.Client, api string, tally *loadTally, id string, want payout.Status) payout.Status {
	var p payout.State
	for range 6 {
		c := loadDo(hc, api, "backend", http.MethodGet, "/v1/payouts/"+id+"?wait=20s&until="+string(want), nil, "")
		tally.add("wait", c)
		if c.status == http.StatusOK && json.Unmarshal(c.body, &p) == nil && (p.Status == want || p.Status.Final()) {
			break
		}
	}
	return p.Status
}

// Under load nothing fails: a few hundred payouts created at once and read all along (each read every 50 ms by one
// of 20 readers), left waiting, then confirmed at once, are answered without a single 5xx, and every one is paid.
// PAYOUTFLOW_LOAD_PAYOUTS sets how many (200 by default; the README gives the figures of larger runs).
func TestLoad_NoCreateGetOrConfirmFailsWithHundredsOfPayoutsInFlight(t *testing.T) {
	n := 200
	if v, err := strconv.Atoi(os.Getenv("PAYOUTFLOW_LOAD_PAYOUTS")); err == nil && v > 0 {
		n = v
	}
	hc := &http.Client{Timeout: 90 * time.Second,
		Transport: stacktest.ContractTransport(t, &http.Transport{MaxIdleConnsPerHost: 512})}
	// The API as deployed: its starts are given EVENTS_COMMIT_BOUND's default, 10 s (the stack's API, 3 s).
	cfg := st.cfg
	cfg.Events.CommitBound = 0
	api := newServer(t, st.newAPI(cfg))
	var tally loadTally
	ids := make([]string, n)
	var mu sync.Mutex
	var made []string // the payouts created so far, for the readers
	var paused atomic.Bool
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 20 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for i := r; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				mu.Lock()
				id := ""
				if len(made) > 0 && !paused.Load() {
					id = made[(i*7919)%len(made)]
				}
				mu.Unlock()
				if id != "" {
					tally.add("get", loadDo(hc, api, "backend", http.MethodGet, "/v1/payouts/"+id, nil, ""))
				}
			}
		}()
	}

	start := time.Now()
	each(n, func(i int) {
		c := loadDo(hc, api, "backend", http.MethodPost, "/v1/payouts", map[string]string{"Idempotency-Key": fmt.Sprintf("%s-%d", t.Name(), i)},
			cardPayout(cardSucceeds))
		tally.add("create", c)
		var p payout.State
		if c.status/100 == 2 && json.Unmarshal(c.body, &p) == nil {
			ids[i] = p.ID
			mu.Lock()
			made = append(made, p.ID)
			mu.Unlock()
		}
	})
	createdIn := time.Since(start)
	each(n, func(i int) {
		if ids[i] != "" {
			awaitStatus(hc, api, &tally, ids[i], payout.StatusAwaitingApproval)
		}
	})
	waitingIn := time.Since(start)
	if os.Getenv("PAYOUTFLOW_LOAD_PAYOUTS") != "" {
		paused.Store(true) // the figures are of the waits alone
		measureWaiting(t, hc, api, made)
		paused.Store(false)
	}

	start = time.Now()
	each(n, func(i int) {
		if ids[i] != "" {
			tally.add("confirm", loadDo(hc, api, "alice", http.MethodPost, "/v1/payouts/"+ids[i]+"/confirm", nil, `{"reason":"load"}`))
		}
	})
	confirmedIn := time.Since(start)
	paid := make([]payout.Status, n)
	each(n, func(i int) {
		if ids[i] != "" {
			paid[i] = awaitStatus(hc, api, &tally, ids[i], payout.StatusSucceeded)
		}
	})
	paidIn := time.Since(start)
	close(stop)
	readers.Wait()

	t.Logf("%d payouts: created in %s, all awaiting approval %s after the first create; confirmed in %s, all paid %s after the first confirm",
		n, createdIn.Round(time.Millisecond), waitingIn.Round(time.Millisecond), confirmedIn.Round(time.Millisecond), paidIn.Round(time.Millisecond))
	for _, call := range []string{"create", "get", "wait", "confirm"} {
		t.Logf("  %-7s p50 %s p99 %s", call, tally.percentile(call, 0.5).Round(time.Millisecond), tally.percentile(call, 0.99).Round(time.Millisecond))
	}
	t.Logf("  answers: %v", tally.count)
	for key, body := range tally.failures {
		t.Errorf("%s: %s", key, body)
	}
	require.Len(t, made, n, "every payout was created")
	require.Equal(t, n, tally.count["confirm 202"], "every confirm was taken")
	require.Equal(t, n, strings.Count(fmt.Sprint(paid), string(payout.StatusSucceeded)), "every payout was paid")
}

// measureWaiting logs the CPU the whole stack (Temporal, API, worker, sandboxes: this process) spends while each of
// the payouts has a GET waiting for it (wait=10s, until a status it will not reach), against a GET of each every
// second for as long.
func measureWaiting(t *testing.T, hc *http.Client, api string, ids []string) {
	const window = 10 * time.Second
	var tally loadTally
	cpu0, at0 := processCPU(t), time.Now()
	each2 := func(f func(id string)) {
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Add(1)
			go func() { defer wg.Done(); f(id) }()
		}
		wg.Wait()
	}
	each2(func(id string) {
		tally.add("wait", loadDo(hc, api, "backend", http.MethodGet, "/v1/payouts/"+id+"?wait=10s&until=confirmed", nil, ""))
	})
	waited := (processCPU(t) - cpu0).Seconds() / time.Since(at0).Seconds()
	cpu0, at0 = processCPU(t), time.Now()
	each2(func(id string) {
		for range int(window / time.Second) {
			next := time.Now().Add(time.Second)
			tally.add("poll", loadDo(hc, api, "backend", http.MethodGet, "/v1/payouts/"+id, nil, ""))
			time.Sleep(time.Until(next))
		}
	})
	polled := (processCPU(t) - cpu0).Seconds() / time.Since(at0).Seconds()
	t.Logf("%d payouts waited for, each by one GET: %.2f CPU seconds per second while long polls wait, %.2f while "+
		"each is read every second (poll p50 %s p99 %s); answers %v", len(ids), waited, polled,
		tally.percentile("poll", 0.5).Round(time.Millisecond), tally.percentile("poll", 0.99).Round(time.Millisecond), tally.count)
	for key, body := range tally.failures {
		t.Errorf("%s: %s", key, body)
	}
}

// processCPU is the CPU time this process has used (user and system, from /proc/self/stat).
func processCPU(t *testing.T) time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	require.NoError(t, err)
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // clock ticks of 1/100 s
}
