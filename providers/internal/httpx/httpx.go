// Package httpx holds what the providers' API clients and sandboxes do alike over HTTP: the default client, the
// check of a base URL, bounded reading of bodies and JSON answers.
package httpx

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// DefaultTimeout is the timeout of DefaultClient.
const DefaultTimeout = 30 * time.Second

// MaxBody bounds how much of a body ReadResponse and ReadRequest read: 1 MiB.
const MaxBody = 1 << 20

// DefaultClient returns the client an API client uses when it is given none: a 30 s timeout, and no redirect
// followed, since a redirected POST would be replayed or turned into a GET; the redirect is answered instead.
func DefaultClient() *http.Client {
	return &http.Client{
		Timeout:       DefaultTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// CheckBaseURL checks that raw is an http or https URL with a host.
func CheckBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("base URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("base URL %q: want http(s)://host", raw)
	}
	return nil
}

// ReadResponse reads a response body, up to MaxBody bytes: what is beyond is left unread, and what was read
// then fails to parse.
func ReadResponse(resp *http.Response) ([]byte, error) {
	return io.ReadAll(io.LimitReader(resp.Body, MaxBody))
}

// ReadRequest reads a request body a server got, failing when it is longer than MaxBody bytes.
func ReadRequest(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
}

// WriteJSON answers with status and v as JSON. When v cannot be marshalled, it answers 500 with fallback, a JSON
// error body in the API's own shape.
func WriteJSON(w http.ResponseWriter, status int, v any, fallback string) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fallback, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
