package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/bench/report"
)

// TestBench_ASmallRealRunWritesTheTableTheFilesAndThePlot is `make bench` in small: the real stack (cmd/dev's four
// parts and the peer's two, each its own process), 4 payouts in flight, one repetition of each side.
func TestBench_ASmallRealRunWritesTheTableTheFilesAndThePlot(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/dev and starts the whole stack")
	}
	dir := t.TempDir()
	_, file, _, _ := runtime.Caller(0)
	build := exec.Command("go", "build", "-buildvcs=false", "-o", dir+"/", "./cmd/dev", "./cmd/benchpeer")
	build.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	build.Env = append(os.Environ(), "GOTOOLCHAIN=go1.27.3")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	outDir := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"-dev", filepath.Join(dir, "dev"), "-peer", filepath.Join(dir, "benchpeer"),
		"-dir", filepath.Join(dir, "run"), "-out", outDir, "-levels", "4", "-reps", "1", "-min-window", "6",
		"-min-duration", "2s", "-warm-up", "1s", "-samples", "2"}, &stdout, &stderr)
	t.Log(stderr.String())
	require.NoError(t, err)
	table := stdout.String()
	t.Log(table)
	for _, want := range []string{"payouts/s", "payoutflow", "peer", "LOG_LEVEL=", "latest.svg"} {
		require.Contains(t, table, want)
	}

	rep, err := report.Load(filepath.Join(outDir, "latest.json"))
	require.NoError(t, err)
	require.Len(t, rep.Runs, 2, "one run of each side")
	require.Len(t, rep.Levels, 1)
	l := rep.Levels[0]
	require.Equal(t, 4, l.InFlight)
	for name, s := range map[string]report.Side{"payoutflow": l.Payoutflow, "peer": l.Peer} {
		require.Positive(t, s.PerSecond, name)
		require.Positive(t, s.P99Ms, name)
		require.GreaterOrEqual(t, s.P99Ms, s.P50Ms, name)
		require.GreaterOrEqual(t, s.Events, 20.0, "%s: a payout's history has its activities, signals and tasks", name)
		require.Positive(t, s.ServerCPUMs, name)
		require.Positive(t, s.AppCPUMs, name)
		require.Positive(t, s.RSSMB["temporal"], name)
		require.Empty(t, s.Errors, name)
	}
	require.Positive(t, l.Ratio)
	md, err := os.ReadFile(filepath.Join(outDir, "latest.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "| 4 | payoutflow |")
	svg, err := os.ReadFile(filepath.Join(outDir, "latest.svg"))
	require.NoError(t, err)
	require.Contains(t, string(svg), "bare Temporal peer")
}

func TestParse_RefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-levels", "20,x"}, {"-levels", "0"}, {"-reps", "0"}, {"-wait", "sometimes"}} {
		_, err := parse(args, &bytes.Buffer{})
		require.Error(t, err, args)
	}
	o, err := parse(nil, &bytes.Buffer{})
	require.NoError(t, err)
	require.Equal(t, []int{20, 100, 500}, o.levels)
	require.Equal(t, 3, o.reps)
}
