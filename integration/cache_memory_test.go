package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	pfclient "github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/workflows"
)

// TestWorkerCache_MemoryPerWaitingPayout measures what a payout waiting for approval costs while its workflow
// stays in the worker's cache: the heap and goroutine stacks in use with PAYOUTFLOW_CACHE_PAYOUTS payouts waiting,
// before and after the worker's cache is purged, divided by the payouts; and the process's RSS growth per payout
// (the whole stack: Temporal, worker, API, sandboxes). It runs only with PAYOUTFLOW_CACHE_PAYOUTS set (e.g. 2000).
func TestWorkerCache_MemoryPerWaitingPayout(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PAYOUTFLOW_CACHE_PAYOUTS"))
	if n <= 0 {
		t.Skip("set PAYOUTFLOW_CACHE_PAYOUTS=2000 to measure")
	}
	rssBefore := rss(t)
	ids := make([]string, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	prefix := fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())
	for i := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var err error
			ids[i], err = createWaiting(fmt.Sprintf("%s-%d", prefix, i))
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for _, id := range ids {
		awaitingApproval(t, id)
	}
	time.Sleep(time.Second) // the last workflow tasks complete
	cached, goroutines := inUse(), runtime.NumGoroutine()
	rssWaiting := rss(t)
	worker.PurgeStickyWorkflowCache()
	require.Eventually(t, func() bool { return runtime.NumGoroutine() < goroutines-n }, 30*time.Second, 100*time.Millisecond,
		"the purged workflows' goroutines end")
	purged, left := inUse(), runtime.NumGoroutine()
	t.Logf("%d payouts waiting: worker cache %.1f KB per payout (heap and stacks in use %d MB, %d MB once purged), "+
		"%.1f goroutines per payout; process RSS +%.1f KB per payout (%d MB -> %d MB)",
		n, float64(cached-purged)/float64(n)/1024, cached>>20, purged>>20, float64(goroutines-left)/float64(n),
		float64(rssWaiting-rssBefore)/float64(n)/1024, rssBefore>>20, rssWaiting>>20)
}

// awaitingApproval waits until the payout's workflow says, by its search attribute, that it awaits approval (a GET
// under this load may fail: reads are not measured here).
func awaitingApproval(t *testing.T, id string) {
	t.Helper()
	if !assert.Eventually(t, func() bool {
		d, err := st.raw.DescribeWorkflowExecution(context.Background(), id, "")
		if err != nil {
			return false
		}
		v, _ := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[workflows.AttrStatus.GetName()].GetData(), 0
		return string(v) == strconv.Quote(string(payout.StatusAwaitingApproval))
	}, 3*time.Minute, 100*time.Millisecond, "payout %s awaits approval", id) {
		t.Fatalf("payout %s:\n%s", id, describeEvents(runsOf(t, id)[0]))
	}
}

// createWaiting creates a Bank 131 card payout, which waits for approval once the bank is ready. A create that
// fails is asked again under the same key, as the API's 5xx answers say (a start under load may outlast the API's
// bound).
func createWaiting(key string) (string, error) {
	var req pfclient.CreateRequest
	if err := json.NewDecoder(strings.NewReader(cardPayout(cardSucceeds))).Decode(&req); err != nil {
		return "", err
	}
	var err error
	for range 10 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var p *pfclient.Payout
		p, err = apiClient(st.api.URL, "backend").Create(ctx, req, &pfclient.CreateOptions{IdempotencyKey: key})
		cancel()
		if err == nil {
			return p.ID, nil
		}
		time.Sleep(time.Second)
	}
	return "", fmt.Errorf("create %s: %w", key, err)
}

// inUse is the heap and goroutine stacks in use after a garbage collection.
func inUse() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// rss is the process's resident set size.
func rss(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}
