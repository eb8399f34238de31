package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sign is the Payoutflow-Signature payoutflow sends: written here from the documented scheme, not taken from the
// server's code.
func sign(t time.Time, body string, secrets ...string) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	h := "t=" + ts
	for _, s := range secrets {
		m := hmac.New(sha256.New, []byte(s))
		m.Write([]byte(ts + "." + body))
		h += ",v1=" + hex.EncodeToString(m.Sum(nil))
	}
	return h
}

func TestVerifier_TakesGoodSignaturesAndRefusesBadOnes(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := `{"id":"evt_1","type":"payout.succeeded","payout_id":"po_1","sequence":3,"data":{"id":"po_1"}}`
	const secret, old = "whsec_current_0123456789", "whsec_previous_0123456789"
	for _, tc := range []struct {
		name    string
		body    string
		header  string
		secrets []string
		want    error
	}{
		{"signed with the secret", body, sign(now, body, secret), []string{secret}, nil},
		{"signed with the old secret while rotating", body, sign(now, body, old), []string{secret, old}, nil},
		{"two v1 during a rotation, one known", body, sign(now, body, old, secret), []string{secret}, nil},
		{"signed 4 minutes ago", body, sign(now.Add(-4*time.Minute), body, secret), []string{secret}, nil},
		{"body changed after signing", strings.Replace(body, "succeeded", "failed", 1), sign(now, body, secret), []string{secret}, ErrSignatureMismatch},
		{"another secret", body, sign(now, body, "whsec_someone_else_0000"), []string{secret}, ErrSignatureMismatch},
		{"no secret configured", body, sign(now, body, secret), nil, ErrSignatureMismatch},
		{"signed too long ago (a replay)", body, sign(now.Add(-6*time.Minute), body, secret), []string{secret}, ErrSignatureTooOld},
		{"signed in the future", body, sign(now.Add(6*time.Minute), body, secret), []string{secret}, ErrSignatureTooOld},
		{"no header", body, "", []string{secret}, ErrNoSignature},
		{"no v1", body, fmt.Sprintf("t=%d", now.Unix()), []string{secret}, ErrNoSignature},
		{"only another scheme", body, fmt.Sprintf("t=%d,v0=abc", now.Unix()), []string{secret}, ErrNoSignature},
		{"no t", body, "v1=" + strings.Repeat("ab", 32), []string{secret}, ErrBadSignatureHeader},
		{"t not a number", body, "t=yesterday,v1=" + strings.Repeat("ab", 32), []string{secret}, ErrBadSignatureHeader},
		{"two t", body, sign(now, body, secret) + ",t=1", []string{secret}, ErrBadSignatureHeader},
		{"v1 not hex", body, fmt.Sprintf("t=%d,v1=zz", now.Unix()), []string{secret}, ErrBadSignatureHeader},
		{"not key=value", body, "garbage", []string{secret}, ErrBadSignatureHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Verifier{Secrets: tc.secrets, Now: func() time.Time { return now }}
			err := v.Verify([]byte(tc.body), tc.header)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v, want nil", err)
				}
				return
			}
			var se *SignatureError
			if !errors.Is(err, tc.want) || !errors.As(err, &se) {
				t.Fatalf("Verify: %v, want a *SignatureError for %v", err, tc.want)
			}
		})
	}
}

func TestVerifier_ToleranceIsConfigurable(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := `{}`
	v := Verifier{Secrets: []string{"whsec_0123456789abcdef"}, Tolerance: time.Minute, Now: func() time.Time { return now }}
	if err := v.Verify([]byte(body), sign(now.Add(-2*time.Minute), body, v.Secrets[0])); !errors.Is(err, ErrSignatureTooOld) {
		t.Fatalf("2 minutes old with a 1 minute tolerance: %v, want ErrSignatureTooOld", err)
	}
}

func TestVerifier_RequestDecodesTheEvent(t *testing.T) {
	body := `{"id":"evt_0001800000000000000_po_1_0002","type":"payout.awaiting_approval","created":"2027-01-15T08:00:00Z",` +
		`"payout_id":"po_1","sequence":2,"data":{"id":"po_1","status":"awaiting_approval"}}`
	secret := "whsec_0123456789abcdef"
	r, err := http.NewRequest(http.MethodPost, "https://backend.example/hooks", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set(SignatureHeader, sign(time.Now(), body, secret))
	ev, err := Verifier{Secrets: []string{secret}}.Request(r)
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	if ev.Type != EventPayoutAwaitingApproval || ev.PayoutID != "po_1" || ev.Sequence != 2 || ev.Data.Status != StatusAwaitingApproval {
		t.Fatalf("decoded %+v", ev)
	}
	if _, err := VerifyEvent([]byte(body), sign(time.Now(), body, secret), "whsec_wrong_0123456789"); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("VerifyEvent with a wrong secret: %v, want ErrSignatureMismatch", err)
	}
}

func TestSign_IsTheDocumentedSchemeWithOneV1PerSecret(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := `{"id":"evt_1"}`
	require := func(ok bool, msg string) {
		t.Helper()
		if !ok {
			t.Fatal(msg)
		}
	}
	h := Sign(now, []byte(body), "whsec_new_0123456789", "whsec_old_0123456789")
	require(h == sign(now, body, "whsec_new_0123456789", "whsec_old_0123456789"), "Sign differs from the documented scheme: "+h)
	for _, secret := range []string{"whsec_new_0123456789", "whsec_old_0123456789"} {
		v := Verifier{Secrets: []string{secret}, Now: func() time.Time { return now }}
		require(v.Verify([]byte(body), h) == nil, "a v1 per secret")
	}
}
