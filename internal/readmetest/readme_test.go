package readmetest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/stacktest"
)

// block is one fenced shell block of the README.
type block struct {
	line int // where it starts
	code string
}

// shellBlocks returns the README's ```sh blocks.
func shellBlocks(readme string) []block {
	var out []block
	var cur *block
	for i, l := range strings.Split(readme, "\n") {
		switch {
		case cur == nil && (l == "```sh" || l == "```bash" || l == "```shell"):
			cur = &block{line: i + 1}
		case cur != nil && l == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.code += l + "\n"
		}
	}
	return out
}

// runnable tells the blocks that call the local API: they run against the stack; the others (make, docker, a
// cluster's settings) are only parsed.
func runnable(b block) bool {
	return strings.Contains(b.code, "curl ") && strings.Contains(b.code, "127.0.0.1:8080")
}

// bannerCommands returns the shell commands `make run` prints: its lines that start a command (export, curl) with
// their continuation lines.
func bannerCommands(log string) string {
	var out []string
	cont := false
	for _, l := range strings.Split(log, "\n") {
		t := strings.TrimSpace(l)
		if cont || strings.HasPrefix(t, "export ") || strings.HasPrefix(t, "curl ") {
			out = append(out, t)
			cont = strings.HasSuffix(t, `\`)
		}
	}
	return strings.Join(out, "\n") + "\n"
}

func TestREADME_ShellBlocksParse(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	blocks := shellBlocks(string(readme))
	require.NotEmpty(t, blocks)
	for _, b := range blocks {
		out, err := exec.Command("bash", "-n", "-c", b.code).CombinedOutput()
		require.NoError(t, err, "README.md:%d: the block does not parse in bash: %s\n%s", b.line, out, b.code)
	}
}

// statusRE finds the HTTP status the curl wrapper prints after each answer.
var statusRE = regexp.MustCompile(`(?m)^HTTP_STATUS (\d{3})$`)

var idRE = regexp.MustCompile(`"id":\s*"(po_[0-9a-f]{32})"`)

func TestREADME_ExamplesAndTheRunBannerRunAsWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts cmd/dev")
	}
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	s := startDev(t)

	// Placeholders, substituted as README "The examples are tested" says: the addresses of `make run` become the
	// test stack's, .data/ its DATA_DIR, and po_0f9c… or po_… the payout the example before created.
	lastID := ""
	subst := func(code string) string {
		code = strings.NewReplacer(
			"http://127.0.0.1:8080", s.api,
			"http://127.0.0.1:8131", "http://"+s.addrs["bank131"],
			"http://127.0.0.1:8132", "http://"+s.addrs["bepaid"],
			"http://127.0.0.1:8133", "http://"+s.addrs["mandarin"],
			".data/", s.dataDir+"/",
		).Replace(code)
		return regexp.MustCompile(`po_(0f9c)?…|<id>`).ReplaceAllString(code, lastID)
	}
	run := func(where, code string) {
		t.Helper()
		if strings.Contains(code, "/confirm") {
			s.waitStatus(t, lastID, "awaiting_approval")
		}
		// curl prints each answer's status after it; every call must be well-formed and authorized (2xx), or
		// refused only for the payout's state (409).
		prelude := "curl() { command curl -w '\\nHTTP_STATUS %{http_code}\\n' \"$@\"; }\nexport PAYOUTFLOW_KEY=" + s.key + "\n"
		cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", prelude+code)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: %s\n%s", where, out, code)
		statuses := statusRE.FindAllStringSubmatch(string(out), -1)
		require.NotEmpty(t, statuses, "%s: no call answered:\n%s", where, out)
		for _, m := range statuses {
			require.True(t, m[1][0] == '2' || m[1] == "409", "%s: answered %s:\n%s\n%s", where, m[1], out, code)
		}
		if m := idRE.FindStringSubmatch(string(out)); m != nil && strings.Contains(code, "-X POST") && strings.Contains(code, "/v1/payouts -H") {
			lastID = m[1]
		}
	}

	ran := 0
	for _, b := range shellBlocks(string(readme)) {
		if runnable(b) {
			run(fmt.Sprintf("README.md:%d", b.line), subst(b.code))
			ran++
		}
	}
	require.GreaterOrEqual(t, ran, 6, "the README's API examples were found")

	banner := bannerCommands(stacktest.Tail(s.proc.Log, 200))
	require.Contains(t, banner, "/confirm", "the banner shows how to confirm:\n%s", banner)
	// The banner's create makes a payout and its confirm confirms it: run in one shell, <id> is that payout.
	create, confirm, ok := strings.Cut(banner, "curl -s -X POST "+s.api+"/v1/payouts/<id>")
	require.True(t, ok, "the banner's confirm:\n%s", banner)
	run("the banner's create", create)
	run("the banner's confirm", subst("curl -s -X POST "+s.api+"/v1/payouts/<id>"+confirm))
	s.waitStatus(t, lastID, "succeeded")
}

type devStack struct {
	proc    *stacktest.Proc
	api     string
	addrs   map[string]string
	dataDir string
	key     string
}

// startDev builds cmd/dev and starts it, as `make run` does, on free loopback ports.
func startDev(t *testing.T) *devStack {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "dev")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", bin, "./cmd/dev")
	build.Dir = "../.."
	build.Env = append(os.Environ(), "GOTOOLCHAIN=go1.27.3")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/dev: %s", out)

	s := &devStack{addrs: map[string]string{}, dataDir: filepath.Join(dir, "data")}
	for _, name := range []string{"api", "ui", "temporal", "codec", "bank131", "bepaid", "mandarin"} {
		s.addrs[name], err = stacktest.FreeAddr()
		require.NoError(t, err)
	}
	s.api = "http://" + s.addrs["api"]
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"DATA_DIR=" + s.dataDir, "API_ADDR=" + s.addrs["api"], "UI_ADDR=" + s.addrs["ui"],
		"TEMPORAL_ADDRESS=" + s.addrs["temporal"], "CODEC_ADDR=" + s.addrs["codec"],
		"CODEC_URL=http://" + s.addrs["codec"] + "/codec", "UI_ORIGIN=http://" + s.addrs["ui"],
		"BANK131_SANDBOX_ADDR=" + s.addrs["bank131"], "BEPAID_SANDBOX_ADDR=" + s.addrs["bepaid"],
		"MANDARIN_SANDBOX_ADDR=" + s.addrs["mandarin"], "PUBLIC_URL=" + s.api, "METRICS_ADDR=off",
	}
	s.proc, err = stacktest.Start("dev", dir, dir, bin, nil, env)
	require.NoError(t, err)
	t.Cleanup(func() {
		s.proc.Stop()
		if t.Failed() {
			t.Logf("cmd/dev's log:\n%s", stacktest.Tail(s.proc.Log, 60))
		}
	})
	require.NoError(t, s.proc.WaitReady(2*time.Minute, func() bool {
		return stacktest.Answers(s.api+"/healthz") && strings.Contains(stacktest.Tail(s.proc.Log, 200), "/confirm")
	}))
	key, err := os.ReadFile(filepath.Join(s.dataDir, "dev-api-key"))
	require.NoError(t, err)
	s.key = strings.TrimSpace(string(key))
	return s
}

// waitStatus waits until the payout has the status ("" for any final one).
func (s *devStack) waitStatus(t *testing.T, id, want string) {
	t.Helper()
	require.NotEmpty(t, id, "an example created a payout")
	api := &stacktest.API{URL: s.api, Keys: map[string]string{"dev": s.key}}
	var got string
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, b, err := api.Call(ctx, "dev", "GET", "/v1/payouts/"+id, nil, "")
		var p struct {
			Status string `json:"status"`
		}
		if err != nil || json.Unmarshal(b, &p) != nil {
			return false
		}
		got = p.Status
		if want == "" {
			return got == "succeeded" || got == "failed" || got == "cancelled"
		}
		return got == want
	}, 60*time.Second, 200*time.Millisecond, "payout %s is %s, not %s", id, got, want)
}
