package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/bench/driver"
	"github.com/payoutflow/payoutflow/internal/bench/report"
)

func TestFillReadme_ReplacesOnlyWhatIsBetweenTheMarkers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	require.NoError(t, os.WriteFile(path, []byte("# x\n\nbefore\n"+readmeStart+"\nold table\n"+readmeEnd+"\nafter\n"), 0o644))
	require.NoError(t, fillReadme(path, "| new | table |\n"))
	require.NoError(t, fillReadme(path, "| newer | table |\n"))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "# x\n\nbefore\n"+readmeStart+"\n| newer | table |\n"+readmeEnd+"\nafter\n", string(b))
}

func TestFillReadme_RefusesAFileWithoutTheMarkers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	require.NoError(t, os.WriteFile(path, []byte("# x\n"+readmeEnd+"\n"+readmeStart+"\n"), 0o644))
	require.ErrorContains(t, fillReadme(path, "t"), "no <!-- bench:table -->")
}

func TestRun_RenderWritesTheTablesAndThePlotOfAWrittenReport(t *testing.T) {
	dir := t.TempDir()
	readme := filepath.Join(dir, "README.md")
	require.NoError(t, os.WriteFile(readme, []byte(readmeStart+"\n"+readmeEnd+"\n"), 0o644))
	rep := report.Report{Machine: "m", Settings: "s", Runs: []driver.Result{
		{Side: "payoutflow", InFlight: 20, PerSecond: 12.4, P50Ms: 900, P99Ms: 2000},
		{Side: "peer", InFlight: 20, PerSecond: 15.5, P50Ms: 700, P99Ms: 1500},
	}}
	rep.Levels = report.Summarize(rep.Runs)
	require.NoError(t, rep.Write(filepath.Join(dir, "latest.json")))
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-render", "-out", dir, "-readme", readme}, &out, &bytes.Buffer{}))
	require.Contains(t, out.String(), "0.80×")
	b, err := os.ReadFile(readme)
	require.NoError(t, err)
	require.Contains(t, string(b), "| 20 | payoutflow | 12.4 | 0.80× |")
	require.FileExists(t, filepath.Join(dir, "latest.svg"))
	require.FileExists(t, filepath.Join(dir, "latest.md"))
}
