package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// vulndbModule is the module whose data/osv directory holds the Go vulnerability database's OSV entries.
const vulndbModule = "golang.org/x/vulndb"

// dbInfo describes a database built by buildDB.
type dbInfo struct {
	Entries  int       // OSV entries written
	NewestID string    // the highest GO-YYYY-NNNN id
	Modified time.Time // the vulndb commit time every entry is stamped with
}

// ensureDB returns the v1 database of vulndb at version under cacheDir, building it first if it is not there.
// The module zip comes from the module proxy (checked by the checksum database) and must hash to sum.
func ensureDB(ctx context.Context, cacheDir, version, sum string) (string, dbInfo, error) {
	modified, err := module.PseudoVersionTime(version)
	if err != nil {
		return "", dbInfo{}, fmt.Errorf("vulndb version %s: %w", version, err)
	}
	dir := filepath.Join(cacheDir, version)
	if info, err := readInfo(dir); err == nil {
		return dir, info, nil
	}
	src, err := downloadModule(ctx, vulndbModule, version, sum)
	if err != nil {
		return "", dbInfo{}, err
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", dbInfo{}, fmt.Errorf("create cache dir: %w", err)
	}
	tmp, err := os.MkdirTemp(cacheDir, version+".tmp-")
	if err != nil {
		return "", dbInfo{}, fmt.Errorf("create cache dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	info, err := buildDB(filepath.Join(src, "data", "osv"), tmp, modified)
	if err != nil {
		return "", dbInfo{}, err
	}
	if err := writeJSON(filepath.Join(tmp, "info.json"), info); err != nil {
		return "", dbInfo{}, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := readInfo(dir); statErr != nil { // else another run put its copy there first
			return "", dbInfo{}, fmt.Errorf("move database into place: %w", err)
		}
	}
	return dir, info, nil
}

func readInfo(dir string) (dbInfo, error) {
	var info dbInfo
	b, err := os.ReadFile(filepath.Join(dir, "info.json"))
	if err != nil {
		return info, err
	}
	return info, json.Unmarshal(b, &info)
}

// downloadModule fetches path@version into the module cache and returns its directory, checking its hash against sum.
func downloadModule(ctx context.Context, path, version, sum string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", path+"@"+version)
	cmd.Dir = os.TempDir() // outside any module: leaves go.mod and go.sum alone
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var dl struct{ Dir, Sum, Error string }
	if jsonErr := json.Unmarshal(out, &dl); jsonErr == nil && dl.Error != "" {
		return "", fmt.Errorf("download %s@%s: %s", path, version, dl.Error)
	}
	if err != nil {
		return "", fmt.Errorf("download %s@%s: %w: %s", path, version, err, strings.TrimSpace(stderr.String()))
	}
	if dl.Sum != sum {
		return "", fmt.Errorf("download %s@%s: module hash %s, want %s", path, version, dl.Sum, sum)
	}
	return dl.Dir, nil
}

// entry is the part of an OSV entry the indexes need; the entry itself is copied field by field.
type entry struct {
	ID       string   `json:"id"`
	Aliases  []string `json:"aliases,omitempty"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []osvRange `json:"ranges"`
	} `json:"affected"`
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced,omitempty"`
		Fixed      string `json:"fixed,omitempty"`
	} `json:"events"`
}

// The v1 database's index records (https://go.dev/security/vuln/database#api).
type (
	dbMeta struct {
		Modified time.Time `json:"modified"`
	}
	moduleIndex struct {
		Path  string        `json:"path"`
		Vulns []moduleVulns `json:"vulns"`
	}
	moduleVulns struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Fixed    string    `json:"fixed,omitempty"`
	}
	vulnIndex struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Aliases  []string  `json:"aliases,omitempty"`
	}
)

// buildDB writes the OSV entries in srcDir as a v1 database (index/db.json, index/modules.json,
// index/vulns.json, ID/<id>.json) into outDir. The entries in the vulndb module carry no dates (the
// published database takes them from git history), so each entry's modified time, and its published
// time when unset, becomes modified: the time of the vulndb commit.
func buildDB(srcDir, outDir string, modified time.Time) (dbInfo, error) {
	files, err := filepath.Glob(filepath.Join(srcDir, "GO-*.json"))
	if err != nil {
		return dbInfo{}, err
	}
	if len(files) == 0 {
		return dbInfo{}, fmt.Errorf("no OSV entries in %s", srcDir)
	}
	sort.Strings(files)
	for _, d := range []string{"index", "ID"} {
		if err := os.MkdirAll(filepath.Join(outDir, d), 0o755); err != nil {
			return dbInfo{}, err
		}
	}
	modified = modified.UTC()
	modules := map[string]*moduleIndex{}
	vulns := make([]vulnIndex, 0, len(files))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return dbInfo{}, err
		}
		var e entry
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &e); err != nil {
			return dbInfo{}, fmt.Errorf("%s: %w", f, err)
		}
		if err := json.Unmarshal(raw, &fields); err != nil {
			return dbInfo{}, fmt.Errorf("%s: %w", f, err)
		}
		if e.ID == "" || e.ID+".json" != filepath.Base(f) {
			return dbInfo{}, fmt.Errorf("%s: id %q does not match the file name", f, e.ID)
		}
		stamp, _ := json.Marshal(modified)
		fields["modified"] = stamp
		if published, ok := fields["published"]; !ok || isZeroTime(published) {
			fields["published"] = stamp
		}
		if err := writeJSON(filepath.Join(outDir, "ID", e.ID+".json"), fields); err != nil {
			return dbInfo{}, err
		}
		vulns = append(vulns, vulnIndex{ID: e.ID, Modified: modified, Aliases: e.Aliases})
		for _, a := range e.Affected {
			m := modules[a.Package.Name]
			if m == nil {
				m = &moduleIndex{Path: a.Package.Name}
				modules[a.Package.Name] = m
			}
			m.Vulns = append(m.Vulns, moduleVulns{ID: e.ID, Modified: modified, Fixed: latestFixed(a.Ranges)})
		}
	}
	mods := make([]*moduleIndex, 0, len(modules))
	for _, m := range modules {
		sort.SliceStable(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		mods = append(mods, m)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	// index/modules.json is the marker govulncheck looks for, so it is written last.
	for name, v := range map[string]any{"db.json": dbMeta{Modified: modified}, "vulns.json": vulns} {
		if err := writeJSON(filepath.Join(outDir, "index", name), v); err != nil {
			return dbInfo{}, err
		}
	}
	if err := writeJSON(filepath.Join(outDir, "index", "modules.json"), mods); err != nil {
		return dbInfo{}, err
	}
	return dbInfo{Entries: len(vulns), NewestID: newestID(vulns), Modified: modified}, nil
}

// newestID returns the most recent GO-YYYY-NNNN id (numbers compared as numbers).
func newestID(vulns []vulnIndex) string {
	newest := ""
	for _, v := range vulns {
		if newest == "" || idLess(newest, v.ID) {
			newest = v.ID
		}
	}
	return newest
}

func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// latestFixed returns the latest fixed version of the ranges, or "" if the vulnerability is reintroduced
// after it (as golang.org/x/vulndb/internal/osvutils.LatestFixed does). Versions have no "v" prefix.
func latestFixed(ranges []osvRange) string {
	latest := ""
	before := func(v, w string) bool { return semver.Compare("v"+v, "v"+w) < 0 }
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && before(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && before(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

func isZeroTime(raw json.RawMessage) bool {
	var t time.Time
	return json.Unmarshal(raw, &t) != nil || t.IsZero()
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
