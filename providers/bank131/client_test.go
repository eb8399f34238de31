package bank131

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131/sandbox"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
)

const okSession = `{"status":"ok","session":{"id":"ps_1","status":"created","created_at":"2018-05-27T02:03:00.000000Z","updated_at":"2018-05-27T02:03:00.000000Z"}}`

// fakeBank answers every request with status and body, and records what it got.
func fakeBank(t *testing.T, status int, body string) (*httptest.Server, func() []providertest.Request) {
	t.Helper()
	return providertest.FakeAPI(t, status, body)
}

func newTestClient(t *testing.T, baseURL string) *Client {
	t.Helper()
	partner, _ := testKeys(t)
	c, err := NewClient(Config{BaseURL: baseURL, Project: testProject, PrivateKey: partner})
	require.NoError(t, err)
	return c
}

func TestClient_SignsExactBodyBytes(t *testing.T) {
	srv, requests := fakeBank(t, http.StatusOK, okSession)
	c := newTestClient(t, srv.URL)

	_, err := c.StartPayout(context.Background(), StartPayout{
		SessionID:      "ps_3230",
		CardNumber:     sandbox.SandboxCardSucceeds,
		RecipientName:  "Ivanov Ivan",
		Amount:         10000,
		Currency:       "RUB",
		Metadata:       "good",
		IdempotencyKey: "po_1:start",
	})
	require.NoError(t, err)

	reqs := requests()
	require.Len(t, reqs, 1)
	got := reqs[0]
	require.Equal(t, http.MethodPost, got.Method)
	require.Equal(t, "/api/v1/session/start/payout", got.Path)
	require.Equal(t, "application/json", got.Header.Get("Content-Type"))
	require.Equal(t, "application/json", got.Header.Get("Accept"))
	require.Equal(t, testProject, got.Header.Get("X-PARTNER-PROJECT"))
	require.Equal(t, "po_1:start", got.Header.Get("X-PARTNER-IDEMPOTENCY-KEY"))
	partner, _ := testKeys(t)
	require.NoError(t, Verify(&partner.PublicKey, got.Body, got.Header.Get("X-PARTNER-SIGN")))
	// The seed's request, v1 field names, currency lowercase.
	require.JSONEq(t, `{
		"session_id": "ps_3230",
		"payment_method": {"type": "card", "card": {"type": "bank_card", "bank_card": {"number": "4242424242424242"}}},
		"participant_details": {"recipient": {"full_name": "Ivanov Ivan"}},
		"amount_details": {"amount": 10000, "currency": "rub"},
		"metadata": "good"
	}`, string(got.Body))
}

func TestClient_SendsMethodBodiesAndIdempotencyKeyOnlyWhenGiven(t *testing.T) {
	srv, requests := fakeBank(t, http.StatusOK, okSession)
	c := newTestClient(t, srv.URL)
	ctx := context.Background()

	calls := []struct {
		name     string
		call     func() error
		path     string
		body     string
		idemKey  string
		withIdem bool
	}{
		{"create", func() error { _, err := c.CreateSession(ctx, "po_1"); return err },
			"/api/v1/session/create", `{"metadata":"po_1"}`, "", false},
		{"confirm", func() error { _, err := c.Confirm(ctx, "ps_1", "po_1:confirm"); return err },
			"/api/v1/session/confirm", `{"session_id":"ps_1"}`, "po_1:confirm", true},
		{"confirm without key", func() error { _, err := c.Confirm(ctx, "ps_1", ""); return err },
			"/api/v1/session/confirm", `{"session_id":"ps_1"}`, "", false},
		{"cancel", func() error { _, err := c.Cancel(ctx, "ps_1", "po_1:cancel"); return err },
			"/api/v1/session/cancel", `{"session_id":"ps_1"}`, "po_1:cancel", true},
		{"status", func() error { _, err := c.Status(ctx, "ps_1"); return err },
			"/api/v1/session/status", `{"session_id":"ps_1"}`, "", false},
	}
	for i, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.call())
			got := requests()[i]
			require.Equal(t, tt.path, got.Path)
			require.Equal(t, tt.body, string(got.Body))
			_, present := got.Header["X-Partner-Idempotency-Key"]
			require.Equal(t, tt.withIdem, present)
			require.Equal(t, tt.idemKey, got.Header.Get("X-PARTNER-IDEMPOTENCY-KEY"))
		})
	}
}

func TestClient_ReadsTheSession(t *testing.T) {
	srv, _ := fakeBank(t, http.StatusOK, `{"status":"ok","session":{"id":"ps_3230","status":"in_progress",
		"created_at":"2018-05-27T02:03:00.000000Z","updated_at":"2018-05-27T02:03:01.5Z","next_action":"confirm",
		"payments":[{"id":"po_2018","status":"pending","created_at":"2018-05-27T02:03:00.000000Z",
		"payment_method":{"type":"card","card":{"last4":"4242","brand":"visa"}},
		"amount_details":{"amount":10000,"currency":"rub"},"metadata":"good"}]}}`)
	c := newTestClient(t, srv.URL)

	s, err := c.Status(context.Background(), "ps_3230")

	require.NoError(t, err)
	require.Equal(t, "ps_3230", s.ID)
	require.Equal(t, "confirm", s.NextAction)
	require.Equal(t, time.Date(2018, 5, 27, 2, 3, 1, 500_000_000, time.UTC), s.UpdatedAt.Time)
	require.True(t, s.FinishedAt.IsZero())
	require.Len(t, s.Payments, 1)
	require.Equal(t, "po_2018", s.Payments[0].ID)
	require.Equal(t, &MaskedCard{Brand: "visa", Last4: "4242"}, s.Payments[0].PaymentMethod.Card)
	require.Equal(t, &AmountDetails{Amount: 10000, Currency: "rub"}, s.Payments[0].AmountDetails)
	require.JSONEq(t, `"good"`, string(s.Payments[0].Metadata))
}

func TestClient_ReadsTheSessionInAPIv2Names(t *testing.T) {
	// The seed's payout (001) as a session/status answer names it in API v2: payout_list, payout_details.
	srv, _ := fakeBank(t, http.StatusOK, `{"status":"ok","session":{"id":"ps_3230","status":"accepted",
		"payout_list":[{"id":"po_2018","status":"succeeded","created_at":"2018-05-27T02:03:00.000000Z",
		"payout_details":{"type":"card","card":{"last4":"4242","brand":"visa"}},
		"amount_details":{"amount":10000,"currency":"rub"},"metadata":"good"}],
		"payment_list":[{"id":"pm_3345","status":"succeeded"}]}}`)
	c := newTestClient(t, srv.URL)

	s, err := c.Status(context.Background(), "ps_3230")

	require.NoError(t, err)
	require.Len(t, s.Payments, 1)
	require.Equal(t, "succeeded", s.Payments[0].Status)
	require.Equal(t, &MaskedCard{Brand: "visa", Last4: "4242"}, s.Payments[0].PaymentMethod.Card)
	require.Len(t, s.AcquiringPayments, 1)
	require.Equal(t, "pm_3345", s.AcquiringPayments[0].ID)
}

func TestClient_MapsFailedAnswersToCertainty(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		certainty providers.Certainty
		code      string
	}{
		{"the bank's 400 is a known rejection", 400,
			`{"status":"error","error":{"code":"invalid_request","description":"bad"}}`, providers.Known, "invalid_request"},
		{"the bank's 401 is a known rejection", 401,
			`{"status":"error","error":{"code":"authentication_error","description":"bad sign"}}`, providers.Known,
			"authentication_error"},
		{"an error answer with 200 is a known rejection", 200,
			`{"status":"error","error":{"code":"session_wrong_state","description":"no"}}`, providers.Known,
			"session_wrong_state"},
		{"internal_error with 400 is unknown", 400,
			`{"status":"error","error":{"code":"internal_error","description":"retry later"}}`, providers.Unknown,
			"internal_error"},
		{"internal_error with 200 is unknown", 200,
			`{"status":"error","error":{"code":"internal_error","description":"retry later"}}`, providers.Unknown,
			"internal_error"},
		{"a repeated idempotency key is unknown: the first request may have acted", 400,
			`{"status":"error","error":{"code":"idempotency_key_already_exists","description":"already in progress or processed"}}`,
			providers.Unknown, "idempotency_key_already_exists"},
		{"500 with the bank's error is unknown", 500,
			`{"status":"error","error":{"code":"provider_internal_error","description":"oops"}}`, providers.Unknown,
			"provider_internal_error"},
		{"500 without a body is unknown", 500, ``, providers.Unknown, ""},
		{"502 from a proxy is unknown", 502, `<html>Bad Gateway</html>`, providers.Unknown, ""},
		{"a 4xx that is not the bank's answer is unknown", 404, `<html>Not Found</html>`, providers.Unknown, ""},
		{"an unreadable 2xx is unknown", 200, `{"status":"ok","session":`, providers.Unknown, ""},
		{"a 2xx without a session is unknown", 200, `{"status":"ok"}`, providers.Unknown, ""},
		{"a redirect is unknown", 302, ``, providers.Unknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := fakeBank(t, tt.status, tt.body)
			c := newTestClient(t, srv.URL)

			_, err := c.Confirm(context.Background(), "ps_1", "po_1:confirm")

			pe := requireProviderError(t, err, tt.certainty, tt.code)
			require.Equal(t, "session/confirm", pe.Op)
			require.Equal(t, tt.status, pe.HTTPStatus)
		})
	}
}

func TestClient_TimeoutIsUnknown(t *testing.T) {
	srv := providertest.SilentServer(t)
	partner, _ := testKeys(t)
	c, err := NewClient(Config{BaseURL: srv.URL, Project: testProject, PrivateKey: partner,
		HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	require.NoError(t, err)

	_, err = c.StartPayout(context.Background(), StartPayout{SessionID: "ps_1", CardNumber: sandbox.SandboxCardSucceeds,
		RecipientName: "Ivanov Ivan", Amount: 100, Currency: "rub"})

	pe := requireProviderError(t, err, providers.Unknown, "")
	require.Zero(t, pe.HTTPStatus)
	var netErr net.Error
	require.ErrorAs(t, err, &netErr)
	require.True(t, netErr.Timeout())
	require.NotContains(t, err.Error(), sandbox.SandboxCardSucceeds)
}

func TestClient_ContextDeadlineIsUnknown(t *testing.T) {
	srv := providertest.SilentServer(t)
	c := newTestClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	_, err := c.Confirm(ctx, "ps_1", "")

	requireProviderError(t, err, providers.Unknown, "")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestClient_RefusedConnectionIsUnknown(t *testing.T) {
	c := newTestClient(t, providertest.ClosedURL())

	_, err := c.Status(context.Background(), "ps_1")

	requireProviderError(t, err, providers.Unknown, "")
}

func TestClient_LocalFailureBeforeSendingIsKnown(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1")

	_, err := c.CreateSession(context.Background(), func() {}) // a func cannot be marshalled

	pe := requireProviderError(t, err, providers.Known, "")
	require.Zero(t, pe.HTTPStatus)
	require.Equal(t, "session/create", pe.Op)
}

func TestClient_ErrorsNeverHoldTheCardNumber(t *testing.T) {
	answers := map[string]struct {
		status int
		body   string
	}{
		"description quoting the card": {400, `{"status":"error","error":{"code":"invalid_request","description":"card 4242 4242 4242 4242 is bad"}}`},
		"500":                          {500, `oops`},
		"unreadable 2xx quoting it":    {200, `{"status":"ok","session":{"id":"ps_1","payments":[{"amount_details":{"amount":4242424242424242.5}}]}}`},
	}
	for name, a := range answers {
		t.Run(name, func(t *testing.T) {
			srv, _ := fakeBank(t, a.status, a.body)
			c := newTestClient(t, srv.URL)

			_, err := c.StartPayout(context.Background(), StartPayout{SessionID: "ps_1", CardNumber: sandbox.SandboxCardSucceeds,
				RecipientName: "Ivanov Ivan", Amount: 100, Currency: "rub"})

			require.Error(t, err)
			require.NotContains(t, strings.ReplaceAll(err.Error(), " ", ""), sandbox.SandboxCardSucceeds)
			require.NotContains(t, fmt.Sprintf("%+v", err), sandbox.SandboxCardSucceeds)
		})
	}
}

func TestNewClient_RejectsIncompleteConfig(t *testing.T) {
	partner, _ := testKeys(t)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no project", Config{PrivateKey: partner}},
		{"no key", Config{Project: testProject}},
		{"a base URL without scheme", Config{BaseURL: "demo.bank131.ru", Project: testProject, PrivateKey: partner}},
		{"a base URL that does not parse", Config{BaseURL: "http://[::1", Project: testProject, PrivateKey: partner}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewClient(tt.cfg)
			require.Error(t, err)
		})
	}
}

func TestNewClient_DefaultsToTheDemoHost(t *testing.T) {
	partner, _ := testKeys(t)

	c, err := NewClient(Config{Project: testProject, PrivateKey: partner})

	require.NoError(t, err)
	require.Equal(t, "https://demo.bank131.ru/api/v1/", c.base)
	require.Equal(t, 30*time.Second, c.http.Timeout)
}

func TestStartPayout_StringMasksTheCardNumber(t *testing.T) {
	p := StartPayout{SessionID: "ps_1", CardNumber: sandbox.SandboxCardSucceeds, Amount: 100, Currency: "rub"}

	for _, s := range []string{p.String(), fmt.Sprint(p), fmt.Sprintf("%v", p), fmt.Sprintf("%+v", p)} {
		require.NotContains(t, s, sandbox.SandboxCardSucceeds)
		require.Contains(t, s, "4242")
	}
}
