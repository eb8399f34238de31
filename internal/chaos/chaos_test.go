package chaos

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestChaos_ShortRunPaysNothingTwiceAndLosesNothing is `make chaos` in short, inside `make test`: about 50
// payouts across every provider and method, every fault on, the worker killed once, the API killed once and the
// Temporal server stopped and started again.
func TestChaos_ShortRunPaysNothingTwiceAndLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos run takes minutes")
	}
	dir := t.TempDir()
	dev := filepath.Join(dir, "payoutflow-dev")
	_, file, _, _ := runtime.Caller(0)
	build := exec.Command("go", "build", "-buildvcs=false", "-o", dev, "./cmd/dev")
	build.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	build.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/dev: %s", out)

	rep, err := Run(context.Background(), Options{
		Dev: dev, Dir: filepath.Join(dir, "run"), Payouts: 52, Concurrency: 13, Faults: DefaultFaults, Seed: 20261122,
		WorkerKills: 1, APIKills: 1, TemporalRestarts: 1, Timeout: 6 * time.Minute, Log: testWriter{t},
	})
	require.NoError(t, err)
	t.Log("\n" + rep.String())
	require.Equal(t, 52, rep.Started)
	require.Empty(t, rep.ExecutedTwice, "paid twice")
	require.Empty(t, rep.Lost, "lost")
	require.Empty(t, rep.PaidButNotSucceeded, "paid, but reported failed or cancelled")
	require.Empty(t, rep.SucceededButNotPaid, "reported succeeded, but not paid")
	require.Zero(t, rep.ForgedAccepted, "forged webhooks believed")
	require.Positive(t, rep.ForgedSent, "the run sent forgeries")
	require.Len(t, rep.Restarts, 3, "the processes were killed and restarted")
	require.GreaterOrEqual(t, rep.Succeeded, 40, "most payouts went through despite the faults")
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
	require.Contains(t, Report{NeedsAttention: map[string]string{"po_1": "x"}}.String(), "1 × x")
}

func TestMix_EveryPayoutIsValidJSONAndTheMixCoversEveryProvider(t *testing.T) {
	seen := map[string]bool{}
	for i := range 13 {
		var req struct {
			Provider string `json:"provider"`
		}
		require.NoError(t, json.Unmarshal([]byte(mix(i)), &req), "payout %d", i)
		seen[req.Provider] = true
	}
	require.Len(t, seen, 3)
}
