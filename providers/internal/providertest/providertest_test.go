package providertest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
)

// fakeHooks translates a body "ok" into one event, "forged" into a bad signature, anything else into an error.
type fakeHooks struct{}

func (fakeHooks) Translate(_ http.Header, body []byte) ([]providers.Event, error) {
	switch string(body) {
	case "ok":
		return []providers.Event{{Kind: providers.EventPaymentFinished, Provider: "test"}}, nil
	case "forged":
		return nil, providers.ErrBadSignature
	}
	return nil, &providers.MalformedError{Reason: "not a webhook"}
}

func TestHookReceiver(t *testing.T) {
	rc := NewHookReceiver(fakeHooks{}, 4)
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	post := func(body string) int {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	rc.Refuse(1)
	tests := []struct {
		body   string
		status int
		event  bool
	}{
		{"ok", http.StatusInternalServerError, false}, // refused
		{"ok", http.StatusOK, true},
		{"forged", http.StatusUnauthorized, false},
		{"junk", http.StatusBadRequest, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.status, post(tt.body), tt.body)
		if tt.event {
			require.Equal(t, providers.EventPaymentFinished, NextEvent(t, rc.Events, "test").Kind)
		}
	}

	NoEvent(t, rc.Events, "test")
	require.Equal(t, [][]byte{[]byte("ok"), []byte("ok"), []byte("forged"), []byte("junk")}, rc.Received(),
		"every body is recorded, whatever was answered")
}

// ackHooks are fakeHooks whose provider expects the answer OK.
type ackHooks struct{ fakeHooks }

func (ackHooks) Acknowledge() (string, []byte) { return "text/plain", []byte("OK") }

func TestHookReceiver_AnswersAsTheProviderExpects(t *testing.T) {
	tests := []struct {
		name        string
		hooks       providers.Webhooks
		contentType string
		body        string
	}{
		{"an Acknowledger's answer", ackHooks{}, "text/plain", "OK"},
		{"200 and nothing else without one", fakeHooks{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(NewHookReceiver(tt.hooks, 1))
			t.Cleanup(srv.Close)

			resp, err := http.Post(srv.URL, "application/json", strings.NewReader("ok"))
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)

			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, tt.body, string(body))
			if tt.contentType != "" {
				require.Equal(t, tt.contentType, resp.Header.Get("Content-Type"))
			}
		})
	}
}

func TestFakeAPI_RecordsRequests(t *testing.T) {
	srv, requests := FakeAPI(t, http.StatusTeapot, `{"a":1}`)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v2/x%2Fy", strings.NewReader("body"))
	require.NoError(t, err)
	req.Header.Set("X-Test", "1")

	resp, err := http.DefaultClient.Do(req)

	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusTeapot, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	got := requests()
	require.Len(t, got, 1)
	require.Equal(t, http.MethodPost, got[0].Method)
	require.Equal(t, "/v2/x/y", got[0].Path)
	require.Equal(t, "/v2/x%2Fy", got[0].RawPath)
	require.Equal(t, "1", got[0].Header.Get("X-Test"))
	require.Equal(t, "body", string(got[0].Body))
}

func TestSilentServerAndClosedURL(t *testing.T) {
	c := &http.Client{Timeout: 50 * time.Millisecond}

	_, err := c.Get(SilentServer(t).URL)
	require.Error(t, err, "no answer in time")
	_, err = c.Get(ClosedURL())
	require.Error(t, err, "connection refused")
}

func TestRequireError(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &providers.Error{Provider: "p", Op: "op", Certainty: providers.Unknown, Code: "c"})

	pe := RequireError(t, err, "p", providers.Unknown, "c")

	require.Equal(t, "op", pe.Op)
}

func TestStateFileAssertions(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "state.json")
	require.NoError(t, os.WriteFile(file, []byte("{}"), 0o600))
	RequirePrivateAndAlone(t, file)

	require.NoError(t, os.Rename(file, file+".corrupt-1"))
	RequireMovedAside(t, file, []byte("{}"))
}
