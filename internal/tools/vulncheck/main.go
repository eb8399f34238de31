// Command vulncheck runs govulncheck on the module against an offline copy of the Go vulnerability database
// and fails if the code reaches a vulnerability that has a fix (`make vulncheck`).
//
// The database is built from the OSV entries in the golang.org/x/vulndb module (fetched through the module
// proxy, as vuln.go.dev cannot be reached from here) into the v1 layout govulncheck reads with -db file://.
// Both the vulndb version and govulncheck's are pinned by flags (the Makefile sets them).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("vulncheck: ")
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	govulncheck := flag.String("govulncheck", "", "govulncheck version to run (golang.org/x/vuln/cmd/govulncheck@VERSION)")
	vulndb := flag.String("vulndb", "", "golang.org/x/vulndb pseudo-version whose OSV entries make the database")
	vulndbSum := flag.String("vulndb-sum", "", "expected module hash (h1:...) of that golang.org/x/vulndb version")
	goVersion := flag.String("go", runtime.Version(), "the Go version the code is built with: the standard library scanned must be this one")
	cacheDir := flag.String("cache", "", "where built databases are kept (default: the user cache dir, payoutflow/vulndb)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: vulncheck -govulncheck VERSION -vulndb VERSION -vulndb-sum HASH [packages]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *govulncheck == "" || *vulndb == "" || *vulndbSum == "" {
		flag.Usage()
		return errors.New("-govulncheck, -vulndb and -vulndb-sum are required")
	}
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	if *cacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("no cache dir: %w; pass -cache", err)
		}
		*cacheDir = filepath.Join(dir, "payoutflow", "vulndb")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	dbDir, info, err := ensureDB(ctx, *cacheDir, *vulndb, *vulndbSum)
	if err != nil {
		return err
	}
	log.Printf("database: %s@%s, %d entries, newest %s, as of %s (%s)", vulndbModule, *vulndb, info.Entries, info.NewestID,
		info.Modified.Format("2006-01-02 15:04 UTC"), dbDir)

	args := append([]string{"run", "golang.org/x/vuln/cmd/govulncheck@" + *govulncheck,
		"-db", "file://" + dbDir, "-format", "json"}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("govulncheck: %w\n%s", err, strings.TrimSpace(stderr.String()))
	}
	rep, err := readReport(&out)
	if err != nil {
		return err
	}
	return judge(os.Stdout, rep, *goVersion)
}

// judge prints the report and returns an error if a reachable vulnerability has a fix, or if the standard
// library scanned is not the Go version the code is built with (goVersion).
func judge(w io.Writer, rep report, goVersion string) error {
	_, _ = fmt.Fprintf(w, "govulncheck %s, standard library %s, %s level\n", rep.Config.ScannerVersion, rep.Config.GoVersion, rep.Config.ScanLevel)
	if rep.Config.GoVersion != goVersion {
		return fmt.Errorf("govulncheck scanned the standard library of %q, but the build uses %s (set GOTOOLCHAIN)", rep.Config.GoVersion, goVersion)
	}
	rep.write(w, 3)
	fixable := rep.fixable()
	_, _ = fmt.Fprintf(w, "%d reachable vulnerabilities (%d with a fix); %d more in imported code that no call path reaches\n",
		len(rep.Reachable), len(fixable), rep.Imported)
	if len(fixable) > 0 {
		return fmt.Errorf("the code reaches %d vulnerabilities that have a fix; update %s", len(fixable), updates(fixable))
	}
	return nil
}

// updates names each module to update and the version that fixes all its reachable vulnerabilities.
func updates(vulns []vuln) string {
	need := map[string]string{}
	for _, v := range vulns {
		if have, ok := need[v.Module]; !ok || semver.Compare(have, v.Fixed) < 0 {
			need[v.Module] = v.Fixed
		}
	}
	mods := make([]string, 0, len(need))
	for m := range need {
		mods = append(mods, m)
	}
	sort.Strings(mods)
	for i, m := range mods {
		if m == "stdlib" {
			mods[i] = "Go to " + strings.Replace(need[m], "v", "go", 1)
			continue
		}
		mods[i] = m + " to " + need[m]
	}
	return strings.Join(mods, ", ")
}
