package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultFaults is every fault at once, as `make chaos` runs them.
const DefaultFaults = "latency=0.1:300ms,before=0.03,after=0.05,cut=0.02,hang=0.005:35s,drop=0.1,dup=0.1," +
	"delay=0.1:2s,reorder=0.05:3s,forge=0.05"

// Options configure a chaos run.
type Options struct {
	// Dev is the cmd/dev binary; Dir holds the run's data and logs.
	Dev, Dir string
	// Payouts is how many payouts to run, Concurrency how many to create at once.
	Payouts, Concurrency int
	// Faults is the sandboxes' fault spec (internal/faults), Seed its seed and the mix's.
	Faults string
	Seed   uint64
	// WorkerKills, APIKills and TemporalRestarts are how many times each process is stopped and started again
	// during the run (the worker and the API with SIGKILL, Temporal with SIGTERM, on its SQLite file).
	WorkerKills, APIKills, TemporalRestarts int
	// Timeout bounds the run; what is not settled by then counts as lost.
	Timeout time.Duration
	// Log gets progress lines.
	Log io.Writer
}

// Report is what became of a chaos run's payouts.
type Report struct {
	Started, Succeeded, Failed, Cancelled int
	// Failures count the failed payouts by failure code.
	Failures map[string]int
	// NeedsAttention are the payouts an operator must look at, with their reasons.
	NeedsAttention map[string]string
	// Lost are payouts in no final state and not flagged for an operator when the run ended.
	Lost []string
	// ExecutedTwice are payouts with more than one entry in a sandbox's ledger.
	ExecutedTwice []string
	// PaidButNotSucceeded are payouts a sandbox paid that payoutflow reports failed or cancelled;
	// SucceededButNotPaid the other way round.
	PaidButNotSucceeded, SucceededButNotPaid []string
	// ForgedSent and ForgedAccepted count forged webhooks, and those the receiver answered 2xx.
	ForgedSent, ForgedAccepted int64
	// Faults are the sandboxes' fault counts.
	Faults map[string]map[string]int64
	// Restarts lists the process faults, in order.
	Restarts []string
	Duration time.Duration
}

// OK reports whether the run found no double payout, no lost payout, no contradiction and no accepted forgery.
func (r Report) OK() bool {
	return len(r.ExecutedTwice) == 0 && len(r.Lost) == 0 && r.ForgedAccepted == 0 &&
		len(r.PaidButNotSucceeded) == 0 && len(r.SucceededButNotPaid) == 0
}

// String is the report as `make chaos` prints it.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "chaos report (%s)\n", r.Duration.Round(time.Second))
	fmt.Fprintf(&b, "  started            %d\n", r.Started)
	fmt.Fprintf(&b, "  succeeded          %d\n", r.Succeeded)
	fmt.Fprintf(&b, "  failed             %d\n", r.Failed)
	for _, code := range sortedKeys(r.Failures) {
		fmt.Fprintf(&b, "      %3d × %s\n", r.Failures[code], code)
	}
	fmt.Fprintf(&b, "  cancelled          %d\n", r.Cancelled)
	fmt.Fprintf(&b, "  needs_attention    %d\n", len(r.NeedsAttention))
	reasons := map[string]int{}
	for _, why := range r.NeedsAttention {
		reasons[why]++
	}
	for _, why := range sortedKeys(reasons) {
		fmt.Fprintf(&b, "      %3d × %s\n", reasons[why], why)
	}
	fmt.Fprintf(&b, "  executed twice     %d  (must be 0) %s\n", len(r.ExecutedTwice), strings.Join(r.ExecutedTwice, " "))
	fmt.Fprintf(&b, "  lost               %d  (must be 0) %s\n", len(r.Lost), strings.Join(r.Lost, " "))
	fmt.Fprintf(&b, "  paid, not reported %d  (must be 0) %s\n", len(r.PaidButNotSucceeded), strings.Join(r.PaidButNotSucceeded, " "))
	fmt.Fprintf(&b, "  reported, not paid %d  (must be 0) %s\n", len(r.SucceededButNotPaid), strings.Join(r.SucceededButNotPaid, " "))
	fmt.Fprintf(&b, "  forged webhooks    %d sent, %d accepted (must be 0)\n", r.ForgedSent, r.ForgedAccepted)
	fmt.Fprintf(&b, "  process faults     %s\n", strings.Join(r.Restarts, ", "))
	for _, name := range sortedKeys(r.Faults) {
		fmt.Fprintf(&b, "  %-9s faults    %v\n", name, r.Faults[name])
	}
	if r.OK() {
		b.WriteString("  result             OK: nothing paid twice, nothing lost, no forgery believed\n")
	} else {
		b.WriteString("  result             FAILED\n")
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// policy lets the policy approve small payouts alone, so that the run approves some by policy and some by API.
const policy = `{"rules": [
  {"name": "small roubles", "currency": "RUB", "auto_approve_max": 5000},
  {"name": "small BYN", "currency": "BYN", "auto_approve_max": 5000},
  {"name": "everything else"}
]}`

// Run runs a chaos run and reports it. The error is for a run that could not be made, not for what it found.
func Run(ctx context.Context, o Options) (Report, error) {
	if o.Payouts <= 0 {
		o.Payouts = 500
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 20
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Minute
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	logf := func(format string, args ...any) { fmt.Fprintf(o.Log, format+"\n", args...) }
	var err error
	if o.Dev, err = filepath.Abs(o.Dev); err != nil {
		return Report{}, err
	}
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return Report{}, err
	}
	started := time.Now()
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return Report{}, err
	}
	policyFile := filepath.Join(o.Dir, "policy.json")
	if err := os.WriteFile(policyFile, []byte(policy), 0o600); err != nil {
		return Report{}, err
	}
	s, err := newStack(o.Dev, o.Dir, []string{
		"SANDBOX_FAULTS=" + withSeed(o.Faults, o.Seed),
		"POLICY_FILE=" + policyFile,
		"PROVIDER_POLL_AFTER=3s",
		"PROVIDER_POLL_MAX=20s",
		"PROVIDER_WATCH_EVERY=500ms",
		"APPROVAL_TIMEOUT=2h",
		"MANDARIN_BALANCE_CHECK=off",
		"LOG_LEVEL=warn",
	}, logf)
	if err != nil {
		return Report{}, err
	}
	defer s.stopAll()
	for _, part := range []string{partTemporal, partSandboxes, partWorker, partAPI} {
		if err := s.start(part); err != nil {
			return Report{}, err
		}
	}
	key, err := s.apiKey()
	if err != nil {
		return Report{}, err
	}
	logf("chaos: stack up in %s (logs in %s); %d payouts, %d at once, faults %q, seed %d",
		time.Since(started).Round(time.Millisecond), s.logs, o.Payouts, o.Concurrency, o.Faults, o.Seed)

	d := &driver{api: s.apiURL, key: key, logf: logf, http: &http.Client{Timeout: 30 * time.Second}}
	runCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	var rep Report
	var chaosWG sync.WaitGroup
	chaosWG.Add(1)
	go func() {
		defer chaosWG.Done()
		rep.Restarts = processFaults(runCtx, s, o, logf)
	}()

	ids := d.createAll(runCtx, o.Payouts, o.Concurrency, o.Seed)
	logf("chaos: %d payouts created in %s; driving them to an end", len(ids), time.Since(started).Round(time.Second))
	states := d.settle(runCtx, ids)
	// Every process fault of the plan happens, even when the payouts settle first; then whatever they upset
	// settles again.
	chaosWG.Wait()
	states = d.settle(runCtx, ids)
	states = d.refresh(ctx, ids, states)

	rep.Started = len(ids)
	rep.NeedsAttention = map[string]string{}
	rep.Failures = map[string]int{}
	for _, id := range ids {
		st := states[id]
		switch st.Status {
		case "succeeded":
			rep.Succeeded++
		case "failed":
			rep.Failed++
			code := "unknown"
			if st.Failure != nil {
				code = st.Failure.Code
			}
			rep.Failures[code]++
		case "cancelled":
			rep.Cancelled++
		case "needs_attention":
			rep.NeedsAttention[id] = generalize(st.Attention)
		default:
			rep.Lost = append(rep.Lost, id+"("+st.Status+")")
		}
	}
	paid, err := ledgers(s)
	if err != nil {
		return rep, err
	}
	for _, id := range ids {
		n := paid[id]
		if n > 1 {
			rep.ExecutedTwice = append(rep.ExecutedTwice, fmt.Sprintf("%s(%d)", id, n))
		}
		switch st := states[id].Status; {
		case n > 0 && (st == "failed" || st == "cancelled"):
			rep.PaidButNotSucceeded = append(rep.PaidButNotSucceeded, id)
		case n == 0 && st == "succeeded":
			rep.SucceededButNotPaid = append(rep.SucceededButNotPaid, id)
		}
	}
	rep.Faults = map[string]map[string]int64{}
	for name, base := range s.sandbox {
		var f map[string]int64
		if err := getJSON(http.DefaultClient, base+"/_sandbox/faults", &f); err != nil {
			return rep, fmt.Errorf("fault counts of %s: %w", name, err)
		}
		rep.Faults[name] = f
		rep.ForgedSent += f["forged"]
		rep.ForgedAccepted += f["forged_accepted"]
	}
	rep.Duration = time.Since(started)
	return rep, nil
}

func withSeed(spec string, seed uint64) string {
	if strings.Contains(spec, "seed=") {
		return spec
	}
	if spec == "" {
		return fmt.Sprintf("seed=%d", seed)
	}
	return fmt.Sprintf("%s,seed=%d", spec, seed)
}

// generalize turns an attention reason into its kind, for counting.
func generalize(why string) string {
	if i := strings.IndexAny(why, "(:"); i > 0 {
		return strings.TrimSpace(why[:i])
	}
	return why
}

// processFaults kills and restarts processes during the run, a few seconds apart, until its plan is done or ctx
// ends.
func processFaults(ctx context.Context, s *stack, o Options, logf func(string, ...any)) []string {
	var plan []string
	for range o.WorkerKills {
		plan = append(plan, partWorker)
	}
	for range o.APIKills {
		plan = append(plan, partAPI)
	}
	for range o.TemporalRestarts {
		plan = append(plan, partTemporal)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 1))
	rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	var done []string
	for _, part := range plan {
		select {
		case <-ctx.Done():
			return done
		case <-time.After(time.Duration(3+rng.IntN(6)) * time.Second):
		}
		hard := part != partTemporal
		if err := s.restart(part, hard); err != nil {
			logf("chaos: restart %s: %v", part, err)
		}
		if hard {
			done = append(done, part+" SIGKILL")
		} else {
			done = append(done, part+" stop/start")
		}
	}
	return done
}

// ledgers counts each payout's executions across the sandboxes' ledgers.
func ledgers(s *stack) (map[string]int, error) {
	paid := map[string]int{}
	var b131 []struct {
		Metadata string `json:"metadata"`
	}
	if err := getJSON(http.DefaultClient, s.sandbox["bank131"]+"/_sandbox/ledger", &b131); err != nil {
		return nil, fmt.Errorf("bank131 ledger: %w", err)
	}
	for _, e := range b131 {
		paid[e.Metadata]++
	}
	var bp []struct {
		TrackingID string `json:"tracking_id"`
	}
	if err := getJSON(http.DefaultClient, s.sandbox["bepaid"]+"/_sandbox/ledger", &bp); err != nil {
		return nil, fmt.Errorf("bepaid ledger: %w", err)
	}
	for _, e := range bp {
		paid[e.TrackingID]++
	}
	var md []struct {
		OrderID string `json:"order_id"`
	}
	if err := getJSON(http.DefaultClient, s.sandbox["mandarin"]+"/_sandbox/ledger", &md); err != nil {
		return nil, fmt.Errorf("mandarin ledger: %w", err)
	}
	for _, e := range md {
		paid[e.OrderID]++
	}
	return paid, nil
}

func getJSON(c *http.Client, url string, v any) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// state is what the driver reads of a payout.
type state struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Attention string `json:"attention"`
	Failure   *struct {
		Code string `json:"code"`
	} `json:"failure"`
	PayerAction *struct {
		RedirectURL string `json:"redirect_url"`
	} `json:"payer_action"`
}

func (st state) final() bool {
	switch st.Status {
	case "succeeded", "failed", "cancelled":
		return true
	}
	return false
}

// attentionGrace is how long a payout may need attention before the run takes that as its end: until then it may
// still resolve itself (its next ask of the provider may be answered).
const attentionGrace = time.Minute

// driver is the backend, the operators and the payers of a chaos run.
type driver struct {
	api, key string
	logf     func(string, ...any)
	http     *http.Client
}

// call sends one API request, again after a connection error or a 5xx (the API may be restarting; every call
// the driver makes is safe to repeat), until ctx ends.
func (d *driver) call(ctx context.Context, method, path string, headers map[string]string, body string) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, d.api+path, bytes.NewBufferString(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+d.key)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := d.http.Do(req)
		if err == nil {
			b, readErr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if readErr == nil && resp.StatusCode < 500 {
				return resp.StatusCode, b, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, nil, errors.Join(ctx.Err(), err)
		case <-time.After(min(time.Duration(attempt+1)*200*time.Millisecond, 2*time.Second)):
		}
	}
}

// createAll creates n payouts of the mix, concurrency at once, and returns their ids.
func (d *driver) createAll(ctx context.Context, n, concurrency int, seed uint64) []string {
	ids := make([]string, n)
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			key := fmt.Sprintf("chaos-%d-%d", seed, i)
			status, body, err := d.call(ctx, http.MethodPost, "/v1/payouts", map[string]string{"Idempotency-Key": key}, mix(i))
			if err != nil || (status != http.StatusCreated && status != http.StatusOK) {
				d.logf("chaos: create %d: status %d %v %s", i, status, err, body)
				return
			}
			var st state
			if json.Unmarshal(body, &st) == nil {
				ids[i] = st.ID
			}
		}()
	}
	wg.Wait()
	out := ids[:0]
	for _, id := range ids {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

// settle drives every payout until it is final or needs attention, or ctx ends: it approves payouts that wait for
// a person, and passes 3-D Secure for transfers.
func (d *driver) settle(ctx context.Context, ids []string) map[string]state {
	states := map[string]state{}
	approved, passed := map[string]bool{}, map[string]bool{}
	attentionSince := map[string]time.Time{}
	settled := func(id string) bool {
		st := states[id]
		since, flagged := attentionSince[id]
		return st.final() || (st.Status == "needs_attention" && flagged && time.Since(since) > attentionGrace)
	}
	last := time.Now()
	for {
		pending := 0
		for _, id := range ids {
			if settled(id) {
				continue
			}
			status, body, err := d.call(ctx, http.MethodGet, "/v1/payouts/"+id, nil, "")
			if err != nil {
				return states
			}
			var st state
			if status != http.StatusOK || json.Unmarshal(body, &st) != nil {
				pending++
				continue
			}
			states[id] = st
			if st.Status != "needs_attention" {
				delete(attentionSince, id)
			} else if _, ok := attentionSince[id]; !ok {
				attentionSince[id] = time.Now()
			}
			if settled(id) {
				continue
			}
			pending++
			switch {
			case st.Status == "awaiting_approval" && !approved[id]:
				if status, _, _ := d.call(ctx, http.MethodPost, "/v1/payouts/"+id+"/confirm", nil, `{"reason":"chaos run"}`); status == http.StatusAccepted || status == http.StatusConflict {
					approved[id] = true
				}
			case st.PayerAction != nil && !passed[id]:
				if resp, err := d.http.Get(st.PayerAction.RedirectURL); err == nil {
					resp.Body.Close()
					passed[id] = resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusConflict
				}
			}
		}
		if pending == 0 {
			return states
		}
		if time.Since(last) > 10*time.Second {
			d.logf("chaos: %d of %d payouts still under way", pending, len(ids))
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return states
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// refresh reads every payout's state once more.
func (d *driver) refresh(ctx context.Context, ids []string, states map[string]state) map[string]state {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, id := range ids {
		if status, body, err := d.call(ctx, http.MethodGet, "/v1/payouts/"+id, nil, ""); err == nil && status == http.StatusOK {
			var st state
			if json.Unmarshal(body, &st) == nil {
				states[id] = st
			}
		}
	}
	return states
}
