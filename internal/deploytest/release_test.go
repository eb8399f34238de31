package deploytest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// release is a line of RELEASES: a version and the commit it was built from.
type release struct {
	Version, Commit, Date string
}

var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// parseReleases reads RELEASES: one release a line, "version commit date", oldest first; '#' starts a comment.
func parseReleases(text string) ([]release, error) {
	var out []release
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "#"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || !commitRE.MatchString(f[1]) {
			return nil, fmt.Errorf("RELEASES line %d: want \"version commit date\" with a full 40-digit commit, got %q", n, line)
		}
		r := release{Version: f[0], Commit: f[1]}
		if len(f) > 2 {
			r.Date = f[2]
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// previousRelease is the newest release whose code is not today's: the last line of RELEASES whose commit's tree
// differs from HEAD's (a release cut from HEAD itself is today's code, and deploying it onto itself proves nothing).
// treeOf names a commit's tree.
func previousRelease(rels []release, head string, treeOf func(commit string) (string, error)) (release, error) {
	for i := len(rels) - 1; i >= 0; i-- {
		tree, err := treeOf(rels[i].Commit)
		if err != nil {
			return rels[i], err
		}
		if tree != head {
			return rels[i], nil
		}
	}
	return release{}, errors.New("every release in RELEASES is today's code: there is no previous release to deploy from")
}

// git runs a git command in repo and returns its trimmed output.
func git(ctx context.Context, repo string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", repo}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// haveCommit makes sure the repository has commit, fetching the full history once if the clone is shallow (as CI
// clones often are). The error says why it could not.
func haveCommit(ctx context.Context, repo, commit string) error {
	if _, err := git(ctx, repo, "cat-file", "-e", commit+"^{commit}"); err == nil {
		return nil
	}
	shallow, err := git(ctx, repo, "rev-parse", "--is-shallow-repository")
	if err != nil {
		return fmt.Errorf("commit %s is not in this repository, and git cannot tell whether the clone is shallow: %w", commit, err)
	}
	if shallow != "true" {
		return fmt.Errorf("commit %s is not in this repository (not a shallow clone: the commit is missing from its history)", commit)
	}
	fetch, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if _, err := git(fetch, repo, "fetch", "--unshallow", "--quiet"); err != nil {
		return fmt.Errorf("commit %s is not in this shallow clone, and git fetch --unshallow failed: %w", commit, err)
	}
	if _, err := git(ctx, repo, "cat-file", "-e", commit+"^{commit}"); err != nil {
		return fmt.Errorf("commit %s is not in this repository even after git fetch --unshallow (does the clone's "+
			"remote hold it?)", commit)
	}
	return nil
}

// buildRelease checks commit out into a detached worktree under dir, builds its ./cmd/dev into bin, and removes
// the worktree again (also when the build fails): it is needed only for the build.
func buildRelease(t *testing.T, repo, commit, dir, bin string) time.Duration {
	t.Helper()
	src := filepath.Join(dir, "src")
	if _, err := git(context.Background(), repo, "worktree", "add", "--detach", src, commit); err != nil {
		t.Fatalf("check the previous release out: %v", err)
	}
	removed := false
	remove := func() {
		if removed {
			return
		}
		removed = true
		if _, err := git(context.Background(), repo, "worktree", "remove", "--force", src); err != nil {
			t.Logf("remove the worktree: %v", err)
		}
	}
	t.Cleanup(remove)
	took := buildDev(t, src, bin)
	remove()
	return took
}

// buildDev builds src's ./cmd/dev into bin and reports how long it took.
func buildDev(t *testing.T, src, bin string) time.Duration {
	t.Helper()
	started := time.Now()
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", bin, "./cmd/dev")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=go1.27.3")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/dev in %s: %v\n%s", src, err, out)
	}
	return time.Since(started)
}

func TestReleases_ParsedAndThePreviousIsTheNewestThatIsNotToday(t *testing.T) {
	a, b, c := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	rels, err := parseReleases("# comment\n\nv1 " + a + " 2026-11-24\nv2 " + b + " 2026-12-01 # note\nv3 " + c + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 3 || rels[0] != (release{"v1", a, "2026-11-24"}) || rels[1].Date != "2026-12-01" || rels[2].Commit != c {
		t.Fatalf("parsed %+v", rels)
	}
	trees := map[string]string{a: "tree-a", b: "tree-b", c: "tree-today"}
	treeOf := func(commit string) (string, error) { return trees[commit], nil }
	if r, err := previousRelease(rels, "tree-today", treeOf); err != nil || r.Version != "v2" {
		t.Fatalf("previous of a tree released as v3: %+v, %v; want v2", r, err)
	}
	if r, err := previousRelease(rels, "tree-new", treeOf); err != nil || r.Version != "v3" {
		t.Fatalf("previous of an unreleased tree: %+v, %v; want v3", r, err)
	}
	if _, err := previousRelease(rels[2:], "tree-today", treeOf); err == nil {
		t.Fatal("a single release that is today's code must not be deployed onto itself")
	}
	for _, bad := range []string{"v1\n", "v1 abc 2026-11-24\n", "v1 " + strings.Repeat("A", 40) + "\n"} {
		if _, err := parseReleases(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestReleases_TheRepositorysFileParses keeps RELEASES readable by the deploy test.
func TestReleases_TheRepositorysFileParses(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "RELEASES"))
	if err != nil {
		t.Fatal(err)
	}
	rels, err := parseReleases(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) == 0 {
		t.Fatal("RELEASES names no release")
	}
}
