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
