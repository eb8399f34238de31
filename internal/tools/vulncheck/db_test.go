package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBuildDB_WritesTheV1LayoutWithIndexesAndDatedEntries(t *testing.T) {
	out := t.TempDir()
	commit := time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)

	info, err := buildDB("testdata/osv", out, commit)
	require.NoError(t, err)
	require.Equal(t, dbInfo{Entries: 3, NewestID: "GO-2026-0010", Modified: commit}, info)

	var meta dbMeta
	readJSON(t, filepath.Join(out, "index", "db.json"), &meta)
	require.Equal(t, commit, meta.Modified)

	var modules []moduleIndex
	readJSON(t, filepath.Join(out, "index", "modules.json"), &modules)
	require.Equal(t, []moduleIndex{
		{Path: "example.com/lib", Vulns: []moduleVulns{
			{ID: "GO-2026-0001", Modified: commit, Fixed: "2.0.1"},
			{ID: "GO-2026-0010", Modified: commit}, // reintroduced after its last fix
		}},
		{Path: "example.com/tool", Vulns: []moduleVulns{{ID: "GO-2026-0002", Modified: commit, Fixed: "0.0.0-20260626085133-7cb96ac80a6d"}}},
		{Path: "stdlib", Vulns: []moduleVulns{{ID: "GO-2026-0010", Modified: commit, Fixed: "1.27.3"}}},
	}, modules)

	var vulns []vulnIndex
	readJSON(t, filepath.Join(out, "index", "vulns.json"), &vulns)
	require.Equal(t, []vulnIndex{
		{ID: "GO-2026-0001", Modified: commit, Aliases: []string{"CVE-2026-0001", "GHSA-aaaa-bbbb-cccc"}},
		{ID: "GO-2026-0002", Modified: commit},
		{ID: "GO-2026-0010", Modified: commit},
	}, vulns)

	// Entries keep every field; the dates the module lacks become the commit's, a published date it has stays.
	var e map[string]any
	readJSON(t, filepath.Join(out, "ID", "GO-2026-0001.json"), &e)
	require.Equal(t, "2026-11-05T23:49:57Z", e["modified"])
	require.Equal(t, "2026-11-05T23:49:57Z", e["published"])
	require.Equal(t, "Fixed in 1.2.3 and in 2.0.1.", e["details"])
	require.Contains(t, e, "database_specific")
	readJSON(t, filepath.Join(out, "ID", "GO-2026-0010.json"), &e)
	require.Equal(t, "2026-03-04T05:06:07Z", e["published"])
	require.Equal(t, "2026-11-05T23:49:57Z", e["modified"])
}

func TestBuildDB_RefusesAnEntryWhoseIDIsNotItsFileName(t *testing.T) {
	src := t.TempDir()
	raw, err := os.ReadFile("testdata/osv/GO-2026-0001.json")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(src, "GO-2026-0003.json"), raw, 0o644))

	_, err = buildDB(src, t.TempDir(), time.Now())
	require.ErrorContains(t, err, `id "GO-2026-0001" does not match the file name`)

	_, err = buildDB(t.TempDir(), t.TempDir(), time.Now())
	require.ErrorContains(t, err, "no OSV entries")
}

func TestEnsureDB_UsesTheBuiltCopyWithoutDownloading(t *testing.T) {
	cache := t.TempDir()
	const version = "v0.0.0-20261105234957-e22db6528018"
	want, err := buildDB("testdata/osv", filepath.Join(cache, version), time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC))
	require.NoError(t, err)
	require.NoError(t, writeJSON(filepath.Join(cache, version, "info.json"), want))

	dir, info, err := ensureDB(t.Context(), cache, version, "h1:not-checked-when-cached")
	require.NoError(t, err)
	require.Equal(t, filepath.Join(cache, version), dir)
	require.Equal(t, want, info)

	_, _, err = ensureDB(t.Context(), cache, "v1.0.0", "h1:x")
	require.ErrorContains(t, err, "vulndb version v1.0.0", "the version must be a pseudo-version: its time dates the database")
}

func TestLatestFixed(t *testing.T) {
	type ev = struct {
		Introduced string `json:"introduced,omitempty"`
		Fixed      string `json:"fixed,omitempty"`
	}
	for _, tc := range []struct {
		name   string
		events []ev
		want   string
	}{
		{"one fix", []ev{{Introduced: "0"}, {Fixed: "0.33.0"}}, "0.33.0"},
		{"the latest of two lines", []ev{{Introduced: "0"}, {Fixed: "1.26.10"}, {Introduced: "1.27.0-0"}, {Fixed: "1.27.3"}}, "1.27.3"},
		{"reintroduced after the fix", []ev{{Introduced: "0"}, {Fixed: "1.0.0"}, {Introduced: "1.5.0"}}, ""},
		{"never fixed", []ev{{Introduced: "4.0.0"}}, ""},
		{"pseudo-versions", []ev{{Introduced: "0.0.0-20250721152936-fe86ceb2c3fa"}, {Fixed: "0.0.0-20260626085133-7cb96ac80a6d"}}, "0.0.0-20260626085133-7cb96ac80a6d"},
		{"prerelease before release", []ev{{Introduced: "0"}, {Fixed: "1.11.0-alpha.1"}, {Fixed: "1.10.2"}}, "1.11.0-alpha.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, latestFixed([]osvRange{{Type: "SEMVER", Events: tc.events}}))
		})
	}
	require.Empty(t, latestFixed([]osvRange{{Type: "GIT", Events: []struct {
		Introduced string `json:"introduced,omitempty"`
		Fixed      string `json:"fixed,omitempty"`
	}{{Fixed: "abc"}}}}), "only SEMVER ranges count")
}

func TestNewestID_ComparesNumbersAsNumbers(t *testing.T) {
	require.Equal(t, "GO-2026-10000", newestID([]vulnIndex{{ID: "GO-2026-9999"}, {ID: "GO-2026-10000"}, {ID: "GO-2025-4000"}}))
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v))
}
