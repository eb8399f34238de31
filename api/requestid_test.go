package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
)

var madeRequestID = regexp.MustCompile(`^req_[0-9a-f]{32}$`)

func TestRequestID_EveryAnswerCarriesOneTakenFromTheRequestWhenSafe(t *testing.T) {
	logs := &lockedBuffer{}
	secret := "read-key"
	sum := sha256.Sum256([]byte(secret))
	keys, err := NewKeys([]Key{{Name: "reader", SHA256: hex.EncodeToString(sum[:]), Scopes: []string{ScopeRead}}})
	require.NoError(t, err)
	srv := httptest.NewServer(New(Config{Keys: keys, Logger: slog.New(slog.NewJSONHandler(logs, nil))}))
	t.Cleanup(srv.Close)

	tests := []struct {
		name, method, path, auth, given string
		status                          int
		kept                            bool // the given id is answered; else one is made
	}{
		{"none given: one is made", http.MethodGet, "/v1/payouts/po_00000000000000000000000000000000", "bad", "", http.StatusUnauthorized, false},
		{"a UUID is kept", http.MethodGet, "/v1/payouts", "bad", "6f1c2f9e-3d4b-4a8e-9b51-0c2d7e8f9a10", http.StatusUnauthorized, true},
		{"a proxy's id is kept", http.MethodGet, "/nowhere", "", "Root=1-67891233-abcdef012345678912345678", http.StatusNotFound, true},
		{"kept on a webhook", http.MethodPost, "/webhooks/nowhere", "", "req-42", http.StatusNotFound, true},
		{"kept on an error of a handler", http.MethodGet, "/v1/balances", "good", "abc.DEF_1:2", http.StatusBadRequest, true},
		{"spaces are replaced", http.MethodGet, "/v1/payouts", "bad", "a b", http.StatusUnauthorized, false},
		{"a log injection is replaced", http.MethodGet, "/v1/payouts", "bad", "x\" level=ERROR msg=\"forged", http.StatusUnauthorized, false},
		{"too long is replaced", http.MethodGet, "/v1/payouts", "bad", strings.Repeat("a", 129), http.StatusUnauthorized, false},
		{"a card number is replaced", http.MethodGet, "/v1/payouts", "bad", "4242424242424242", http.StatusUnauthorized, false},
		{"a phone is replaced", http.MethodGet, "/v1/payouts", "bad", "+7-900-123-45-67", http.StatusUnauthorized, false},
		{"a number is replaced", http.MethodGet, "/v1/payouts", "bad", "89001234567", http.StatusUnauthorized, false},
		{"a phone within an id is replaced", http.MethodGet, "/v1/payouts", "bad", "sbp+79001234567", http.StatusUnauthorized, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			require.NoError(t, err)
			if tt.given != "" {
				r.Header.Set(HeaderRequestID, tt.given)
			}
			switch tt.auth {
			case "good":
				r.Header.Set("Authorization", "Bearer "+secret)
			case "bad":
				r.Header.Set("Authorization", "Bearer wrong")
			}
			resp, err := http.DefaultClient.Do(r)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tt.status, resp.StatusCode)

			id := resp.Header.Get(HeaderRequestID)
			if tt.kept {
				require.Equal(t, tt.given, id)
			} else {
				require.Regexp(t, madeRequestID, id)
			}
			var body struct {
				Error struct {
					Code      string `json:"code"`
					RequestID string `json:"request_id"`
				} `json:"error"`
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			require.NotEmpty(t, body.Error.Code)
			require.Equal(t, id, body.Error.RequestID, "the error names the request")

			// Every line logged about the request names it: the access log, and the handler's own.
			lines := logLines(t, logs.String(), id)
			require.NotEmpty(t, lines)
			msgs := map[any]bool{}
			for _, l := range lines {
				msgs[l["msg"]] = true
			}
			require.True(t, msgs["http"], "the access log line names the request: %v", lines)
			if tt.auth == "bad" {
				require.True(t, msgs["api key rejected"], "the handler's line names the request: %v", lines)
			}
			require.NotContains(t, logs.String(), "4242424242424242")
		})
	}
	// A request id no caller sent is made afresh for each request.
	first, second := madeIDs(t, srv.URL), madeIDs(t, srv.URL)
	require.NotEqual(t, first, second)
}

// madeIDs is the request id the API answers a request without one.
func madeIDs(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/nowhere")
	require.NoError(t, err)
	resp.Body.Close()
	return resp.Header.Get(HeaderRequestID)
}

// logLines are the JSON log lines whose request_id is id.
func logLines(t *testing.T, logs, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		if m["request_id"] == id {
			out = append(out, m)
		}
	}
	return out
}

// A request id is in every answer and log line: one that looks like a card number would be masked in logs and
// make a check for card numbers in answers fail at random (it did: a 32-hex id holds a Luhn-valid run of 13 or more
// digits about once in 250).
func TestRequestID_MadeOnesNeverLookLikeACardNumber(t *testing.T) {
	for range 100_000 {
		id := newRequestID()
		require.Regexp(t, madeRequestID, id)
		require.False(t, payout.LooksLikeCardNumber(id), id)
	}
}
