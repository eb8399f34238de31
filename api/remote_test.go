package api

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// lockedBuffer collects the API's log lines across its goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Failed before its fix (issue 13, item 5): echo's RealIP believed any X-Forwarded-For, so a caller chose the
// address the security log gave for it.
func TestSecurityLog_NamesTheConnectionUnlessItComesFromATrustedProxy(t *testing.T) {
	_, loopback, err := net.ParseCIDR("127.0.0.0/8")
	require.NoError(t, err)
	_, elsewhere, err := net.ParseCIDR("10.9.0.0/16")
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		trusted []*net.IPNet
		remote  string // the address logged for a request from 127.0.0.1 that claims X-Forwarded-For 203.0.113.7
	}{
		{"no trusted proxies: the header is a claim, the connection is the client", nil, "127.0.0.1"},
		{"a proxy not trusted: its header is not believed", []*net.IPNet{elsewhere}, "127.0.0.1"},
		{"a trusted proxy: the client is the one it names", []*net.IPNet{loopback}, "203.0.113.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &lockedBuffer{}
			srv := httptest.NewServer(New(Config{
				TrustedProxies: tc.trusted,
				Logger:         slog.New(slog.NewTextHandler(logs, nil)),
			}))
			defer srv.Close()
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/payouts", bytes.NewBufferString(`{}`))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer forged")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", "203.0.113.7")
			req.Header.Set("X-Real-IP", "198.51.100.9")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			require.Contains(t, logs.String(), "api key rejected")
			require.Contains(t, logs.String(), "remote="+tc.remote)
			for _, other := range []string{"127.0.0.1", "203.0.113.7", "198.51.100.9"} {
				if other != tc.remote {
					require.NotContains(t, logs.String(), "remote="+other)
				}
			}
		})
	}
}
