package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// review15Build builds cmd/api and cmd/worker into a temporary directory.
func review15Build(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", dir+string(filepath.Separator), ".", "../worker").CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)
	return dir
}

func review15FreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// review15Env is a production configuration (one provider, Mandarin) whose Temporal is a loopback port where
// nothing listens: Temporal is down at the moment the process starts.
func review15Env(t *testing.T, dir, metricsAddr string) []string {
	t.Helper()
	key := "pf_review15"
	sum := sha256.Sum256([]byte(key))
	keys := filepath.Join(dir, "keys.json")
	require.NoError(t, os.WriteFile(keys, []byte(`{"keys":[{"name":"b","sha256":"`+hex.EncodeToString(sum[:])+`","scopes":["read"]}]}`), 0o600))
	codecKey := make([]byte, 32)
	_, _ = rand.Read(codecKey)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEMPORAL_") && !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"TEMPORAL_ADDRESS="+review15FreeAddr(t), // nothing listens there
		"METRICS_ADDR="+metricsAddr, "API_ADDR="+review15FreeAddr(t), "CODEC_ADDR="+review15FreeAddr(t),
		"PUBLIC_URL=https://payouts.example.com", "API_KEYS_FILE="+keys,
		"CODEC_KEY="+base64.StdEncoding.EncodeToString(codecKey), "CODEC_KEYS=", "CODEC_KEY_FILE=",
		"MANDARIN_MERCHANT_ID=1", "MANDARIN_SECRET=s", "MANDARIN_BASE_URL=https://"+review15FreeAddr(t),
		"LOG_FORMAT=json")
}

// TestCommands_ProbesAnswerWhenTemporalIsDownAtStart: README says /livez looks at nothing outside the process
// ("Temporal down never restarts it") and /readyz's `temporal` check says "the frontend does not answer". An
// orchestrator starting the API or the worker while Temporal is down (a cluster restart, a deploy that starts
// both) must see the process live and not ready, with the reason, not a process that exits.
func TestCommands_ProbesAnswerWhenTemporalIsDownAtStart(t *testing.T) {
	dir := review15Build(t)
	for _, bin := range []string{"api", "worker"} {
		t.Run(bin, func(t *testing.T) {
			metricsAddr := review15FreeAddr(t)
			cmd := exec.Command(filepath.Join(dir, bin))
			cmd.Env = review15Env(t, t.TempDir(), metricsAddr)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })

			// Give it the time a readiness round takes (DefaultTimeout 5s) and more.
			var live, ready int
			var readyBody map[string]any
			deadline := time.Now().Add(15 * time.Second)
			for time.Now().Before(deadline) {
				select {
				case err := <-exited:
					exited <- err
					t.Fatalf("%s exited (%v) instead of answering /livez and /readyz while Temporal is down:\n%s", bin, err, stderr.String())
				default:
				}
				live, _ = review15Get(t, "http://"+metricsAddr+"/livez")
				ready, readyBody = review15Get(t, "http://"+metricsAddr+"/readyz")
				if live == http.StatusOK && ready == http.StatusServiceUnavailable {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			require.Equal(t, http.StatusOK, live, "/livez")
			require.Equal(t, http.StatusServiceUnavailable, ready, "/readyz: %v", readyBody)
			require.Contains(t, func() string { b, _ := json.Marshal(readyBody); return string(b) }(), `"name":"temporal","status":"failing"`)
		})
	}
}

func review15Get(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(url)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}
