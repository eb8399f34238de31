package chaos

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	pfclient "github.com/payoutflow/payoutflow/client"
)

// The API keys of a chaos run: the backend creates payouts; two operators, each with a key of their own, approve,
// cancel and resolve them. Only the operator marks (mark_failed, mark_succeeded), and never a second person: a mark
// the provider cannot check therefore never completes.
const (
	keyBackend  = "chaos-backend"
	keyApprover = "chaos-approver"
	keyOperator = "chaos-operator"
)

// writeKeys writes the run's API keys file (names, scopes, hashes of new secrets) and returns the secrets by name.
func writeKeys(path string) (map[string]string, error) {
	type key struct {
		Name   string   `json:"name"`
		SHA256 string   `json:"sha256"`
		Scopes []string `json:"scopes"`
	}
	scopes := map[string][]string{
		keyBackend:  {"create", "read"},
		keyApprover: {"read", "approve"},
		keyOperator: {"read", "approve"},
	}
	secrets := map[string]string{}
	var keys []key
	for _, name := range []string{keyBackend, keyApprover, keyOperator} {
		b := make([]byte, 32)
		if _, err := crand.Read(b); err != nil {
			return nil, err
		}
		secret := "pf_" + base64.RawURLEncoding.EncodeToString(b)
		sum := sha256.Sum256([]byte(secret))
		secrets[name] = secret
		keys = append(keys, key{Name: name, SHA256: hex.EncodeToString(sum[:]), Scopes: scopes[name]})
	}
	b, err := json.MarshalIndent(map[string][]key{"keys": keys}, "", "  ")
	if err != nil {
		return nil, err
	}
	return secrets, os.WriteFile(path, b, 0o600)
}

// Operator actions, as the report counts them.
const (
	actCancel         = "cancel"
	actTemporalCancel = "temporal cancel"
	actRace           = "confirm+cancel at once"
	actLookUp         = "look_up"
	actMarkFailed     = "mark_failed"
	actMarkSucceeded  = "mark_succeeded"
)

// plan is what the operators do to one payout, drawn from the run's seed: a cancel by API or Temporal's
// cancellation request at a random moment of its life (after a random delay from its creation, most often within a
// few seconds, while it is under way; sometimes after it ended, as an operator's cancel may come too late), a
// confirm raced by a cancel if it waits for a person, and, if it comes to need attention, a look_up and maybe a
// mark.
type plan struct {
	act   string
	delay time.Duration
	race  bool
	mark  string

	lookedUp, marked bool
}

// maxActDelay bounds the delay of a plan's cancel after the payout's creation.
const maxActDelay = 8 * time.Second

// planOperators draws the plans of n payouts, by their index in the mix.
func planOperators(n int, o Options) []*plan {
	rng := rand.New(rand.NewPCG(o.Seed, 2))
	plans := make([]*plan, n)
	for i := range plans {
		// The product of two uniform draws: most delays short, some long.
		p := &plan{delay: time.Duration(rng.Float64() * rng.Float64() * float64(maxActDelay))}
		switch r := rng.Float64(); {
		case r < o.Cancels:
			p.act = actCancel
		case r < o.Cancels+o.TemporalCancels:
			p.act = actTemporalCancel
		}
		p.race = rng.Float64() < o.Races
		if rng.Float64() < o.Marks {
			p.mark = actMarkFailed
			if rng.IntN(2) == 0 {
				p.mark = actMarkSucceeded
			}
		}
		plans[i] = p
	}
	return plans
}

// actLater does the plan's cancel, by API or by Temporal's cancellation request, once its delay from created has
// passed.
func (d *driver) actLater(ctx context.Context, id string, p *plan, created time.Time) {
	defer d.acting.Done()
	t := time.NewTimer(time.Until(created.Add(p.delay)))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	switch p.act {
	case actCancel:
		d.post(ctx, keyOperator, actCancel, id, func(c *pfclient.Client) (*pfclient.Decision, error) {
			return c.Cancel(ctx, id, "chaos: the customer changed their mind")
		})
	case actTemporalCancel:
		st, err := d.get(ctx, id)
		if err != nil {
			return
		}
		d.temporalCancel(ctx, id, st)
	}
}

// After how long in needs_attention the operator asks for a look-up, and then marks.
const (
	lookUpAfter = 2 * time.Second
	markAfter   = 10 * time.Second
)

// operate does what the payout's plan says is due now for a payout that needs attention, seeing it in st.
func (d *driver) operate(ctx context.Context, id string, st state, flaggedFor time.Duration) {
	p := d.plans[id]
	if p == nil || st.Status != "needs_attention" {
		return
	}
	if flaggedFor >= lookUpAfter && !p.lookedUp {
		p.lookedUp = true
		d.post(ctx, keyOperator, actLookUp, id, resolve(ctx, id, pfclient.Resolution{Action: pfclient.ResolveLookUp}))
	}
	if flaggedFor >= markAfter && p.mark != "" && !p.marked {
		p.marked = true
		r := pfclient.Resolution{Action: pfclient.ResolveMarkFailed, Reason: "chaos: the provider's back office shows no such payout"}
		if p.mark == actMarkSucceeded {
			r = pfclient.Resolution{Action: pfclient.ResolveMarkSucceeded, Reference: "chaos-ref-" + id[3:15],
				Reason: "chaos: found in the provider's registry"}
		}
		d.post(ctx, keyOperator, p.mark, id, resolve(ctx, id, r))
	}
}

// approve approves a payout that waits for a person, or, as its plan says, approves and cancels it at the same
// moment, by two operators. It reports whether the decision was taken (or another one was).
func (d *driver) approve(ctx context.Context, id string) bool {
	confirm := func() string {
		return d.post(ctx, keyApprover, "confirm", id, func(c *pfclient.Client) (*pfclient.Decision, error) {
			return c.Confirm(ctx, id, "chaos run")
		})
	}
	if p := d.plans[id]; p == nil || !p.race {
		a := confirm()
		return a == "202" || strings.HasPrefix(a, "409")
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		<-start
		confirm()
	}()
	go func() {
		defer wg.Done()
		<-start
		d.post(ctx, keyOperator, actRace, id, func(c *pfclient.Client) (*pfclient.Decision, error) {
			return c.Cancel(ctx, id, "chaos: cancelled while it was approved")
		})
	}()
	close(start)
	wg.Wait()
	return true
}

// decision is an operator's call: a confirm, cancel or resolve by the client given.
type decision func(*pfclient.Client) (*pfclient.Decision, error)

func resolve(ctx context.Context, id string, r pfclient.Resolution) decision {
	return func(c *pfclient.Client) (*pfclient.Decision, error) { return c.Resolve(ctx, id, r) }
}

// post makes an operator's decision on payout id with key, counts the answer under action (confirm is not counted
// but in a race) and returns it: "202", "409 not_cancellable", … or "no answer" (the client repeats a decision only
// while the API refuses connections: one that may have reached it is not sent again, and the payout's next read
// tells whether it was taken).
func (d *driver) post(ctx context.Context, key, action, id string, call decision) string {
	_, err := call(d.clients[key])
	answer, status := fmt.Sprint(http.StatusAccepted), http.StatusAccepted
	var e *pfclient.Error
	switch {
	case errors.As(err, &e):
		answer, status = fmt.Sprint(e.StatusCode), e.StatusCode
		if e.Code != "" {
			answer += " " + e.Code
		}
	case err != nil:
		answer, status = "no answer", 0
	}
	if action == "confirm" {
		if d.plans[id] != nil && d.plans[id].race {
			d.count(actRace+": the confirm", answer)
		}
		return answer
	}
	d.count(action, answer)
	if !expected(status) {
		d.logf("chaos: %s of %s answered %s: %v", action, id, answer, err)
	}
	return answer
}

// expected reports whether an operator's action got an answer the API gives to it: 202, or 409 for a payout that
// cannot take it now.
func expected(status int) bool {
	return status == http.StatusAccepted || status == http.StatusConflict
}

// temporalCancel sends Temporal's cancellation request to the payout's workflow (its id is the payout id), seen in
// st. Temporal accepts a request to a workflow that has ended too, and it does nothing then.
func (d *driver) temporalCancel(ctx context.Context, id string, st state) {
	answer := "accepted"
	if st.final() {
		answer = "accepted, after the payout ended"
	}
	for attempt := 0; ; attempt++ {
		callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := d.temporal.CancelWorkflow(callCtx, id, "")
		cancel()
		var notFound *serviceerror.NotFound
		switch {
		case err == nil && !st.final():
			d.mu.Lock()
			d.temporalCancelled[id] = true
			d.mu.Unlock()
		case err == nil:
		case errors.As(err, &notFound):
			answer = "workflow already closed"
		case ctx.Err() == nil && attempt < 30:
			time.Sleep(time.Second) // Temporal may be restarting
			continue
		default:
			answer = "error"
			d.logf("chaos: Temporal cancellation request of %s: %v", id, err)
		}
		d.count(actTemporalCancel, answer)
		return
	}
}

func (d *driver) count(action, answer string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.actions[action] == nil {
		d.actions[action] = map[string]int{}
	}
	d.actions[action][answer]++
}

// newTemporalClient is a client of the run's Temporal server, which connects when first used and again after a
// restart.
func newTemporalClient(hostPort string) (client.Client, error) {
	ns := os.Getenv("TEMPORAL_NAMESPACE")
	if ns == "" {
		ns = "default"
	}
	return client.NewLazyClient(client.Options{HostPort: hostPort, Namespace: ns, Logger: quietLogger{}})
}

// quietLogger drops the Temporal SDK's log lines: the run reports what it saw.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

// describeActions is the operators' actions as the report prints them.
func describeActions(actions map[string]map[string]int) []string {
	var lines []string
	for _, action := range sortedKeys(actions) {
		answers := actions[action]
		total := 0
		var parts []string
		for _, a := range sortedKeys(answers) {
			total += answers[a]
			parts = append(parts, fmt.Sprintf("%s ×%d", a, answers[a]))
		}
		lines = append(lines, fmt.Sprintf("%s %d (%s)", action, total, strings.Join(parts, ", ")))
	}
	sort.Strings(lines)
	return lines
}
