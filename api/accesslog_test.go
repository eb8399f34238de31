package api_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/api"
)

// TestAPI_ProbesAreAccessLoggedAtDebugOnly: the load balancer's and the orchestrator's probes hit every few seconds;
// at INFO they would bury the lines about payouts.
func TestAPI_ProbesAreAccessLoggedAtDebugOnly(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	for _, tt := range []struct {
		path   string
		logged bool
	}{
		{"/livez", false},
		{"/readyz", false},
		{"/v1/payouts", true},
	} {
		t.Run(tt.path, func(t *testing.T) {
			var logs bytes.Buffer
			srv := httptest.NewServer(api.New(api.Config{Health: ok,
				Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))}))
			defer srv.Close()
			resp, err := http.Get(srv.URL + tt.path)
			require.NoError(t, err)
			_ = resp.Body.Close()
			require.Equal(t, tt.logged, strings.Contains(logs.String(), `"msg":"http"`), logs.String())
		})
	}
}

// TestAPI_ReadsAnsweredAreAccessLoggedAtDebugWritesAndRefusalsAtInfo: a backend that polls its payouts would write
// a line per poll at INFO (issue 17: most of the API's lines per payout); a read refused, and every write or
// webhook, stays at INFO.
func TestAPI_ReadsAnsweredAreAccessLoggedAtDebugWritesAndRefusalsAtInfo(t *testing.T) {
	for _, tt := range []struct {
		name, method, path string
		atInfo             bool
	}{
		{"a read answered", http.MethodGet, "/v1/openapi.json", false},
		{"a read refused", http.MethodGet, "/v1/payouts", true},
		{"a webhook", http.MethodPost, "/webhooks/nowhere", true},
		{"a write refused", http.MethodPost, "/v1/payouts", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
				var logs bytes.Buffer
				srv := httptest.NewServer(api.New(api.Config{
					Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: level}))}))
				req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
				require.NoError(t, err)
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				_ = resp.Body.Close()
				srv.Close()
				want := tt.atInfo || level == slog.LevelDebug
				require.Equal(t, want, strings.Contains(logs.String(), `"msg":"http"`), "at %s: %s", level, logs.String())
			}
		})
	}
}
