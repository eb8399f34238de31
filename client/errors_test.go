package client

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestErrorReadsTheAPIsErrorBody(t *testing.T) {
	a := &answer{Response: Response{StatusCode: 422, Header: http.Header{"X-Request-Id": {"req_1"}}, RequestID: "req_1"},
		body: []byte(`{"error":{"code":"invalid_card","message":"the card number fails its check digit","field":"destination.card.number"}}`)}
	err := error(newError("POST", "/v1/payouts", a))
	var e *Error
	if !errors.As(fmt.Errorf("wrapped: %w", err), &e) {
		t.Fatalf("errors.As found no *Error in %v", err)
	}
	if e.StatusCode != 422 || e.Code != "invalid_card" || e.Field != "destination.card.number" || e.RequestID != "req_1" {
		t.Fatalf("read %+v", e)
	}
	if !IsInvalid(err) || IsNotFound(err) || ErrorCode(err) != "invalid_card" {
		t.Fatalf("sentinels: invalid %t, not found %t, code %q", IsInvalid(err), IsNotFound(err), ErrorCode(err))
	}
	want := "payoutflow: POST /v1/payouts: 422 invalid_card (field destination.card.number): the card number fails its check digit [request req_1]"
	if e.Error() != want {
		t.Fatalf("Error() = %q, want %q", e.Error(), want)
	}
}

func TestErrorOfAnAnswerNotFromTheAPIKeepsStatusAndText(t *testing.T) {
	e := newError("GET", "/v1/payouts/x", &answer{Response: Response{StatusCode: 502, Header: http.Header{}}, body: []byte("<html>bad gateway</html>")})
	if e.Code != "" || e.Message != "Bad Gateway <html>bad gateway</html>" {
		t.Fatalf("read %+v", e)
	}
}

func TestRetryAfterReadsSecondsAndDates(t *testing.T) {
	now := time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second},
		{now.Add(-5 * time.Second).Format(http.TimeFormat), 0},
		{"soon", 0},
	} {
		if got := retryAfter(tc.header, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}
