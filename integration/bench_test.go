package integration

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/payoutflow/payoutflow/payout"
)

// BenchmarkPayout_EndToEnd runs whole payouts through the real stack (in-memory Temporal, worker, API, Bank 131
// sandbox over loopback): create, wait for ready_to_confirm, confirm by API, wait for payment_finished. It reports
// payouts per second with 20 in flight and the mean time from create to succeeded.
func BenchmarkPayout_EndToEnd(b *testing.B) {
	const inFlight = 20
	var next atomic.Int64
	var total atomic.Int64
	run := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				began := time.Now()
				if err := onePayout(fmt.Sprintf("%s-%d", run, n)); err != nil {
					b.Error(err)
					return
				}
				total.Add(int64(time.Since(began)))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "payouts/s")
	b.ReportMetric(float64(total.Load())/float64(b.N)/1e6, "ms/payout")
}

func onePayout(key string) error {
	r, err := rawCreate(key)
	if err != nil {
		return err
	}
	if err := rawWait(r, payout.StatusAwaitingApproval); err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, st.api.URL+"/v1/payouts/"+r+"/confirm", stringsReader(`{"reason":"bench"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+st.secrets["alice"])
	res, err := rawClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		return fmt.Errorf("confirm %s: %d", r, res.StatusCode)
	}
	return rawWait(r, payout.StatusSucceeded)
}
