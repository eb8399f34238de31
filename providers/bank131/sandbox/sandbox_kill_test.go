package sandbox

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers/bank131"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
)

// envKillChild names the state file of TestSandbox_KillChild, the process TestSandbox_SIGKILLedMidStream kills.
const envKillChild = "BANK131_SANDBOX_KILL_CHILD"

// TestSandbox_SIGKILLedMidStreamPaysNothingTwiceAndResumes kills, three times, a process streaming card payouts
// through a sandbox with a state file (this test binary, running TestSandbox_KillChild), wherever it is, with
// SIGKILL; each time the file opens again without being moved aside, every payout reported finished is in the
// ledger, no payout is in it twice, and every confirmed payout is executed after the restart.
func TestSandbox_SIGKILLedMidStreamPaysNothingTwiceAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	file := stateFile(t)
	var finished []string
	for round := range 3 {
		finished = append(finished, runAndKill(t, file, round, 15+round*7)...)

		var logs providertest.Logs
		hooks := &hookWaiter{waiting: map[string]chan string{}}
		partner, bank := testKeys(t)
		sb, err := OpenSandbox(SandboxConfig{PartnerPublicKey: &partner.PublicKey, BankPrivateKey: bank,
			Project: testProject, WebhookDelay: time.Millisecond, WebhookURL: "http://hooks.invalid/",
			StateFile: file, HTTPClient: &http.Client{Transport: hooks}, Logger: logs.Logger()})
		require.NoError(t, err)

		require.NotContains(t, logs.String(), "level=ERROR", "round %d", round)
		moved, err := filepath.Glob(file + ".corrupt-*")
		require.NoError(t, err)
		require.Empty(t, moved, "round %d", round)
		paid := map[string]int{}
		for _, e := range sb.Ledger() {
			paid[e.SessionID]++
		}
		for id, n := range paid {
			require.Equal(t, 1, n, "round %d: session %s paid %d times", round, id, n)
		}
		for _, id := range finished {
			require.Contains(t, paid, id, "round %d: reported finished before the kill", round)
		}
		require.Eventually(t, func() bool {
			sb.mu.Lock()
			defer sb.mu.Unlock()
			for _, sess := range sb.sessions {
				if sess.confirmed && !sess.executed {
					return false
				}
			}
			return true
		}, 10*time.Second, 5*time.Millisecond, "round %d: every confirmed payout is executed after the restart", round)
		sb.Close()
	}
}

// runAndKill starts TestSandbox_KillChild on file and kills it with SIGKILL once it reported n payouts finished;
// it returns the sessions of those.
func runAndKill(t *testing.T, file string, round, n int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSandbox_KillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envKillChild+"="+file, fmt.Sprintf("%s_ROUND=%d", envKillChild, round))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	var finished []string
	lines := bufio.NewScanner(out)
	for len(finished) < n && lines.Scan() {
		if id, ok := strings.CutPrefix(lines.Text(), "finished "); ok {
			finished = append(finished, id)
		}
	}
	require.NoError(t, cmd.Process.Kill()) // SIGKILL, wherever it is
	_ = cmd.Wait()
	require.Len(t, finished, n, "the child reported its payouts")
	return finished
}

// TestSandbox_KillChild is the process TestSandbox_SIGKILLedMidStream kills: it streams card payouts, 8 at a
// time, through a sandbox keeping its state in the file envKillChild names, and prints "finished <session>" for
// each payout_finished, until it is killed.
func TestSandbox_KillChild(t *testing.T) {
	file := os.Getenv(envKillChild)
	if file == "" {
		t.Skip("run by TestSandbox_SIGKILLedMidStreamPaysNothingTwiceAndResumes")
	}
	partner, bank := testKeys(t)
	hooks := &hookWaiter{waiting: map[string]chan string{}}
	sb, err := OpenSandbox(SandboxConfig{PartnerPublicKey: &partner.PublicKey, BankPrivateKey: bank,
		Project: testProject, WebhookDelay: time.Millisecond, WebhookURL: "http://hooks.invalid/", StateFile: file,
		HTTPClient: &http.Client{Transport: hooks}})
	require.NoError(t, err)
	client, err := bank131.NewClient(bank131.Config{BaseURL: "https://bank.invalid", Project: testProject,
		PrivateKey: partner, HTTPClient: &http.Client{Transport: handlerTransport{sb}}})
	require.NoError(t, err)
	provider := bank131.NewProvider(client)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("po_%s_%d_%d", os.Getenv(envKillChild+"_ROUND"), w, i)
				sessionID, err := payOne(context.Background(), provider, hooks, id)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				fmt.Println("finished " + sessionID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
