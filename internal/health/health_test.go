package health

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

func get(t *testing.T, h http.Handler, path string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	return rec.Code, body
}

func TestLivez_ALoopThatMissesItsRoundIsStuck(t *testing.T) {
	c := New(Options{})
	c.beat("temporal", time.Hour)
	c.beat("providers", time.Millisecond)
	time.Sleep(5 * time.Millisecond)

	code, body := get(t, c.Handler(), "/livez")

	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, map[string]any{"status": "stuck", "stuck": []any{"providers"}}, body)

	c.beat("providers", time.Hour)
	code, body = get(t, c.Handler(), "/livez")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, map[string]any{"status": "live"}, body)
}

func TestReadyz_NotReadyWhileAnyCheckIsPendingOrFailing(t *testing.T) {
	c := New(Options{Workers: true})
	code, body := get(t, c.Handler(), "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "not_ready", body["status"])
	require.Len(t, body["checks"], 4, "temporal, namespace, workers, codec")

	for _, name := range []string{CheckTemporal, CheckNamespace, CheckWorkers} {
		c.set(name, OK, "")
	}
	c.checkCodec()
	require.Equal(t, Failing, c.Report().Checks[3].Status, "no codec is a failing codec check")
	require.Contains(t, c.Report().Checks[3].Message, "plain text")
	c.set(CheckCodec, OK, "")
	code, body = get(t, c.Handler(), "/readyz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ready", body["status"])

	c.set(CheckWorkers, Skipped, "")
	require.True(t, c.Report().Ready(), "a skipped check does not make the process unready by itself")
	c.set(CheckWorkers, Failing, "no worker")
	require.False(t, c.Report().Ready())
}

func TestStart_RetriesSoonWhileTemporalChecksFail(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there
	c, err := client.NewLazyClient(client.Options{HostPort: addr})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	checker := New(Options{Client: c, Address: addr, Namespace: "default", Workers: true, Every: time.Hour,
		Timeout: 500 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	checker.Start(ctx)

	rounds := map[time.Time]bool{}
	require.Eventually(t, func() bool {
		r := checker.Report().Checks[0]
		if r.Status == Failing {
			rounds[r.CheckedAt] = true
		}
		return len(rounds) >= 2
	}, 5*time.Second, 20*time.Millisecond, "Temporal was checked again within RetryEvery, not after Every")
	require.Contains(t, checker.Report().Checks[0].Message, "Temporal at "+addr+" does not answer")
}

func TestCheckTemporal_AtShutdownRecordsAndLogsNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c, err := client.NewLazyClient(client.Options{HostPort: addr})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	var logs bytes.Buffer
	checker := New(Options{Client: c, Address: addr, Namespace: "default", Workers: true, Timeout: time.Second,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the process is stopping: a round cut short is not a finding

	checker.checkTemporal(ctx)
	require.NotContains(t, logs.String(), "level=WARN", logs.String())
	require.Equal(t, Pending, checker.Report().Checks[0].Status)
}
