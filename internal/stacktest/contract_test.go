package stacktest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/api"
)

// reports collects what ContractTransport reports.
type reports struct {
	mu  sync.Mutex
	got []string
}

func (r *reports) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, fmt.Sprintf(format, args...))
}

// answer is a server that answers every request with status and body, as JSON, with an X-Request-Id unless
// noRequestID.
func answer(t *testing.T, status int, body string, noRequestID bool) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if !noRequestID {
			w.Header().Set("X-Request-Id", "req_1")
		}
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "GET, POST")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const validCreate = `{"provider":"bank131","amount":{"value":10000,"currency":"RUB"},
	"destination":{"type":"card","card":{"number":"4242424242424242"}},"recipient":{"full_name":"Ivanov Ivan"}}`

const anError = `{"error":{"code":"invalid_json","message":"the body is not valid JSON","request_id":"req_1"}}`

func TestContractTransport_ReportsWhatBreaksTheContract(t *testing.T) {
	const id = "po_0123456789abcdef0123456789abcdef"
	payoutBody := `{"id":"` + id + `","status":"created","provider":"bank131","method":"card_number",
		"amount":{"value":10000,"currency":"RUB"},"destination":{"type":"card","card":{"brand":"visa","last4":"4242"}},
		"recipient":{"full_name":"Ivanov Ivan"},"timeline":[],"created_at":"2026-12-06T22:00:00Z","updated_at":"2026-12-06T22:00:00Z"}`
	for name, tc := range map[string]struct {
		method, path, body string
		headers            map[string]string
		status             int
		answer             string
		noRequestID        bool
		want               string // what the report says; "" for none
	}{
		"a valid create answered as the contract says": {method: "POST", path: "/v1/payouts", body: validCreate,
			headers: map[string]string{"Idempotency-Key": "k1"}, status: 201, answer: payoutBody},
		"an answer with a field the contract does not have": {method: "POST", path: "/v1/payouts", body: validCreate,
			headers: map[string]string{"Idempotency-Key": "k1"}, status: 201,
			answer: strings.Replace(payoutBody, `"status"`, `"colour":"red","status"`, 1),
			want:   "POST /v1/payouts: the answer 201 does not match the contract"},
		"an answer with a status the operation does not declare": {method: "POST", path: "/v1/payouts", body: validCreate,
			headers: map[string]string{"Idempotency-Key": "k1"}, status: 418, answer: anError,
			want: "POST /v1/payouts: the answer 418 does not match the contract"},
		"an error that is not the contract's error body": {method: "GET", path: "/v1/payouts/" + id, status: 404,
			answer: `{"message":"no"}`, want: "GET /v1/payouts/{id}: the answer 404 does not match"},
		"a request without its Idempotency-Key, refused": {method: "POST", path: "/v1/payouts", body: validCreate,
			status: 400, answer: anError},
		"a request without its Idempotency-Key, taken": {method: "POST", path: "/v1/payouts", body: validCreate,
			status: 201, answer: payoutBody, want: "the request does not match the contract, yet the API answered 201"},
		"a card number in a refused request is masked": {method: "POST", path: "/v1/payouts",
			body:    strings.Replace(validCreate, `"recipient"`, `"pan":"4242424242424242","recipient"`, 1),
			headers: map[string]string{"Idempotency-Key": "k1"}, status: 201, answer: payoutBody, want: "424242******4242"},
		"a path the contract lacks, answered 404 with an error": {method: "GET", path: "/v1/nothing", status: 404, answer: anError},
		"a path the contract lacks, answered 200": {method: "GET", path: "/v1/nothing", status: 200, answer: `{}`,
			want: "GET /v1/nothing is a path the contract does not have: answered 200, want 404"},
		"a method the path does not take, answered 405": {method: "DELETE", path: "/v1/payouts", status: 405, answer: anError},
		"a method the path does not take, answered 404": {method: "DELETE", path: "/v1/payouts", status: 404, answer: anError,
			want: "answered 404, want 405"},
		"an answer without X-Request-Id": {method: "POST", path: "/v1/payouts", body: validCreate,
			headers: map[string]string{"Idempotency-Key": "k1"}, status: 201, answer: payoutBody, noRequestID: true, want: `response header "X-Request-Id" missing`},
		"a 404 without X-Request-Id": {method: "GET", path: "/v1/nothing", status: 404, answer: anError, noRequestID: true,
			want: "the 404 answer has no X-Request-Id"},
		"a path outside the API passes unchecked": {method: "GET", path: "/_sandbox/ledger", status: 200, answer: `[1]`},
	} {
		t.Run(name, func(t *testing.T) {
			rep := &reports{}
			req, err := http.NewRequest(tc.method, answer(t, tc.status, tc.answer, tc.noRequestID)+tc.path, strings.NewReader(tc.body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer pf_test")
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			res, err := ContractClient(rep).Do(req)
			require.NoError(t, err)
			b, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.Equal(t, tc.answer, string(b), "the caller reads the answer whole")
			if tc.want == "" {
				require.Empty(t, rep.got)
				return
			}
			require.Len(t, rep.got, 1)
			require.Contains(t, rep.got[0], tc.want)
			require.NotContains(t, rep.got[0], "4242424242424242", "no card number in a report")
		})
	}
}

func TestContractTransport_TheAPIsOwnAnswersMatch(t *testing.T) {
	srv := httptest.NewServer(api.New(api.Config{}))
	t.Cleanup(srv.Close)
	rep := &reports{}
	c := ContractClient(rep)
	for _, tc := range []struct {
		method, path, key string
		status            int
	}{
		{http.MethodGet, "/v1/openapi.json", "", http.StatusOK},
		{http.MethodGet, "/v1/payouts", "", http.StatusUnauthorized},
		{http.MethodGet, "/v1/payouts", "pf_unknown", http.StatusUnauthorized},
		{http.MethodPost, "/v1/payouts/po_0123456789abcdef0123456789abcdef/confirm", "pf_unknown", http.StatusUnauthorized},
		{http.MethodPost, "/webhooks/nobody", "", http.StatusNotFound},
		{http.MethodGet, "/v1/nothing", "", http.StatusNotFound},
		{http.MethodDelete, "/v1/payouts", "", http.StatusMethodNotAllowed},
	} {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		require.NoError(t, err)
		if tc.key != "" {
			req.Header.Set("Authorization", "Bearer "+tc.key)
		}
		res, err := c.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, tc.status, res.StatusCode, "%s %s", tc.method, tc.path)
	}
	require.Empty(t, rep.got)
	unseen, declared, err := ContractCoverage()
	require.NoError(t, err)
	require.Less(t, len(unseen), declared)
	require.NotContains(t, unseen, "GET /v1/openapi.json 200", "a checked answer is covered")
	require.Contains(t, unseen, "POST /v1/payouts/{id}/resolve 202", "an answer never checked is not")
}

func TestContractWebhook_ChecksWhatPayoutflowSendsABackend(t *testing.T) {
	c, err := contract()
	require.NoError(t, err)
	if c.doc.Webhooks["payoutEvent"] == nil {
		t.Skip("the contract has no payoutEvent webhook yet")
	}
	for name, tc := range map[string]struct {
		body, signature, want string
	}{
		"no signature":           {body: `{}`, want: `parameter "Payoutflow-Signature" in header has an error`},
		"not an event":           {body: `{"id":"x"}`, signature: "t=1," + "v1=" + strings.Repeat("0", 64), want: "doesn't match schema"},
		"a signature without v1": {body: `{}`, signature: "t=1", want: "Payoutflow-Signature"},
	} {
		t.Run(name, func(t *testing.T) {
			rep := &reports{}
			served := false
			h := ContractWebhook(rep, "payoutEvent", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				require.Equal(t, tc.body, string(b), "the backend reads the body whole")
				served = true
			}))
			req := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			if tc.signature != "" {
				req.Header.Set("Payoutflow-Signature", tc.signature)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			require.True(t, served)
			require.Len(t, rep.got, 1)
			require.Contains(t, rep.got[0], tc.want)
		})
	}
}
