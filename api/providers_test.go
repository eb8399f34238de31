package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// readerServer is an API with no provider configured, and the key of a reader.
func readerServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	secret := "read-key"
	sum := sha256.Sum256([]byte(secret))
	keys, err := NewKeys([]Key{{Name: "reader", SHA256: hex.EncodeToString(sum[:]), Scopes: []string{ScopeRead}}})
	require.NoError(t, err)
	srv := httptest.NewServer(New(Config{Keys: keys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(srv.Close)
	return srv, secret
}

// get answers GET path with the key: the status and the error's code and field.
func get(t *testing.T, srv *httptest.Server, secret, path string) (status int, code, field string) {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	r.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Error struct{ Code, Field string } `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Error.Code, body.Error.Field
}

func TestProviderReads_AProviderNotConfiguredIs422AndAMalformedName400(t *testing.T) {
	srv, secret := readerServer(t)
	for _, path := range []string{"/v1/sbp/banks", "/v1/balances"} {
		tests := []struct {
			provider string
			status   int
			code     string
		}{
			{"bepaid", http.StatusUnprocessableEntity, "provider_not_configured"},
			{"mandarin", http.StatusUnprocessableEntity, "provider_not_configured"},
			{"Mandarin", http.StatusBadRequest, "unknown_provider"},
			{"x' OR '1'='1", http.StatusBadRequest, "unknown_provider"},
			{"", http.StatusBadRequest, "required"},
		}
		for _, tt := range tests {
			t.Run(path+"?provider="+tt.provider, func(t *testing.T) {
				status, code, field := get(t, srv, secret, path+"?provider="+url.QueryEscape(tt.provider))
				require.Equal(t, tt.status, status)
				require.Equal(t, tt.code, code)
				require.Equal(t, "provider", field)
			})
		}
	}
}

func TestListPayouts_AMalformedFilterIs400NamingTheField(t *testing.T) {
	srv, secret := readerServer(t)
	tests := []struct{ param, value string }{
		{"method", "wire"},
		{"method", "card"},
		{"provider", "x' OR '1'='1"},
		{"provider", "BePaid"},
		{"provider", "bank-131"},
		{"status", "paid"},
	}
	for _, tt := range tests {
		t.Run(tt.param+"="+tt.value, func(t *testing.T) {
			status, code, field := get(t, srv, secret, "/v1/payouts?"+url.Values{tt.param: {tt.value}}.Encode())
			require.Equal(t, http.StatusBadRequest, status)
			require.Equal(t, "invalid_filter", code)
			require.Equal(t, tt.param, field)
		})
	}
}
