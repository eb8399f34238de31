package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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

	"github.com/payoutflow/payoutflow/internal/devserver"
	"github.com/payoutflow/payoutflow/workflows"
)

func review15FreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestWorker_ReadinessSaysTheNamespaceIsMissing: README's readiness table says the `namespace` check fails
// when TEMPORAL_NAMESPACE does not exist, and the worker's /readyz is where an operator looks for the worker. A
// worker deployed with a namespace that is not created yet (a typo, a new environment) must stay up, live and not
// ready, naming the namespace: not exit.
func TestWorker_ReadinessSaysTheNamespaceIsMissing(t *testing.T) {
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "worker"), ".").CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ts, err := devserver.Start(ctx, devserver.Options{DataDir: filepath.Join(dir, "temporal"),
		FrontendAddr: "127.0.0.1:0", DisableUI: true, SearchAttributes: workflows.SearchAttributeTypes})
	require.NoError(t, err)
	defer func() { _ = ts.Stop() }()

	metricsAddr := review15FreeAddr(t)
	codecKey := make([]byte, 32)
	_, _ = rand.Read(codecKey)
	cmd := exec.Command(filepath.Join(dir, "worker"))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEMPORAL_") && !strings.HasPrefix(kv, "OTEL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TEMPORAL_ADDRESS="+ts.FrontendAddr(), "TEMPORAL_NAMESPACE=payouts-not-created",
		"METRICS_ADDR="+metricsAddr, "CODEC_KEY="+base64.StdEncoding.EncodeToString(codecKey), "CODEC_KEYS=",
		"CODEC_KEY_FILE=", "MANDARIN_MERCHANT_ID=1", "MANDARIN_SECRET=s",
		"MANDARIN_BASE_URL=https://"+review15FreeAddr(t), "PUBLIC_URL=https://payouts.example.com", "LOG_FORMAT=json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill(); <-exited }()

	var ready int
	var body map[string]any
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the worker exited (%v) instead of answering /readyz that the namespace is missing:\n%s", err, stderr.String())
		default:
		}
		ready, body = review15Get("http://" + metricsAddr + "/readyz")
		b, _ := json.Marshal(body)
		if ready == http.StatusServiceUnavailable && strings.Contains(string(b), `"name":"namespace","status":"failing"`) {
			break
		}
	}
	b, _ := json.Marshal(body)
	require.Equal(t, http.StatusServiceUnavailable, ready, "/readyz: %s", b)
	require.Contains(t, string(b), `"name":"namespace","status":"failing"`)
	live, _ := review15Get("http://" + metricsAddr + "/livez")
	require.Equal(t, http.StatusOK, live, "/livez")
}

func review15Get(url string) (int, map[string]any) {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(url)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}
