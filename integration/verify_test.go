package integration

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/payout"
	bank131sandbox "github.com/payoutflow/payoutflow/providers/bank131/sandbox"
	"github.com/payoutflow/payoutflow/providers/bepaid"
)

// Failed before its fix (CI, TestCluster: a worker killed while bePaid asked): while bePaid asks to verify a
// payout, no worker can take the payout's workflow task for 6 s (as when its worker died and Temporal gives its
// task to another only after the task's timeout). The API waits long enough for the payout's answer (VERIFY_WAIT),
// which is yes: the payout is paid, once, and its history says accepted. Before, the API declined after 5 s and
// bePaid failed an approved payout.
func TestBePaidVerification_IsAnsweredWhenNoWorkerTakesThePayoutFor6s(t *testing.T) {
	cfg := st.cfg
	cfg.TaskQueue = "payouts-it-verify-gap"
	done, paid := payoutVerifiedInAGap(t, cfg, 6*time.Second, 4521)
	require.Equal(t, payout.StatusSucceeded, done.Status)
	require.Contains(t, notes(done), "verification of transaction "+done.ProviderRefs["session_id"]+" accepted")
	require.Equal(t, 1, paid, "paid once")
}

// Failed before its fix: the API declined a verification it could not get answered in time, and the payout, taking
// the question later, recorded it as accepted. Its history says now what bePaid was told.
func TestBePaidVerification_TakenAfterTheAPIGaveUpIsDeclinedInTheHistory(t *testing.T) {
	cfg := st.cfg
	cfg.TaskQueue = "payouts-it-verify-late"
	cfg.VerifyWait = 3 * time.Second
	done, paid := payoutVerifiedInAGap(t, cfg, 5*time.Second, 4522)
	require.Equal(t, payout.StatusFailed, done.Status, "bePaid was told no")
	require.Zero(t, paid, "never paid")
	uid := done.ProviderRefs["session_id"]
	require.Contains(t, strings.Join(notes(done), "\n"), "verification of transaction "+uid+" answered too late, declined")
	require.NotContains(t, strings.Join(notes(done), "\n"), "accepted")
	require.Empty(t, done.ProviderRefs["verified_transaction"])
}

// payoutVerifiedInAGap creates and approves a bePaid payout of amount on an API and workers of cfg, and returns it
// once it has ended, with how many times bePaid paid it. As bePaid's first verification request arrives, the
// worker of workflow tasks stops and another starts gap later; the activities have a worker of their own, so the
// submit goes on waiting for bePaid meanwhile.
func payoutVerifiedInAGap(t *testing.T, cfg config.Config, gap time.Duration, amount int64) (payout.State, int) {
	t.Helper()
	api := newServer(t, st.newAPI(cfg))
	apiURL, err := url.Parse(api)
	require.NoError(t, err)
	var mu sync.Mutex
	var wf worker.Worker
	var asked time.Time
	var restart *time.Timer
	var newWorker func(opts worker.Options) worker.Worker
	proxy := httputil.NewSingleHostReverseProxy(apiURL)
	gate := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if asked.IsZero() {
			asked = time.Now()
			wf.Stop()
			restart = time.AfterFunc(gap, func() {
				mu.Lock()
				defer mu.Unlock()
				wf = newWorker(worker.Options{LocalActivityWorkerOnly: true})
			})
		}
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	cl, err := bepaid.NewClient(bepaid.Config{BaseURL: st.bepaidURL, ShopID: "it-shop", SecretKey: "it-secret"})
	require.NoError(t, err)
	p := bepaid.NewProvider(cl, bepaid.ProviderOptions{NotificationURL: api + "/webhooks/bepaid",
		VerificationURL: gate + "/webhooks/bepaid/verify", Test: true})
	newWorker = func(opts worker.Options) worker.Worker {
		w := app.NewWorkerWithOptions(st.client, cfg.TaskQueue, opts, st.codecKeys, config.Events{}, p)
		require.NoError(t, w.Start())
		return w
	}
	acts := newWorker(worker.Options{DisableWorkflowWorker: true})
	t.Cleanup(acts.Stop)
	mu.Lock()
	wf = newWorker(worker.Options{LocalActivityWorkerOnly: true})
	mu.Unlock()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if restart != nil {
			restart.Stop()
		}
		wf.Stop()
	})

	id := createNew(t, api, t.Name(), bePaidCardPayout(bpCardSucceeds, amount))
	waitFor(t, id, payout.StatusAwaitingApproval)
	mustDecide(t, api, "alice", id, "confirm", "checked")
	var done payout.State
	require.Eventually(t, func() bool {
		done = get(t, id)
		return done.Status.Final()
	}, 60*time.Second, 50*time.Millisecond, "payout %s never ended", id)
	t.Logf("status %s, notes:\n%s", done.Status, strings.Join(notes(done), "\n"))
	mu.Lock()
	defer mu.Unlock()
	require.False(t, asked.IsZero(), "bePaid asked to verify the payout")
	return done, len(bePaidLedgerFor(id))
}

// Failed before its fix: a payout's workflow task timed out after EVENTS_COMMIT_BOUND (10 s by default), so a task
// held by a worker that died went to another only after 10 s, too late to answer a verification. Every run of the
// payout, continued ones too, gives its tasks 5 s.
func TestPayout_EveryRunsWorkflowTaskTimesOutWithin5s(t *testing.T) {
	cfg := st.cfg
	cfg.Events.CommitBound = 0 // the default, 10 s
	_, id := continuedPayout(t, cfg)

	runs := runsOf(t, id)
	require.GreaterOrEqual(t, len(runs), 2, "the payout continued as new")
	for i, events := range runs {
		started := events[0].GetWorkflowExecutionStartedEventAttributes()
		require.Equal(t, 5*time.Second, started.GetWorkflowTaskTimeout().AsDuration(), "run %d", i+1)
	}
}

// continuedPayout approves, on an API of cfg, a Bank 131 payout that continues as new while it waits for the bank
// (no webhooks, asked every 5 ms, 3 asks a run), and returns the API and the payout once it has succeeded.
func continuedPayout(t *testing.T, cfg config.Config) (base, id string) {
	t.Helper()
	st.sandbox.SetNoWebhooks(true)
	t.Cleanup(func() { st.sandbox.SetNoWebhooks(false) })
	cfg.PollAfter, cfg.PollMax, cfg.PollsPerRun = 5*time.Millisecond, 5*time.Millisecond, 3
	base = newServer(t, st.newAPI(cfg))
	id = createNew(t, base, t.Name(), cardPayout(bank131sandbox.SandboxCardErrorThenSucceeds))
	waitFor(t, id, payout.StatusAwaitingApproval)
	mustDecide(t, base, "alice", id, "confirm", "checked")
	waitFor(t, id, payout.StatusSucceeded)
	return base, id
}
