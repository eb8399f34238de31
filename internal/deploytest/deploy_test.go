package deploytest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/payoutflow/payoutflow/internal/stacktest"
)

// The deploy's environment, shared by every part. Payouts ask a provider that sends no webhook after 2 s, then
// 6 s, 14 s (capped at 10 s between asks): short enough that the payout whose bank is in error is flagged before
// the deploy, long enough that its next ask falls after it. Mandarin's balance is checked with "hold", so that a
// payout the balance cannot cover waits for an operator.
var deployEnv = []string{
	"PROVIDER_POLL_AFTER=2s",
	"PROVIDER_POLL_MAX=10s",
	"PROVIDER_WATCH_EVERY=500ms",
	"APPROVAL_TIMEOUT=1h",
	"MANDARIN_BALANCE_CHECK=hold",
	"LOG_LEVEL=info",
}

// policy: large Bank 131 SBP payouts need two people (maker-checker), every other payout one person.
const policy = `{"rules": [
  {"name": "large SBP payouts: two people", "provider": "bank131", "method": "sbp", "currency": "RUB", "two_approvers_from": 500000},
  {"name": "every other payout: one person"}
]}`

// The payouts in flight across the deploy: every provider and method, each left in a state a payout waits in.
const (
	bodyBank131Card = `{"provider":"bank131","amount":{"value":10000,"currency":"RUB"},
	  "destination":{"type":"card","card":{"number":"4242424242424242"}},
	  "recipient":{"full_name":"Ivanov Ivan"},"description":"deploy test: awaiting approval"}`
	// The bank keeps this one in status error for 3 s after confirm, then pays.
	bodyBank131Error = `{"provider":"bank131","amount":{"value":10100,"currency":"RUB"},
	  "destination":{"type":"card","card":{"number":"4000000000000101"}},
	  "recipient":{"full_name":"Ivanov Ivan"},"description":"deploy test: bank in error"}`
	bodyBank131Single = `{"provider":"bank131","amount":{"value":10400,"currency":"RUB"},
	  "destination":{"type":"card","card":{"number":"2200000000000004"}},"single_request":true,
	  "recipient":{"full_name":"Ivanov Ivan"},"description":"deploy test: single request"}`
	bodyBank131Token = `{"provider":"bank131","amount":{"value":10200,"currency":"RUB"},
	  "destination":{"type":"card","card":{"token":"759c9852dde2211d7531b3d905c1d513fbfb914bee87fb567d99c7b2f2c2ad44"}},
	  "recipient":{"full_name":"Ivanov Ivan"},"description":"deploy test: cancelled after the deploy"}`
	bodyBank131SBP = `{"provider":"bank131","amount":{"value":600000,"currency":"RUB"},
	  "destination":{"type":"sbp","sbp":{"phone":"+79001310001","bank_id":"100000000111"}},
	  "recipient":{"full_name":"Ivanov Ivan"},"description":"deploy test: two approvers"}`
	bodyTransfer = `{"provider":"bank131","amount":{"value":10843,"currency":"TJS"},
	  "destination":{"type":"card","card":{"number":"5058270610441098"}},"recipient":{"full_name":"Pahmutov Maksim"},
	  "transfer":{"source":{"value":100000,"currency":"RUB"},"rate":"9.2222","provider_rate":"8.2200",
	    "provider_tx_id":"deploytest-1","sender":{"first_name":"Olga","last_name":"Pahmutova","citizenship_country":"RUS",
	    "country":"RUS","city":"Moscow","street":"Tverskaya","birth_date":"1998-03-15",
	    "document":{"type":"passport","number":"8008 579120"}},
	    "recipient":{"first_name":"Maksim","last_name":"Pahmutov"},
	    "sender_card":{"number":"4242424242424242","exp_month":"01","exp_year":"2029","cvv":"123"}}}`
	bodyBePaid = `{"provider":"bepaid","amount":{"value":4500,"currency":"BYN"},
	  "destination":{"type":"card","card":{"number":"4200000000000000","holder":"IVAN IVANOV","exp_month":"12","exp_year":"2030"}},
	  "recipient":{"full_name":"Ivan Ivanov","email":"ivan@example.com",
	    "billing_address":{"first_name":"Ivan","last_name":"Ivanov","country":"BY","city":"Minsk"}},
	  "sender":{"document":{"type":"PASSPORT","number":"MP1234567","issued_at":"2010-03-12"}},
	  "description":"deploy test: awaiting approval"}`
	// bePaid answers pending, then notifies.
	bodyBePaidPending = `{"provider":"bepaid","amount":{"value":4600,"currency":"BYN"},
	  "destination":{"type":"card","card":{"number":"4012888888881881","holder":"IVAN IVANOV","exp_month":"12","exp_year":"2030"}},
	  "recipient":{"full_name":"Ivan Ivanov","email":"ivan@example.com",
	    "billing_address":{"first_name":"Ivan","last_name":"Ivanov","country":"BY","city":"Minsk"}},
	  "sender":{"document":{"type":"PASSPORT","number":"MP1234567","issued_at":"2010-03-12"}},
	  "description":"deploy test: pending, then notified"}`
	bodyMandarinToken = `{"provider":"mandarin","amount":{"value":150000,"currency":"RUB"},
	  "destination":{"type":"card","card":{"token":"0eb51e74-e704-4c36-b5cb-8f0227621518"}},
	  "recipient":{"full_name":"Ivanov Ivan","email":"ivan@example.com"},"description":"deploy test: awaiting approval"}`
	// The recipient's bank gives "Ivan Ivanovich Ivanov", which matches.
	bodyMandarinSBPNoName = `{"provider":"mandarin","amount":{"value":1000,"currency":"RUB"},
	  "destination":{"type":"sbp","sbp":{"phone":"+79007654321","bank_id":"100000000111","without_name":true}},
	  "recipient":{"full_name":"Ivanov Ivan Ivanovich","email":"ivan@example.com"},"description":"deploy test: SBP without the name"}`
	bodyMandarinSBP = `{"provider":"mandarin","amount":{"value":1100,"currency":"RUB"},
	  "destination":{"type":"sbp","sbp":{"phone":"+79001234567","bank_id":"100000000111"}},
	  "recipient":{"full_name":"Иванов Петр Сергеевич","email":"ivan@example.com"},"description":"deploy test: SBP with the name"}`
	bodyMandarinPage = `{"provider":"mandarin","amount":{"value":50000,"currency":"RUB"},
	  "destination":{"type":"payment_page"},"recipient":{"full_name":"Ivanov Ivan","email":"ivan@example.com"},
	  "description":"deploy test: payment page"}`
	// 2 000 000.00 RUB: more than the sandbox's balance (1 000 000.00), so it is held for an operator.
	bodyMandarinHeld = `{"provider":"mandarin","amount":{"value":200000000,"currency":"RUB"},
	  "destination":{"type":"card","card":{"number":"4012888888881881"}},
	  "recipient":{"full_name":"Ivanov Ivan","email":"ivan@example.com"},"description":"deploy test: held for the balance"}`
)

// inFlight is a payout of the deploy: what it is, what the old worker leaves it waiting for, and how it must end.
type inFlight struct {
	name    string
	id      string
	waiting string
	want    string // final status
	paid    int    // entries in the provider's ledger
	// mayEndBefore: the payout may finish on the old worker if stopping it is slow (its next ask of the bank is
	// due seconds after it reaches its state), which is reported, not failed.
	mayEndBefore bool
	// before is the payout as the old worker left it.
	before payoutState
}

// TestDeploy_PayoutsInFlightFinishOnTheNewRelease deploys today's worker over the previous release's, as an operator
// does (README, "Deploying a new version"): payouts of every provider wait in every state on the old worker; it is
// stopped (SIGTERM), today's worker starts on the same task queue, and every payout must end as it should, paid at
// most once, without a workflow task failure, and having run workflow tasks on both workers.
func TestDeploy_PayoutsInFlightFinishOnTheNewRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("the deploy test builds cmd/dev of two releases and runs the stack")
	}
	started := time.Now()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	prev := previousReleaseOf(t, root)

	// 1. Build the previous release's cmd/dev from its commit, and today's.
	dir := t.TempDir()
	oldBin, newBin := filepath.Join(dir, "dev-"+prev.Version), filepath.Join(dir, "dev-today")
	oldBuild := buildRelease(t, root, prev.Commit, dir, oldBin)
	newBuild := buildDev(t, root, newBin)
	t.Logf("built release %s (%s) in %s and today's code in %s", prev.Version, prev.Commit[:12],
		oldBuild.Round(time.Second), newBuild.Round(time.Second))
	runStarted := time.Now()

	// 2. The stack: Temporal, the sandboxes and the API from today's binary; the worker from the old release's.
	run := filepath.Join(dir, "run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	policyFile, keysFile := filepath.Join(run, "policy.json"), filepath.Join(run, "api-keys.json")
	if err := os.WriteFile(policyFile, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := stacktest.WriteAPIKeys(keysFile, "backend", "alice", "bob")
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, run, append(deployEnv, "API_KEYS_FILE="+keysFile, "POLICY_FILE="+policyFile)...)
	t.Cleanup(func() {
		s.stopAll() // so that the logs are whole
		if t.Failed() {
			t.Log("logs of the stack:\n" + s.logTails(40))
		}
		if keep := os.Getenv("DEPLOYTEST_LOGS"); keep != "" {
			if err := os.CopyFS(keep, os.DirFS(s.logs)); err != nil {
				t.Logf("DEPLOYTEST_LOGS: %v", err)
			}
		}
	})
	relay := newWebhookRelay(t, s.apiURL)
	s.start(partTemporal, newBin, "today")
	s.start(partSandboxes, newBin, "today", "PUBLIC_URL="+relay.srv.URL) // Bank 131's webhooks go through the relay
	oldWorker := s.start(partWorker, oldBin, prev.Version)
	s.start(partAPI, newBin, "today")
	t.Logf("stack up in %s: worker of release %s (pid %d), the rest today's", time.Since(runStarted).Round(time.Millisecond),
		prev.Version, oldWorker.cmd.Process.Pid)
	a := &api{t: t, API: stacktest.API{URL: s.apiURL, Keys: keys, HTTP: &http.Client{Timeout: 30 * time.Second}}}

	// 3. Payouts of every kind, each left waiting in its state by the old worker.
	card := &inFlight{name: "Bank 131 card", waiting: "awaiting approval", want: "succeeded", paid: 1}
	errored := &inFlight{name: "Bank 131 card, bank in error", waiting: "confirmed; the bank is in error and sends no webhook: needs attention, polling",
		want: "succeeded", paid: 1, mayEndBefore: true}
	single := &inFlight{name: "Bank 131 single request", waiting: "awaiting approval", want: "succeeded", paid: 1}
	token := &inFlight{name: "Bank 131 token", waiting: "awaiting approval (cancelled after the deploy)", want: "cancelled", paid: 0}
	sbp := &inFlight{name: "Bank 131 SBP", waiting: "approved by 1 of 2 people", want: "succeeded", paid: 1}
	transfer := &inFlight{name: "Bank 131 transfer", waiting: "submitted, waiting for the payer's 3-D Secure", want: "succeeded", paid: 1}
	bepaid := &inFlight{name: "bePaid card", waiting: "awaiting approval", want: "succeeded", paid: 1}
	bepaidPending := &inFlight{name: "bePaid card, pending", waiting: "awaiting approval", want: "succeeded", paid: 1}
	mToken := &inFlight{name: "Mandarin card token", waiting: "awaiting approval", want: "succeeded", paid: 1}
	mSBPName := &inFlight{name: "Mandarin SBP with the name", waiting: "awaiting approval", want: "succeeded", paid: 1}
	mSBP := &inFlight{name: "Mandarin SBP without the name", waiting: "watched until the bank named the recipient; awaiting approval",
		want: "succeeded", paid: 1}
	mPage := &inFlight{name: "Mandarin payment page", waiting: "approved and submitted; polling while the recipient has not entered a card",
		want: "succeeded", paid: 1}
	mHeld := &inFlight{name: "Mandarin card, balance short", waiting: "approved; held for the balance: needs attention (cancelled after the deploy)",
		want: "cancelled", paid: 0}
	payouts := []*inFlight{card, errored, single, token, sbp, transfer, bepaid, bepaidPending, mToken, mSBPName, mSBP, mPage, mHeld}
	for _, p := range []struct {
		p    *inFlight
		body string
	}{{card, bodyBank131Card}, {errored, bodyBank131Error}, {single, bodyBank131Single}, {token, bodyBank131Token},
		{sbp, bodyBank131SBP}, {transfer, bodyTransfer}, {bepaid, bodyBePaid}, {bepaidPending, bodyBePaidPending},
		{mToken, bodyMandarinToken}, {mSBPName, bodyMandarinSBP}, {mSBP, bodyMandarinSBPNoName}, {mPage, bodyMandarinPage},
		{mHeld, bodyMandarinHeld}} {
		p.p.id = a.create("backend", strings.ReplaceAll(strings.ToLower(p.p.name), " ", "-"), p.body)
	}
	const settle = time.Minute
	awaiting := func(st payoutState) bool { return st.Status == "awaiting_approval" }
	for _, p := range []*inFlight{card, errored, single, token, bepaid, bepaidPending, mToken, mSBPName} {
		p.before = a.waitFor(p.name, p.id, "awaiting_approval", settle, awaiting)
	}
	mSBP.before = a.waitFor(mSBP.name, mSBP.id, "awaiting approval with the name checked", settle, func(st payoutState) bool {
		return awaiting(st) && st.NameCheck != nil && st.NameCheck.Matches
	})
	a.waitFor(sbp.name, sbp.id, "awaiting two approvals", settle, func(st payoutState) bool {
		return awaiting(st) && st.ApprovalsRequired == 2
	})
	a.decide("alice", sbp.name, sbp.id, "confirm")
	sbp.before = a.waitFor(sbp.name, sbp.id, "approved by alice, awaiting the second person", settle, func(st payoutState) bool {
		return awaiting(st) && len(st.Approvals) == 1
	})
	a.waitFor(mPage.name, mPage.id, "awaiting_approval", settle, awaiting)
	a.decide("backend", mPage.name, mPage.id, "confirm")
	mPage.before = a.waitFor(mPage.name, mPage.id, "submitted with the payment page's link", settle, func(st payoutState) bool {
		return st.Status == "submitted" && st.ProviderRefs["user_web_link"] != ""
	})
	a.waitFor(mHeld.name, mHeld.id, "awaiting_approval", settle, awaiting)
	a.decide("backend", mHeld.name, mHeld.id, "confirm")
	mHeld.before = a.waitFor(mHeld.name, mHeld.id, "held for the balance (needs_attention)", settle, func(st payoutState) bool {
		return st.Status == "needs_attention" && strings.Contains(st.Attention, "balance")
	})
	transfer.before = a.waitFor(transfer.name, transfer.id, "submitted with the payer's 3-D Secure redirect", settle, func(st payoutState) bool {
		return st.Status == "submitted" && st.PayerAction != nil && st.PayerAction.RedirectURL != ""
	})
	// Last, as its next ask of the bank is due seconds after it is flagged: the bank's webhooks of this payout get
	// lost from now on, it is approved, confirmed, finds the bank in error and waits, polling.
	relay.deafen(errored.id)
	a.decide("backend", errored.name, errored.id, "confirm")
	if errored.before = a.waitFor(errored.name, errored.id, "needs_attention (the bank is in error)", 30*time.Second, func(st payoutState) bool {
		return st.Status == "needs_attention" || st.Final()
	}); errored.before.Status != "needs_attention" {
		t.Logf("note: %s is %s without having been flagged: its first ask of the bank came after the bank's 3 s in "+
			"error (a slow machine); it does not meet the deploy in flight this time", errored.name, errored.before.Status)
	}
	flagged := time.Now()
	t.Logf("%d payouts waiting on release %s after %s:", len(payouts), prev.Version, time.Since(runStarted).Round(time.Millisecond))
	for _, p := range payouts {
		t.Logf("  %-31s %s  %s", p.name, p.id, p.waiting)
	}

	// 4. The deploy: stop the old worker (SIGTERM, as an orchestrator does), start today's on the same task queue.
	stopped := s.stop(partWorker)
	stoppedAfter := time.Since(flagged)
	newWorker := s.start(partWorker, newBin, "today")
	t.Logf("deploy: worker of release %s stopped in %s; today's worker (pid %d) polling %s after the bank-in-error payout was flagged",
		prev.Version, stopped.Round(time.Millisecond), newWorker.cmd.Process.Pid, time.Since(flagged).Round(time.Millisecond))

	takenOver(t, s.temporal, payouts, newWorker, prev.Version)

	// Then what operators, backends and payers do next.
	for _, p := range []*inFlight{card, single, bepaid, bepaidPending, mToken, mSBPName, mSBP} {
		a.decide("backend", p.name, p.id, "confirm")
	}
	a.decide("bob", sbp.name, sbp.id, "confirm")
	a.decide("backend", token.name, token.id, "cancel")
	a.decide("backend", mHeld.name, mHeld.id, "cancel")
	if res, err := http.PostForm(mPage.before.ProviderRefs["user_web_link"], url.Values{"card_number": {"4012888888881881"}}); err != nil {
		t.Fatalf("%s: the recipient enters a card on the payment page: %v", mPage.name, err)
	} else if res.Body.Close(); res.StatusCode != http.StatusOK {
		t.Fatalf("%s: the payment page answered %s", mPage.name, res.Status)
	}
	if res, err := http.Get(transfer.before.PayerAction.RedirectURL); err != nil { // the payer's browser
		t.Fatalf("%s: the payer passes 3-D Secure: %v", transfer.name, err)
	} else if res.Body.Close(); res.StatusCode != http.StatusOK {
		t.Fatalf("%s: 3-D Secure answered %s", transfer.name, res.Status)
	}

	// 5. Every payout ends as it should, paid at most once, with no workflow task failure, on both workers.
	final := map[string]payoutState{}
	deadline := time.Now().Add(3 * time.Minute)
	for _, p := range payouts {
		var st payoutState
		var err error
		for {
			st, err = a.get(p.id, max(time.Until(deadline), 10*time.Second))
			if (err == nil && st.Final()) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		switch {
		case err != nil:
			t.Errorf("%s (%s), which was %s: not readable: %v", p.name, p.id, p.waiting, err)
		case string(st.Status) != p.want:
			t.Errorf("%s, which was %s: want %s, got %s", p.name, p.waiting, p.want, st)
		}
		final[p.id] = st
	}
	t.Logf("every payout settled %s after the deploy", time.Since(flagged).Round(time.Millisecond))

	paid, err := stacktest.Ledgers(s.sandbox)
	if err != nil {
		t.Errorf("the sandboxes' ledgers: %v", err)
	}
	for _, p := range payouts {
		if paid != nil && paid[p.id] != p.paid {
			t.Errorf("%s: paid %d times by the provider's ledger, want %d\n%s", p.name, paid[p.id], p.paid, final[p.id])
		}
		h, err := stacktest.Histories(s.temporal, "default", p.id)
		if err != nil {
			t.Errorf("%s: %v", p.name, err)
			continue
		}
		for _, f := range h.Failed {
			t.Errorf("%s: %s (see the worker logs)\n%s", p.name, f, final[p.id])
		}
		if h.Pending != "" {
			t.Errorf("%s: %s\n%s", p.name, h.Pending, final[p.id])
		}
		onOld, onNew := h.RanOn(oldWorker.cmd.Process.Pid), h.RanOn(newWorker.cmd.Process.Pid)
		switch {
		case !onOld:
			t.Errorf("%s: no workflow task ran on release %s's worker: the deploy did not meet it in flight", p.name, prev.Version)
		case !onNew && p.mayEndBefore:
			t.Logf("note: %s ended on release %s's worker before it was stopped (%s after it was flagged): "+
				"it did not meet the deploy in flight this time", p.name, prev.Version, stoppedAfter.Round(time.Millisecond))
		case !onNew:
			t.Errorf("%s: no workflow task ran on today's worker: it did not meet the deploy in flight\n%s", p.name, final[p.id])
		}
		t.Logf("  %-31s %-9s ledger %d, %d run(s), workflow tasks on %d worker(s), %d timed out, %d failed",
			p.name, final[p.id].Status, paid[p.id], h.Runs, len(h.Workers), h.TimedOut, len(h.Failed))
	}
	if n := relay.dropped(errored.id); n == 0 {
		t.Logf("note: no webhook of %s was dropped: it may have learnt the result from a webhook rather than by polling", errored.name)
	}
	for _, p := range []*proc{oldWorker, newWorker} {
		if lines := grepLog(p.log, "TMPRL1100", "nondetermin", "panic"); len(lines) > 0 {
			t.Errorf("worker %s logged a non-deterministic replay or a panic:\n%s", p.label, strings.Join(lines, "\n"))
		}
	}
	t.Logf("deploy test: %s in all, %s after the builds", time.Since(started).Round(time.Second), time.Since(runStarted).Round(time.Second))
}

// takenOver fails the test at once, with what the history and the worker say, when today's worker cannot take the
// payouts over: each payout's workflow must answer a query of its state, which today's worker answers only once it
// has replayed the payout's history (the API reads what payouts published, and asks none of them).
func takenOver(t *testing.T, c client.Client, payouts []*inFlight, w *proc, oldVersion string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var stuck []string
	for _, p := range payouts {
		var err error
		for {
			ctx, cancel := context.WithTimeout(context.Background(), max(time.Until(deadline), 3*time.Second))
			_, err = c.QueryWorkflow(ctx, p.id, "", "state")
			cancel()
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err == nil {
			continue
		}
		why := fmt.Sprintf("%s (%s), which was %s on release %s: %v", p.name, p.id, p.waiting, oldVersion, err)
		if h, err := stacktest.Histories(c, "default", p.id); err != nil {
			why += "\n  history: " + err.Error()
		} else {
			for _, f := range h.Failed {
				why += "\n  history: " + f
			}
			if h.Pending != "" {
				why += "\n  history: " + h.Pending
			}
		}
		for i, line := range grepLog(w.log, p.id) {
			if i == 2 {
				break
			}
			if len(line) > 500 {
				line = line[:500] + "…"
			}
			why += "\n  worker log: " + line
		}
		stuck = append(stuck, why+"\n  "+p.before.String())
	}
	if len(stuck) > 0 {
		t.Fatalf("today's worker cannot take over %d of %d payouts of release %s (it does not answer for them, "+
			"which takes replaying their histories):\n%s", len(stuck), len(payouts), oldVersion, strings.Join(stuck, "\n"))
	}
}

// previousReleaseOf picks the release to deploy from, making sure its commit is in the repository. What stops it
// (no git, a shallow clone that cannot be deepened) skips the test locally and fails it in CI.
func previousReleaseOf(t *testing.T, root string) release {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (in CI, with CI=true, this fails the test)")
	}
	b, err := os.ReadFile(filepath.Join(root, "RELEASES"))
	if err != nil {
		t.Fatal(err)
	}
	rels, err := parseReleases(string(b))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	head, err := git(ctx, root, "rev-parse", "HEAD^{tree}")
	if err != nil {
		unavailable("the deploy test builds the previous release from its commit, and needs the git repository: %v", err)
	}
	prev, err := previousRelease(rels, head, func(commit string) (string, error) {
		if err := haveCommit(ctx, root, commit); err != nil {
			return "", err
		}
		return git(ctx, root, "rev-parse", commit+"^{tree}")
	})
	if err != nil {
		unavailable("release %s cannot be deployed from: %v", prev.Version, err)
	}
	return prev
}
