package driver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/payoutflow/payoutflow/internal/bench/stats"
	"github.com/payoutflow/payoutflow/workflows"
)

// ScaleOptions size a scale run.
type ScaleOptions struct {
	Payouts     int
	Concurrency int            // creates and confirms at once
	Reads       int            // GETs of single payouts measured while they wait
	Lists       int            // list pages measured while they wait
	Timeout     time.Duration  // for each phase
	Procs       map[string]int // processes whose memory is read
	DataDir     string         // where the SQLite file is
	Namespace   string
	KeyPrefix   string
	Logf        func(format string, args ...any)
}

// ScaleResult is what many waiting payouts cost.
type ScaleResult struct {
	Payouts         int                `json:"payouts"`
	Created         int                `json:"created"`
	CreateSeconds   float64            `json:"create_seconds"`
	CreatePerSecond float64            `json:"creates_per_second"`
	CreateP99Ms     float64            `json:"create_p99_ms"`
	WaitingSeconds  float64            `json:"all_waiting_after_seconds"`
	RSSMB           map[string]float64 `json:"rss_mb_waiting"`
	HWMMB           map[string]float64 `json:"peak_rss_mb"`
	SQLiteMB        float64            `json:"sqlite_mb"`
	GetP50Ms        float64            `json:"get_p50_ms"`
	GetP99Ms        float64            `json:"get_p99_ms"`
	ListP50Ms       float64            `json:"list_p50_ms"`
	ListP99Ms       float64            `json:"list_p99_ms"`
	ConfirmP50Ms    float64            `json:"confirm_p50_ms"`
	ConfirmP99Ms    float64            `json:"confirm_p99_ms"`
	DrainSeconds    float64            `json:"drain_seconds"`
	Succeeded       int                `json:"succeeded"`
	Errors          map[string]int     `json:"errors,omitempty"`
}

// Scale creates many payouts and leaves them waiting for approval, measures memory, the SQLite file, reads and lists
// while they wait, then approves them all and measures how long they take to drain.
func Scale(ctx context.Context, p *Payoutflow, opts ScaleOptions) (ScaleResult, error) {
	res := ScaleResult{Payouts: opts.Payouts}
	rec := &Recorder{}
	logf := opts.Logf
	// Its payouts are those started from now on (the server stamps them on this machine's clock); the ones before
	// are a second back.
	time.Sleep(time.Second)
	begin := time.Now().UTC()

	// Create.
	ids := make([]string, opts.Payouts)
	createLat := parallel(ctx, opts.Payouts, opts.Concurrency, func(i int) bool {
		var created struct {
			ID string `json:"id"`
		}
		status, err := p.call(ctx, http.MethodPost, "/v1/payouts", fmt.Sprintf("%s-%d", opts.KeyPrefix, i), CardPayout, &created)
		if err != nil || (status != http.StatusCreated && status != http.StatusOK) {
			p.note(rec, failure("create", status, err))
			return false
		}
		ids[i] = created.ID
		return true
	})
	res.CreateSeconds = time.Since(begin).Seconds()
	var created []string
	for _, id := range ids {
		if id != "" {
			created = append(created, id)
		}
	}
	res.Created = len(created)
	res.CreatePerSecond = float64(len(created)) / res.CreateSeconds
	res.CreateP99Ms = stats.Percentile(createLat, 99)
	logf("scale: %d payouts created in %.0f s (%.1f/s)", len(created), res.CreateSeconds, res.CreatePerSecond)

	since := begin.Format(time.RFC3339Nano)
	awaiting := fmt.Sprintf("%s = 'awaiting_approval' AND StartTime >= '%s'", workflows.AttrStatus.GetName(), since)
	if err := waitCount(ctx, p, opts, awaiting, len(created)); err != nil {
		return res, fmt.Errorf("waiting for approval: %w", err)
	}
	res.WaitingSeconds = time.Since(begin).Seconds()
	logf("scale: all waiting for approval after %.0f s", res.WaitingSeconds)

	// With them waiting: memory, the file, reads.
	time.Sleep(5 * time.Second)
	mem, err := sample(opts.Procs)
	if err != nil {
		return res, err
	}
	res.RSSMB, res.HWMMB = map[string]float64{}, map[string]float64{}
	for name, s := range mem {
		res.RSSMB[name], res.HWMMB[name] = mb(s.RSS), mb(s.HWM)
	}
	for _, f := range []string{"temporal.db", "temporal.db-wal"} {
		if fi, err := os.Stat(filepath.Join(opts.DataDir, f)); err == nil {
			res.SQLiteMB += mb(fi.Size())
		}
	}
	getLat := parallel(ctx, opts.Reads, 10, func(int) bool {
		status, err := p.call(ctx, http.MethodGet, "/v1/payouts/"+created[rand.IntN(len(created))], "", "", nil)
		if err != nil || status != http.StatusOK {
			p.note(rec, failure("GET", status, err))
			return false
		}
		return true
	})
	res.GetP50Ms, res.GetP99Ms = stats.Percentile(getLat, 50), stats.Percentile(getLat, 99)
	listLat := parallel(ctx, opts.Lists, 1, func(int) bool {
		status, err := p.call(ctx, http.MethodGet, "/v1/payouts?status=awaiting_approval&limit=100", "", "", nil)
		if err != nil || status != http.StatusOK {
			p.note(rec, failure("list", status, err))
			return false
		}
		return true
	})
	res.ListP50Ms, res.ListP99Ms = stats.Percentile(listLat, 50), stats.Percentile(listLat, 99)
	logf("scale: GET p50 %.0f ms p99 %.0f ms; list p50 %.0f ms p99 %.0f ms", res.GetP50Ms, res.GetP99Ms, res.ListP50Ms, res.ListP99Ms)

	// Approve all, and drain.
	drainStart := time.Now()
	confirmLat := parallel(ctx, len(created), opts.Concurrency, func(i int) bool {
		for attempt := 0; ; attempt++ {
			status, err := p.call(ctx, http.MethodPost, "/v1/payouts/"+created[i]+"/confirm", "", `{"reason":"bench"}`, nil)
			if err == nil && status < 300 {
				return true
			}
			p.note(rec, failure("confirm", status, err))
			if (err == nil && status < 500) || attempt == 4 || sleep(ctx, time.Second) != nil {
				return false
			}
		}
	})
	res.ConfirmP50Ms, res.ConfirmP99Ms = stats.Percentile(confirmLat, 50), stats.Percentile(confirmLat, 99)
	succeeded := fmt.Sprintf("%s = 'succeeded' AND StartTime >= '%s'", workflows.AttrStatus.GetName(), since)
	err = waitCount(ctx, p, opts, succeeded, len(created))
	res.DrainSeconds = time.Since(drainStart).Seconds()
	res.Succeeded, _ = count(ctx, p, opts.Namespace, succeeded)
	res.Errors = rec.Counts()
	if mem, serr := sample(opts.Procs); serr == nil {
		for name, s := range mem {
			res.HWMMB[name] = mb(s.HWM)
		}
	}
	logf("scale: drained in %.0f s, %d succeeded", res.DrainSeconds, res.Succeeded)
	return res, err
}

// parallel runs f for 0..n-1, at most c at once, and returns the latencies of the calls that returned true, in ms.
func parallel(ctx context.Context, n, c int, f func(i int) bool) []float64 {
	var mu sync.Mutex
	var lat []float64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(c, n) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				t := time.Now()
				if f(i) {
					mu.Lock()
					lat = append(lat, float64(time.Since(t).Microseconds())/1000)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return lat
}

// waitCount waits until Temporal's visibility counts at least want payouts matching query.
func waitCount(ctx context.Context, p *Payoutflow, opts ScaleOptions, query string, want int) error {
	deadline := time.Now().Add(opts.Timeout)
	var logged time.Time
	for {
		n, err := count(ctx, p, opts.Namespace, query)
		if err == nil && n >= want {
			return nil
		}
		if time.Since(logged) >= 15*time.Second {
			opts.Logf("scale: %d of %d (%s; error: %v)", n, want, query, err)
			logged = time.Now()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d after %s (last error: %v)", n, want, opts.Timeout, err)
		}
		if err := sleep(ctx, 2*time.Second); err != nil {
			return err
		}
	}
}

func count(ctx context.Context, p *Payoutflow, namespace, query string) (int, error) {
	resp, err := p.Temporal.WorkflowService().CountWorkflowExecutions(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Namespace: namespace, Query: query})
	if err != nil {
		return 0, err
	}
	return int(resp.GetCount()), nil
}
