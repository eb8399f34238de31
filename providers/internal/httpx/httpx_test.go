package httpx

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaultClient_TimesOutAndFollowsNoRedirect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		t.Errorf("the redirect was followed to %s", r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	c := DefaultClient()

	resp, err := c.Post(srv.URL+"/moved", "application/json", strings.NewReader(`{}`))

	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode, "the redirect is the answer")
	require.Equal(t, DefaultTimeout, c.Timeout)
	require.NotSame(t, c, DefaultClient(), "each caller gets its own client")
}

func TestCheckBaseURL(t *testing.T) {
	tests := []struct {
		raw     string
		wantErr string
	}{
		{"https://demo.bank131.ru", ""},
		{"http://127.0.0.1:8080/prefix/", ""},
		{"demo.bank131.ru", `base URL "demo.bank131.ru": want http(s)://host`},
		{"ftp://host", `base URL "ftp://host": want http(s)://host`},
		{"https://", `base URL "https://": want http(s)://host`},
		{"http://[::1", "base URL: parse"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			err := CheckBaseURL(tt.raw)

			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestReadResponse_ReadsUpToMaxBody(t *testing.T) {
	tests := []struct {
		name string
		size int
		want int
	}{
		{"a small body", 10, 10},
		{"exactly the limit", MaxBody, MaxBody},
		{"a larger body is cut", MaxBody + 100, MaxBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{Body: io.NopCloser(bytes.NewReader(make([]byte, tt.size)))}

			got, err := ReadResponse(resp)

			require.NoError(t, err)
			require.Len(t, got, tt.want)
		})
	}
}

func TestReadRequest_RefusesALargerBody(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		wantErr bool
	}{
		{"a small body", 10, false},
		{"exactly the limit", MaxBody, false},
		{"one byte more", MaxBody + 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, tt.size)))

			got, err := ReadRequest(httptest.NewRecorder(), r)

			if tt.wantErr {
				var tooLarge *http.MaxBytesError
				require.ErrorAs(t, err, &tooLarge)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, tt.size)
		})
	}
}

func TestWriteJSON(t *testing.T) {
	const fallback = `{"message":"cannot encode the answer"}`
	tests := []struct {
		name       string
		status     int
		v          any
		wantStatus int
		wantBody   string
		wantType   string
	}{
		{"a value", http.StatusCreated, map[string]int{"a": 1}, http.StatusCreated, `{"a":1}`, "application/json"},
		{"an empty list", http.StatusOK, []string{}, http.StatusOK, `[]`, "application/json"},
		{"a value that cannot be encoded", http.StatusOK, func() {}, http.StatusInternalServerError, fallback + "\n",
			"text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()

			WriteJSON(rec, tt.status, tt.v, fallback)

			require.Equal(t, tt.wantStatus, rec.Code)
			require.Equal(t, tt.wantBody, rec.Body.String())
			require.Equal(t, tt.wantType, rec.Header().Get("Content-Type"))
		})
	}
}
