package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131"
	"github.com/payoutflow/payoutflow/providers/internal/statefile"
)

// BenchmarkSandbox_CardPayoutsWithAStateFile runs a stream of card payouts (open, init, ready_to_confirm, confirm,
// payment_finished: six changes of the state each), 32 at a time, through a sandbox that keeps its state in a file
// already holding live finished payouts. The API and the webhooks go over in-process transports, so that the
// bytes the process writes are the state file's. It reports the process's CPU and the bytes written per payout.
func BenchmarkSandbox_CardPayoutsWithAStateFile(b *testing.B) {
	for _, live := range []int{0, 3000} {
		b.Run(fmt.Sprintf("live=%d", live), func(b *testing.B) { benchmarkPayouts(b, live) })
	}
}

func benchmarkPayouts(b *testing.B, live int) {
	partner, bank := testKeys(b)
	file := filepath.Join(b.TempDir(), "bank131-sandbox.json")
	if err := statefile.Write(file, finishedPayouts(live)); err != nil {
		b.Fatal(err)
	}
	hooks := &hookWaiter{waiting: map[string]chan string{}}
	sb, err := OpenSandbox(SandboxConfig{
		PartnerPublicKey: &partner.PublicKey,
		BankPrivateKey:   bank,
		Project:          testProject,
		WebhookDelay:     time.Millisecond,
		WebhookURL:       "http://hooks.invalid/",
		StateFile:        file,
		HTTPClient:       &http.Client{Transport: hooks},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	client, err := bank131.NewClient(bank131.Config{BaseURL: "https://bank.invalid", Project: testProject,
		PrivateKey: partner, HTTPClient: &http.Client{Transport: handlerTransport{sb}}})
	if err != nil {
		b.Fatal(err)
	}
	provider := bank131.NewProvider(client)
	ctx := context.Background()

	payouts := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			for i := range payouts {
				if _, err := payOne(ctx, provider, hooks, fmt.Sprintf("po_%d", i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	cpu0, written0 := cpuTime(b), bytesWritten(b)
	b.ResetTimer()
	for i := range b.N {
		payouts <- i
	}
	close(payouts)
	wg.Wait()
	b.StopTimer()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/payout")
	b.ReportMetric(float64(bytesWritten(b)-written0)/float64(b.N), "B-written/payout")
}

// payOne takes one card payout through to payment_finished, and gives its session.
func payOne(ctx context.Context, p *bank131.Provider, hooks *hookWaiter, payoutID string) (string, error) {
	ref, err := p.Open(ctx, providers.Ref{PayoutID: payoutID})
	if err != nil {
		return "", err
	}
	got := hooks.wait(ref.SessionID)
	out, err := p.Submit(ctx, ref, cardRequest(SandboxCardSucceeds))
	if err != nil {
		return "", err
	}
	if typ := <-got; typ != hookReadyToConfirm {
		return "", fmt.Errorf("%s: webhook %s, want %s", ref.SessionID, typ, hookReadyToConfirm)
	}
	if _, err := p.Confirm(ctx, out.Ref); err != nil {
		return "", err
	}
	if typ := <-got; typ != hookPaymentFinished {
		return "", fmt.Errorf("%s: webhook %s, want %s", ref.SessionID, typ, hookPaymentFinished)
	}
	return ref.SessionID, nil
}

// finishedPayouts is a state of n card payouts paid and notified.
func finishedPayouts(n int) sandboxState {
	st := sandboxState{Version: 1, LastID: 1, Sessions: []savedSession{}, SeenKeys: []string{}, Ledger: []LedgerEntry{}}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i := range n {
		id, pid := fmt.Sprintf("ps_%d", 1000+i), fmt.Sprintf("pm_%d", 1000+i)
		meta := json.RawMessage(strconv.Quote("po_live_" + strconv.Itoa(i)))
		st.Sessions = append(st.Sessions, savedSession{ID: id, Status: sessionAccepted, Metadata: meta,
			CreatedAt: at, UpdatedAt: at, FinishedAt: at, Confirmed: true, Executed: true,
			Sent: []string{hookPaymentFinished, hookReadyToConfirm},
			Payment: &savedPayment{ID: pid, Status: paymentSucceeded, Brand: "visa", Last4: "4242",
				Behaviour: cardSucceeds, Amount: 10000, Currency: "RUB", Metadata: meta, CreatedAt: at, FinishedAt: at}})
		st.SeenKeys = append(st.SeenKeys, "session/init/payout\x00"+id, "session/confirm\x00"+id)
		st.Ledger = append(st.Ledger, LedgerEntry{SessionID: id, PaymentID: pid, Metadata: "po_live_" + strconv.Itoa(i),
			Method: "card", Amount: 10000, Currency: "RUB", CardLast4: "4242", ExecutedAt: at})
	}
	return st
}

// handlerTransport serves each request with a handler, in process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// hookWaiter takes the sandbox's webhooks in process, answers 200 and hands each one's type to whoever waits for
// its session.
type hookWaiter struct {
	mu      sync.Mutex
	waiting map[string]chan string
}

func (h *hookWaiter) wait(sessionID string) <-chan string {
	ch := make(chan string, 4)
	h.mu.Lock()
	h.waiting[sessionID] = ch
	h.mu.Unlock()
	return ch
}

func (h *hookWaiter) RoundTrip(r *http.Request) (*http.Response, error) {
	var hook struct {
		Type    string `json:"type"`
		Session struct {
			ID string `json:"id"`
		} `json:"session"`
	}
	if err := json.NewDecoder(r.Body).Decode(&hook); err != nil {
		return nil, err
	}
	h.mu.Lock()
	ch := h.waiting[hook.Session.ID]
	h.mu.Unlock()
	if ch != nil {
		ch <- hook.Type
	}
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bytesWritten is what the process has passed to write(2) and its kin so far (wchar of /proc/self/io).
func bytesWritten(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Skip("no /proc/self/io:", err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("no wchar in /proc/self/io")
	return 0
}
