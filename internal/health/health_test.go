package health

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
