package report

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/bench/driver"
)

func run(side string, inFlight int, perSecond, p99 float64, cpu map[string]float64, errs map[string]int) driver.Result {
	return driver.Result{Side: side, InFlight: inFlight, PerSecond: perSecond, P50Ms: p99 / 2, P99Ms: p99, Events: 35,
		CPUMs: cpu, RSSMB: map[string]float64{"temporal": perSecond * 10}, HWMMB: map[string]float64{"temporal": perSecond * 20},
		Errors: errs}
}

func TestSummarize_TakesMediansByLoadAndSideAndTheRatio(t *testing.T) {
	pfCPU := map[string]float64{"temporal": 80, "worker": 30, "api": 20, "sandboxes": 10, "peer-worker": 0.1}
	peerCPU := map[string]float64{"temporal": 60, "peer-worker": 12, "peer-bank": 4}
	levels := Summarize([]driver.Result{
		run("payoutflow", 100, 12, 9000, pfCPU, map[string]int{"GET: HTTP 500": 2}),
		run("peer", 100, 22, 5000, peerCPU, nil),
		run("payoutflow", 20, 11, 2000, pfCPU, nil),
		run("payoutflow", 100, 14, 8000, pfCPU, map[string]int{"GET: HTTP 500": 1}),
		run("peer", 100, 20, 6000, peerCPU, nil),
		run("payoutflow", 100, 13, 9500, pfCPU, nil),
		run("peer", 100, 24, 5500, peerCPU, nil),
		run("peer", 20, 15, 1500, peerCPU, nil),
	})
	require.Len(t, levels, 2)
	require.Equal(t, 20, levels[0].InFlight, "ordered by load")
	l := levels[1]
	require.Equal(t, 100, l.InFlight)
	require.Equal(t, 3, l.Payoutflow.Runs)
	require.Equal(t, 13.0, l.Payoutflow.PerSecond)
	require.Equal(t, 22.0, l.Peer.PerSecond)
	require.InDelta(t, 13.0/22.0, l.Ratio, 1e-9)
	require.Equal(t, 9000.0, l.Payoutflow.P99Ms)
	require.Equal(t, 5500.0, l.Peer.P99Ms)
	require.Equal(t, 80.0, l.Payoutflow.ServerCPUMs)
	require.Equal(t, 50.0, l.Payoutflow.AppCPUMs, "worker + API")
	require.Equal(t, 10.0, l.Payoutflow.BankCPUMs, "the sandboxes")
	require.Equal(t, 12.0, l.Peer.AppCPUMs, "the peer's worker, not payoutflow's processes")
	require.Equal(t, 4.0, l.Peer.BankCPUMs)
	require.Equal(t, 140.0, l.Payoutflow.RSSMB["temporal"], "the largest RSS seen")
	require.Equal(t, map[string]int{"GET: HTTP 500": 3}, l.Payoutflow.Errors, "errors of all repetitions")
	require.Empty(t, l.Peer.Errors)
}

func TestTable_CallsOutServerErrors(t *testing.T) {
	r := Report{Machine: "m", Settings: "s", Levels: Summarize([]driver.Result{
		run("payoutflow", 500, 10, 40000, nil, map[string]int{"GET: HTTP 500": 7, "create: HTTP 409": 1}),
		run("peer", 500, 20, 20000, nil, nil),
	})}
	table := r.Table()
	require.Contains(t, table, "8 (5xx: 7)")
	require.Contains(t, table, "!!! errors, 5xx among them: payoutflow at 500 in flight: GET: HTTP 500 ×7, create: HTTP 409 ×1")
	require.NotContains(t, table, "peer at 500 in flight:")
	require.Contains(t, table, "0.50×")
	require.Contains(t, r.Markdown(), "| 500 | peer | 20.0 |")
}

func TestWriteAndLoad_KeepEveryFigure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latest.json")
	r := Report{Time: "t", Machine: "m", Settings: "s", Runs: []driver.Result{run("peer", 20, 15, 1500, nil, nil)},
		Scale: &driver.ScaleResult{Payouts: 10000, DrainSeconds: 800}}
	r.Levels = Summarize(r.Runs)
	require.NoError(t, r.Write(path))
	got, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, r, got)

	missing, err := Load(filepath.Join(t.TempDir(), "none.json"))
	require.NoError(t, err)
	require.Equal(t, Report{}, missing)
}
