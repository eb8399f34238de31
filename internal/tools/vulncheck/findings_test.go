package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testdata/scan.json is govulncheck v1.10.0's JSON output for a scratch module on echo v4.15.0, cut to
// four vulnerabilities: GO-2026-6885 (called, fixed in v4.15.3), GO-2026-6875 (called, no fix),
// GO-2026-6878 (package imported, not called) and GO-2026-6838 (module required, not imported).
func readScan(t *testing.T) report {
	t.Helper()
	f, err := os.Open("testdata/scan.json")
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	rep, err := readReport(f)
	require.NoError(t, err)
	return rep
}

func TestReadReport_SeparatesCalledFromImported(t *testing.T) {
	rep := readScan(t)

	require.Equal(t, scanConfig{ScannerVersion: "v1.10.0", DB: "file:///tmp/vcache/v0.0.0-20261105234957-e22db6528018", GoVersion: "go1.27.3", ScanLevel: "symbol"}, rep.Config)
	require.Len(t, rep.Reachable, 2)
	fixed, unfixed := rep.Reachable[1], rep.Reachable[0]
	require.Equal(t, "GO-2026-6885", fixed.ID)
	require.Equal(t, "github.com/labstack/echo/v4", fixed.Module)
	require.Equal(t, "v4.15.0", fixed.Version)
	require.Equal(t, "v4.15.3", fixed.Fixed)
	require.Contains(t, fixed.Summary, "Path Traversal")
	require.Equal(t, "GO-2026-6875", unfixed.ID)
	require.Empty(t, unfixed.Fixed)
	require.Equal(t, 2, rep.Imported)
	require.Equal(t, []vuln{fixed}, rep.fixable())
}

func TestJudge_FailsOnlyOnAReachableVulnerabilityWithAFix(t *testing.T) {
	rep := readScan(t)
	var out strings.Builder
	err := judge(&out, rep, "go1.27.3")
	require.EqualError(t, err, "the code reaches 1 vulnerabilities that have a fix; update github.com/labstack/echo/v4 to v4.15.3")
	require.Contains(t, out.String(), "GO-2026-6885: github.com/labstack/echo/v4@v4.15.0, fixed in v4.15.3: ")
	require.Contains(t, out.String(), "example.com/scratch.main (main.go:18) -> github.com/labstack/echo/v4.Echo.Static (echo_fs.go:33)")
	require.Contains(t, out.String(), "GO-2026-6875: github.com/labstack/echo/v4@v4.15.0, no fix yet: ")
	require.Contains(t, out.String(), "2 reachable vulnerabilities (1 with a fix); 2 more in imported code that no call path reaches")

	rep.Reachable = rep.Reachable[:1] // only the one without a fix
	require.NoError(t, judge(&strings.Builder{}, rep, "go1.27.3"))
}

func TestJudge_FailsWhenTheStandardLibraryScannedIsNotTheBuildsGo(t *testing.T) {
	rep := readScan(t)
	rep.Reachable = nil
	require.ErrorContains(t, judge(&strings.Builder{}, rep, "go1.27.2"), `standard library of "go1.27.3", but the build uses go1.27.2`)
}

func TestUpdates_NamesTheVersionFixingEveryVulnerabilityOfAModule(t *testing.T) {
	require.Equal(t, "github.com/labstack/echo/v4 to v4.16.0, golang.org/x/net to v0.62.0, Go to go1.27.3", updates([]vuln{
		{Module: "golang.org/x/net", Fixed: "v0.62.0"},
		{Module: "github.com/labstack/echo/v4", Fixed: "v4.15.3"},
		{Module: "golang.org/x/net", Fixed: "v0.55.0"},
		{Module: "stdlib", Fixed: "v1.27.3"}, // govulncheck gives the standard library's versions so
		{Module: "stdlib", Fixed: "v1.26.10"},
		{Module: "github.com/labstack/echo/v4", Fixed: "v4.16.0"},
	}))
}

func TestReadReport_RefusesOutputWithoutAConfig(t *testing.T) {
	_, err := readReport(strings.NewReader(`{"progress":{"message":"x"}}`))
	require.ErrorContains(t, err, "no config message")
	_, err = readReport(strings.NewReader(`{"config":`))
	require.ErrorContains(t, err, "read govulncheck output")
}
