package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/bench/report"
)

func TestPlotLevels_DrawsThroughputAndP99OfBothSides(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latest.svg")
	levels := []report.Level{
		{InFlight: 20, Payoutflow: report.Side{PerSecond: 12.4, P99Ms: 2100}, Peer: report.Side{PerSecond: 15.3, P99Ms: 1500}},
		{InFlight: 100, Payoutflow: report.Side{PerSecond: 12.9, P99Ms: 9000}, Peer: report.Side{PerSecond: 22.2, P99Ms: 5000}},
		{InFlight: 500, Payoutflow: report.Side{PerSecond: 12.0, P99Ms: 45000}, Peer: report.Side{PerSecond: 21.8, P99Ms: 24000}},
	}
	require.NoError(t, plotLevels(levels, path))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	svg := string(b)
	for _, want := range []string{"<svg", "Throughput", "p99", "payouts in flight", "payoutflow", "bare Temporal peer"} {
		require.Contains(t, svg, want)
	}
}

func TestPlotLevels_DrawsASingleLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latest.svg")
	require.NoError(t, plotLevels([]report.Level{{InFlight: 5, Payoutflow: report.Side{PerSecond: 3}, Peer: report.Side{PerSecond: 4}}}, path))
	require.FileExists(t, path)
}
