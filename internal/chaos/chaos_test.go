package chaos

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestChaos_ShortRunPaysNothingTwiceAndLosesNothing is `make chaos` in short, inside `make test`: 52 payouts across
// every provider and method, every fault on (late executions and lagging status calls included), operators
// cancelling, racing approvals with cancels, looking up and marking payouts that need attention, Temporal's
// cancellation request sent to some, and the worker killed once, the API killed once and the Temporal server stopped
// and started again, spread over the run. Its payouts are driven for about a minute; a bePaid payout whose submit
// failed before it ran (rare here: shortFaults) or whose worker died before sending it waits out bePaid's 10-minute
// settling period, hence the timeout.
// shortFaults are DefaultFaults with more late executions, so that a short run has some, and fewer 5xx before the
// operation ran: each one on a bePaid submit keeps that payout for bePaid's 10-minute settling period.
var shortFaults = strings.NewReplacer("late=0.01", "late=0.03", "before=0.03", "before=0.01").Replace(DefaultFaults)

func TestChaos_ShortRunPaysNothingTwiceAndLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos run takes minutes")
	}
	dir := t.TempDir()
	dev := filepath.Join(dir, "payoutflow-dev")
	_, file, _, _ := runtime.Caller(0)
	build := exec.Command("go", "build", "-buildvcs=false", "-o", dev, "./cmd/dev")
	build.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	build.Env = append(os.Environ(), "GOTOOLCHAIN=go1.27.3")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/dev: %s", out)

	rep, err := Run(context.Background(), Options{
		Dev: dev, Dir: filepath.Join(dir, "run"), Payouts: 52, Concurrency: 13,
		Faults: shortFaults, Seed: 20261122,
		WorkerKills: 1, APIKills: 1, TemporalRestarts: 1, Cancels: 0.1, TemporalCancels: 0.1, Races: 0.5, Marks: 1,
		Timeout: 14 * time.Minute, Log: testWriter{t},
	})
	require.NoError(t, err)
	t.Log("\n" + rep.String())
	require.Equal(t, 52, rep.Started)
	require.Empty(t, rep.ExecutedTwice, "paid twice")
	require.Empty(t, rep.Lost, "lost")
	require.Empty(t, rep.PaidButNotSucceeded, "paid, but reported failed or cancelled")
	require.Empty(t, rep.SucceededButNotPaid, "reported succeeded, but not paid")
	require.Empty(t, rep.UncheckedMarks, "a mark taken on one person's word")
	require.Zero(t, rep.ForgedAccepted, "forged webhooks believed")
	require.Positive(t, rep.ForgedSent, "the run sent forgeries")
	require.Len(t, rep.Restarts, 3, "the processes were killed and restarted")
	require.NotEmpty(t, rep.Actions[actCancel], "operators cancelled payouts")
	require.NotEmpty(t, rep.Actions[actTemporalCancel], "Temporal's cancellation request was sent")
	require.NotEmpty(t, rep.Actions[actRace], "approvals raced cancels")
	var late int64
	for _, f := range rep.Faults {
		late += f["late"]
	}
	require.Positive(t, late, "requests were executed after the client gave up")
	require.GreaterOrEqual(t, rep.Succeeded, 30, "most payouts went through despite the faults and the cancels")
	require.True(t, rep.OK())
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func TestReport_OKOnlyWithoutDoublesLossesOrForgeries(t *testing.T) {
	require.True(t, Report{}.OK())
	require.False(t, Report{ExecutedTwice: []string{"po_1(2)"}}.OK())
	require.False(t, Report{Lost: []string{"po_1(submitted)"}}.OK())
	require.False(t, Report{ForgedAccepted: 1}.OK())
	require.False(t, Report{PaidButNotSucceeded: []string{"po_1"}}.OK())
	require.False(t, Report{SucceededButNotPaid: []string{"po_1"}}.OK())
	require.False(t, Report{UncheckedMarks: []string{"po_1"}}.OK())
	require.True(t, Report{Contradictions: []string{"po_1"}, Marked: []string{"po_1"}}.OK(),
		"a contradiction recorded is the engine telling; the ledger check decides")
	require.Contains(t, Report{NeedsAttention: map[string]string{"po_1": "x"}}.String(), "1 × x")
}

func TestPlanOperators_SharesAndSeed(t *testing.T) {
	o := Options{Seed: 7, Cancels: 0.1, TemporalCancels: 0.05, Races: 0.2, Marks: 0.5}
	plans := planOperators(2000, o)
	count := map[string]int{}
	for _, p := range plans {
		count[p.act]++
		if p.race {
			count["race"]++
		}
		if p.mark != "" {
			count["mark"]++
		}
		if p.delay < 2*time.Second {
			count["soon"]++
		}
		require.Less(t, p.delay, maxActDelay)
	}
	require.InDelta(t, 200, count[actCancel], 50)
	require.InDelta(t, 100, count[actTemporalCancel], 40)
	require.InDelta(t, 400, count["race"], 70)
	require.InDelta(t, 1000, count["mark"], 100)
	require.Greater(t, count["soon"], 1000, "most cancels come within seconds, while many a payout is under way")
	require.Equal(t, plans, planOperators(2000, o), "the seed replays the operators")
	require.Empty(t, planOperators(1, Options{Seed: 7})[0].act, "no shares, no actions")
}

func TestState_MarkedBy(t *testing.T) {
	var st state
	require.NoError(t, json.Unmarshal([]byte(`{"status":"failed","timeline":[{"note":"payout created"},`+
		`{"note":"marked failed by chaos-operator: gone (the provider has no such payout)"}]}`), &st))
	note, ok := st.markedBy()
	require.True(t, ok)
	require.Contains(t, note, "(the provider has no such payout)")
	st.Status = "needs_attention"
	_, ok = st.markedBy()
	require.False(t, ok, "a payout still open was not ended by a mark")
}

func TestMix_EveryPayoutIsAClientRequestAndTheMixCoversEveryProvider(t *testing.T) {
	seen := map[string]bool{}
	for i := range 13 {
		req, err := mixRequest(i)
		require.NoError(t, err, "payout %d is read strictly as the client's CreateRequest", i)
		seen[req.Provider] = true
	}
	require.Len(t, seen, 3)
}

func TestShortFaults_AreDefaultFaultsWithMoreLateAndFewerBefore(t *testing.T) {
	require.Contains(t, shortFaults, "late=0.03:")
	require.Contains(t, shortFaults, "before=0.01,")
	require.Contains(t, DefaultFaults, "lag=")
}
