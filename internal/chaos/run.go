package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	pfclient "github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/internal/stacktest"
)

// DefaultFaults is every fault at once, as `make chaos` runs them.
const DefaultFaults = "latency=0.1:300ms,before=0.03,after=0.05,cut=0.02,hang=0.005:35s,late=0.01:45s,lag=0.2:20s," +
	"drop=0.1,dup=0.1,delay=0.1:2s,reorder=0.05:3s,forge=0.05"

// Default shares of the operators' actions (Options).
const (
	DefaultCancels         = 0.05
	DefaultTemporalCancels = 0.05
	DefaultRaces           = 0.2
	DefaultMarks           = 0.5
)

// Options configure a chaos run.
type Options struct {
	// Dev is the cmd/dev binary; Dir holds the run's data and logs.
	Dev, Dir string
	// Payouts is how many payouts to run, Concurrency how many to create at once.
	Payouts, Concurrency int
	// Faults is the sandboxes' fault spec (internal/faults), Seed its seed, the operators' and the process faults'.
	Faults string
	Seed   uint64
	// WorkerKills, APIKills and TemporalRestarts are how many times each process is stopped and started again
	// during the run (the worker and the API with SIGKILL, Temporal with SIGTERM, on its SQLite file), spread over
	// the run: at evenly spaced shares of its progress (payouts created, then payouts settled).
	WorkerKills, APIKills, TemporalRestarts int
	// Cancels and TemporalCancels are the shares of payouts an operator cancels by API, or by Temporal's
	// cancellation request, at a random moment; Races, the share of payouts waiting for a person that are
	// confirmed and cancelled at the same moment by two operators; Marks, the share of payouts needing attention
	// that an operator marks failed or succeeded, alone (every one of them is first asked to look_up).
	Cancels, TemporalCancels, Races, Marks float64
	// Timeout bounds the run; what is not settled by then counts as lost. Zero: 20 minutes and half a second a
	// payout (bePaid's settling period keeps a payout whose submit went unanswered for 10 minutes).
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
	// Restarts lists the process faults, in order, with when they happened.
	Restarts []string
	// Actions counts the operators' actions by the answer they got ("cancel" → "409 cannot_be_stopped" → n).
	Actions map[string]map[string]int
	// TemporalCancels counts the payouts sent Temporal's cancellation request while under way, by how they ended;
	// TemporalCancelNotes, by what the workflow noted of the request.
	TemporalCancels, TemporalCancelNotes map[string]int
	// Contradictions are the payouts whose state records a contradiction (the provider's final word against how an
	// operator's mark ended it); ContradictionsListed is how many GET /v1/payouts?contradiction=true lists, -1 when
	// it could not be read.
	Contradictions       []string
	ContradictionsListed int
	// CancelledThenPaid are payouts whose workflow took a cancel and which were paid all the same (sent to a provider
	// that pays on submit before it showed the payout): what the ledger says, reported succeeded, and no error.
	CancelledThenPaid []string
	// Marked are the payouts an operator's mark ended (each checked with the provider); UncheckedMarks those of
	// them the provider did not confirm: with one person marking, there must be none.
	Marked, UncheckedMarks []string
	Duration               time.Duration
}

// OK reports whether the run found no double payout, no lost payout, no contradiction between payoutflow and a
// ledger, no mark taken on one person's word and no accepted forgery.
func (r Report) OK() bool {
	return len(r.ExecutedTwice) == 0 && len(r.Lost) == 0 && r.ForgedAccepted == 0 &&
		len(r.PaidButNotSucceeded) == 0 && len(r.SucceededButNotPaid) == 0 && len(r.UncheckedMarks) == 0
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
	examples := map[string][]string{}
	for _, id := range sortedKeys(r.NeedsAttention) {
		if why := r.NeedsAttention[id]; len(examples[why]) < 3 {
			examples[why] = append(examples[why], id)
		}
	}
	for _, why := range sortedKeys(reasons) {
		fmt.Fprintf(&b, "      %3d × %s (%s)\n", reasons[why], why, strings.Join(examples[why], " "))
	}
	fmt.Fprintf(&b, "  executed twice     %d  (must be 0) %s\n", len(r.ExecutedTwice), strings.Join(r.ExecutedTwice, " "))
	fmt.Fprintf(&b, "  lost               %d  (must be 0) %s\n", len(r.Lost), strings.Join(r.Lost, " "))
	fmt.Fprintf(&b, "  paid, not reported %d  (must be 0) %s\n", len(r.PaidButNotSucceeded), strings.Join(r.PaidButNotSucceeded, " "))
	fmt.Fprintf(&b, "  reported, not paid %d  (must be 0) %s\n", len(r.SucceededButNotPaid), strings.Join(r.SucceededButNotPaid, " "))
	fmt.Fprintf(&b, "  unchecked marks    %d  (must be 0) %s\n", len(r.UncheckedMarks), strings.Join(r.UncheckedMarks, " "))
	fmt.Fprintf(&b, "  forged webhooks    %d sent, %d accepted (must be 0)\n", r.ForgedSent, r.ForgedAccepted)
	listed := fmt.Sprint(r.ContradictionsListed)
	if r.ContradictionsListed < 0 {
		listed = "?"
	}
	fmt.Fprintf(&b, "  contradictions     %d recorded on payouts, %s listed by GET /v1/payouts?contradiction=true %s\n",
		len(r.Contradictions), listed, strings.Join(r.Contradictions, " "))
	fmt.Fprintf(&b, "  marks taken        %d (each checked with the provider) %s\n", len(r.Marked), strings.Join(r.Marked, " "))
	if len(r.CancelledThenPaid) > 0 {
		fmt.Fprintf(&b, "  cancel taken, paid %d (the provider had it already; reported succeeded) %s\n", len(r.CancelledThenPaid),
			strings.Join(r.CancelledThenPaid, " "))
	}
	for i, line := range describeActions(r.Actions) {
		label := ""
		if i == 0 {
			label = "operators"
		}
		fmt.Fprintf(&b, "  %-18s %s\n", label, line)
	}
	if len(r.TemporalCancels) > 0 {
		var parts []string
		total := 0
		for _, st := range sortedKeys(r.TemporalCancels) {
			total += r.TemporalCancels[st]
			parts = append(parts, fmt.Sprintf("%d %s", r.TemporalCancels[st], st))
		}
		fmt.Fprintf(&b, "  temporal cancels   %d sent to payouts under way, which ended: %s\n", total, strings.Join(parts, ", "))
		for _, note := range sortedKeys(r.TemporalCancelNotes) {
			fmt.Fprintf(&b, "      %3d × %s\n", r.TemporalCancelNotes[note], note)
		}
	}
	fmt.Fprintf(&b, "  process faults     %s\n", strings.Join(r.Restarts, ", "))
	for _, name := range sortedKeys(r.Faults) {
		fmt.Fprintf(&b, "  %-9s faults    %v\n", name, r.Faults[name])
	}
	if r.OK() {
		b.WriteString("  result             OK: nothing paid twice, nothing lost, no ledger contradicted, no forgery believed\n")
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

// Policy lets the policy approve small payouts of the mix alone, so that a run approves some by policy and some by API.
const Policy = `{"rules": [
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
		o.Timeout = DefaultTimeout(o.Payouts)
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
	if err := os.WriteFile(policyFile, []byte(Policy), 0o600); err != nil {
		return Report{}, err
	}
	keysFile := filepath.Join(o.Dir, "api-keys.json")
	keys, err := writeKeys(keysFile)
	if err != nil {
		return Report{}, err
	}
	s, err := newStack(o.Dev, o.Dir, []string{
		"SANDBOX_FAULTS=" + withSeed(o.Faults, o.Seed),
		"POLICY_FILE=" + policyFile,
		"API_KEYS_FILE=" + keysFile,
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
	tc, err := newTemporalClient(s.addrs[partTemporal])
	if err != nil {
		return Report{}, err
	}
	defer tc.Close()
	logf("chaos: stack up in %s (logs in %s); %d payouts, %d at once, faults %q, seed %d",
		time.Since(started).Round(time.Millisecond), s.logs, o.Payouts, o.Concurrency, o.Faults, o.Seed)

	hc := &http.Client{Timeout: 30 * time.Second}
	clients, err := apiClients(s.apiURL, keys, hc)
	if err != nil {
		return Report{}, err
	}
	d := &driver{clients: clients, logf: logf, http: hc, temporal: tc,
		n: o.Payouts, actions: map[string]map[string]int{}, temporalCancelled: map[string]bool{}}
	runCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	var rep Report
	var chaosWG sync.WaitGroup
	chaosWG.Add(1)
	go func() {
		defer chaosWG.Done()
		rep.Restarts = processFaults(runCtx, s, o, d.progress, started, logf)
	}()

	ids := d.createAll(runCtx, o.Payouts, o.Concurrency, o.Seed, planOperators(o.Payouts, o))
	logf("chaos: %d payouts created in %s; driving them to an end", len(ids), time.Since(started).Round(time.Second))
	states := d.settle(runCtx, ids)
	d.acting.Wait()
	// Every process fault of the plan happens, even when the payouts settle first; then whatever they upset
	// settles again.
	chaosWG.Wait()
	states = d.settle(runCtx, ids)
	states = d.refresh(ctx, ids, states)

	rep.Started = len(ids)
	rep.NeedsAttention = map[string]string{}
	rep.Failures = map[string]int{}
	rep.TemporalCancels, rep.TemporalCancelNotes = map[string]int{}, map[string]int{}
	for _, id := range ids {
		st := states[id]
		if d.temporalCancelled[id] {
			rep.TemporalCancels[string(st.Status)]++
			rep.TemporalCancelNotes[st.temporalCancelNote()]++
		}
		if st.Contradiction != nil {
			rep.Contradictions = append(rep.Contradictions, fmt.Sprintf("%s(%s, provider says %s)", id, st.Status,
				st.Contradiction.ProviderSays))
		}
		if st.Status == "succeeded" && st.cancelTaken() {
			rep.CancelledThenPaid = append(rep.CancelledThenPaid, id+"("+st.Provider+")")
		}
		if note, ok := st.markedBy(); ok {
			rep.Marked = append(rep.Marked, id)
			if !strings.Contains(note, "(the provider has no such payout)") {
				rep.UncheckedMarks = append(rep.UncheckedMarks, id)
			}
		}
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
			lost := id + "(" + string(st.Status)
			if d.temporalCancelled[id] {
				lost += ", after Temporal's cancellation request"
			}
			rep.Lost = append(rep.Lost, lost+")")
		}
	}
	rep.Actions = d.actions
	rep.ContradictionsListed = d.listContradictions(ctx)
	paid, err := ledgers(s, o.Dir)
	if err != nil {
		return rep, err
	}
	if err := dumpPayouts(filepath.Join(o.Dir, "payouts.json"), ids, states); err != nil {
		return rep, err
	}
	for _, id := range ids {
		n := paid[id]
		if n > 1 {
			rep.ExecutedTwice = append(rep.ExecutedTwice, fmt.Sprintf("%s(%d)", id, n))
		}
		switch st := states[id].Status; {
		case n > 0 && (st == "failed" || st == "cancelled"):
			if states[id].Contradiction != nil {
				id += "(contradiction recorded)"
			}
			rep.PaidButNotSucceeded = append(rep.PaidButNotSucceeded, id)
		case n == 0 && st == "succeeded":
			rep.SucceededButNotPaid = append(rep.SucceededButNotPaid, id)
		}
	}
	rep.Faults = map[string]map[string]int64{}
	for name, base := range s.sandbox {
		var f map[string]int64
		if err := stacktest.GetJSON(base+"/_sandbox/faults", &f); err != nil {
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

// DefaultTimeout is how long a run of n payouts may take by default: 20 minutes and half a second a payout.
func DefaultTimeout(n int) time.Duration {
	return 20*time.Minute + time.Duration(n)*500*time.Millisecond
}

// minFaultGap is the least time between two process faults.
const minFaultGap = 5 * time.Second

// processFaults kills and restarts processes during the run, spread over it: the k-th of N happens once the run's
// progress (0 to 1: half for the payouts created, half for the payouts settled) reaches about k/(N+1), and at
// least minFaultGap after the one before, until its plan is done or ctx ends.
func processFaults(ctx context.Context, s *stack, o Options, progress func() float64, started time.Time,
	logf func(string, ...any)) []string {
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
	last := time.Now()
	for k, part := range plan {
		step := 1 / float64(len(plan)+1)
		at := min(float64(k+1)*step+(rng.Float64()-0.5)*step/2, 1)
		for progress() < at || time.Since(last) < minFaultGap {
			select {
			case <-ctx.Done():
				return done
			case <-time.After(200 * time.Millisecond):
			}
		}
		p := progress()
		hard := part != partTemporal
		logf("chaos: progress %.0f%%: %s", 100*p, part)
		if err := s.restart(part, hard); err != nil {
			logf("chaos: restart %s: %v", part, err)
		}
		last = time.Now()
		how := " stop/start"
		if hard {
			how = " SIGKILL"
		}
		done = append(done, fmt.Sprintf("%s%s (%s, %.0f%%)", part, how,
			last.Sub(started).Round(time.Second), 100*p))
	}
	return done
}

// dumpPayouts writes every payout as the API last showed it (timeline included), for a look at what the report
// names.
func dumpPayouts(path string, ids []string, states map[string]state) error {
	all := make(map[string]state, len(ids))
	for _, id := range ids {
		all[id] = states[id]
	}
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// ledgers counts each payout's executions across the sandboxes' ledgers, and keeps a copy of each ledger in
// dir/ledger-<provider>.json.
func ledgers(s *stack, dir string) (map[string]int, error) {
	paid := map[string]int{}
	for _, provider := range []string{"bank131", "bepaid", "mandarin"} {
		var raw json.RawMessage
		if err := stacktest.GetJSON(s.sandbox[provider]+"/_sandbox/ledger", &raw); err != nil {
			return nil, fmt.Errorf("%s ledger: %w", provider, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "ledger-"+provider+".json"), raw, 0o600); err != nil {
			return nil, err
		}
		// The payout id: Bank 131 keeps it as the metadata, bePaid as the tracking_id, Mandarin as the orderId.
		var entries []struct {
			Metadata   string `json:"metadata"`
			TrackingID string `json:"tracking_id"`
			OrderID    string `json:"order_id"`
		}
		if err := json.Unmarshal(raw, &entries); err != nil {
			return nil, fmt.Errorf("%s ledger: %w", provider, err)
		}
		for _, e := range entries {
			paid[e.Metadata+e.TrackingID+e.OrderID]++
		}
	}
	return paid, nil
}

// state is a payout as the driver last read it.
type state struct{ pfclient.Payout }

// cancelTaken reports whether the payout's workflow took a cancel (by API or Temporal's cancellation request).
func (st state) cancelTaken() bool {
	for _, e := range st.Timeline {
		if strings.HasPrefix(e.Note, "cancelled by ") {
			return true
		}
	}
	return false
}

// temporalCancelNote is what the payout's timeline says of Temporal's cancellation request, in general terms.
func (st state) temporalCancelNote() string {
	const actor = "Temporal cancellation request"
	for _, e := range st.Timeline {
		note := e.Note
		switch {
		case strings.HasPrefix(note, "cancelled by "+actor):
			return "cancelled the payout"
		case strings.HasPrefix(note, "cancel by "+actor+" refused"):
			return "refused: the provider pays on submit and has the payout"
		case strings.HasPrefix(note, "cancel by "+actor+" ignored: "):
			why := strings.TrimPrefix(note, "cancel by "+actor+" ignored: ")
			if strings.HasPrefix(why, "already decided") {
				why = "already decided"
			}
			return "ignored: " + why
		}
	}
	return "not in the timeline"
}

// markedBy reports whether an operator's mark ended the payout, and the timeline's note of it.
func (st state) markedBy() (string, bool) {
	if !st.final() {
		return "", false
	}
	for i := len(st.Timeline) - 1; i >= 0; i-- {
		note := st.Timeline[i].Note
		if strings.HasPrefix(note, "marked failed by ") || strings.HasPrefix(note, "marked succeeded by ") {
			return note, true
		}
	}
	return "", false
}

func (st state) final() bool { return st.Status.Final() }

// attentionGrace is how long a payout may need attention before the run takes that as its end: until then it may
// still resolve itself (its next ask of the provider may be answered).
const attentionGrace = time.Minute

// driver is the backend, the operators and the payers of a chaos run.
type driver struct {
	// clients call the API with each of the run's keys, by name.
	clients map[string]*pfclient.Client
	logf    func(string, ...any)
	// http follows transfers' 3-D Secure redirects.
	http     *http.Client
	temporal client.Client
	n        int
	// created and settled count the payouts created, and settled (final, or needing attention), for progress.
	created, settled atomic.Int64
	// plans are the operators' plans, by payout: made before the payouts are created, then changed only by settle.
	plans map[string]*plan
	// acting counts the operators' cancels still to come.
	acting sync.WaitGroup

	mu                sync.Mutex
	actions           map[string]map[string]int
	temporalCancelled map[string]bool
}

// progress is how far the run is, from 0 to 1: half for the payouts created, half for those settled.
func (d *driver) progress() float64 {
	if d.n <= 0 {
		return 1
	}
	return min((float64(d.created.Load())+float64(d.settled.Load()))/float64(2*d.n), 1)
}

// apiClients are clients of the API at url with each of keys (secrets by name). Every call of the run is repeated
// until its context ends when it may be (the API is killed and started again): reads and creates (each with its
// idempotency key) after any failure that may pass, decisions only while the API refuses connections.
func apiClients(url string, keys map[string]string, hc *http.Client) (map[string]*pfclient.Client, error) {
	clients := map[string]*pfclient.Client{}
	for name, secret := range keys {
		c, err := pfclient.New(url, secret, pfclient.WithHTTPClient(hc), pfclient.WithUserAgent("payoutflow-chaos"),
			pfclient.WithRetry(pfclient.RetryPolicy{MaxAttempts: -1, MinBackoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second}))
		if err != nil {
			return nil, fmt.Errorf("API client for %s: %w", name, err)
		}
		clients[name] = c
	}
	return clients, nil
}

// get reads a payout as the backend.
func (d *driver) get(ctx context.Context, id string) (state, error) {
	p, err := d.clients[keyBackend].Get(ctx, id)
	if err != nil {
		return state{}, err
	}
	return state{*p}, nil
}

// mixRequest is the i-th payout of the mix as the client sends it.
func mixRequest(i int) (pfclient.CreateRequest, error) {
	var req pfclient.CreateRequest
	dec := json.NewDecoder(strings.NewReader(Mix(i)))
	dec.DisallowUnknownFields()
	return req, dec.Decode(&req)
}

// createAll creates n payouts of the mix, concurrency at once, sets the operators off on their plans, and returns
// the payouts' ids.
func (d *driver) createAll(ctx context.Context, n, concurrency int, seed uint64, plans []*plan) []string {
	ids := make([]string, n)
	d.plans = make(map[string]*plan, n)
	var mu sync.Mutex
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			req, err := mixRequest(i)
			if err != nil {
				d.logf("chaos: payout %d of the mix: %v", i, err)
				return
			}
			p, err := d.clients[keyBackend].Create(ctx, req, &pfclient.CreateOptions{IdempotencyKey: fmt.Sprintf("chaos-%d-%d", seed, i)})
			if err != nil {
				d.logf("chaos: create %d: %v", i, err)
				return
			}
			ids[i] = p.ID
			d.created.Add(1)
			mu.Lock()
			d.plans[p.ID] = plans[i]
			mu.Unlock()
			if plans[i].act != "" {
				d.acting.Add(1)
				go d.actLater(ctx, p.ID, plans[i], time.Now())
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
// a person, passes 3-D Secure for transfers, and acts as the operators' plans say.
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
	done := map[string]bool{} // settled, or needing attention: for the run's progress
	d.settled.Store(0)
	for {
		pending := 0
		for _, id := range ids {
			if settled(id) {
				continue
			}
			st, err := d.get(ctx, id)
			switch {
			case ctx.Err() != nil:
				return states
			case err != nil:
				d.logf("chaos: read %s: %v", id, err)
				pending++
				continue
			}
			states[id] = st
			if now := st.final() || st.Status == "needs_attention"; now != done[id] {
				done[id] = now
				if now {
					d.settled.Add(1)
				} else {
					d.settled.Add(-1)
				}
			}
			if st.Status != "needs_attention" {
				delete(attentionSince, id)
			} else if _, ok := attentionSince[id]; !ok {
				attentionSince[id] = time.Now()
			}
			var flaggedFor time.Duration
			if since, ok := attentionSince[id]; ok {
				flaggedFor = time.Since(since)
			}
			d.operate(ctx, id, st, flaggedFor)
			if settled(id) {
				continue
			}
			pending++
			switch {
			case st.Status == "awaiting_approval" && !approved[id]:
				approved[id] = d.approve(ctx, id)
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
			var few []string
			for _, id := range ids {
				if !settled(id) && pending <= 5 {
					few = append(few, id+"("+string(states[id].Status)+")")
				}
			}
			d.logf("chaos: %d of %d payouts still under way %s", pending, len(ids), strings.Join(few, " "))
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return states
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// listContradictions counts the payouts GET /v1/payouts?contradiction=true lists, or -1 when it cannot.
func (d *driver) listContradictions(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n := 0
	for _, err := range d.clients[keyOperator].List(ctx, pfclient.ListParams{Contradiction: true, Limit: 100}) {
		if err != nil {
			d.logf("chaos: list contradictions: %v", err)
			return -1
		}
		n++
	}
	return n
}

// refresh reads every payout's state once more.
func (d *driver) refresh(ctx context.Context, ids []string, states map[string]state) map[string]state {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, id := range ids {
		if st, err := d.get(ctx, id); err == nil {
			states[id] = st
		}
	}
	return states
}
