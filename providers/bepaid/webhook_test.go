package bepaid

import (
	"crypto/rsa"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bepaid/sandbox"
)

// failedNotification is a notification of a declined payout.
const failedNotification = `{"transaction":{"uid":"2-abc","status":"failed","amount":500,"currency":"BYN",
	"type":"payout","tracking_id":"po_ours","message":"Payout was declined","test":true,
	"created_at":"2024-05-01T10:00:00.000Z",
	"recipient_credit_card":{"holder":"JOHN DOE","brand":"visa","last_4":"0019","first_1":"4","bin":"400555"},
	"additional_data":{"payout":{"status":"failed","message":"Payout was declined","bank_code":"05"}}}}`

// signedHeader is what bePaid sends with body: the shop's Basic credentials and the signature by key.
func signedHeader(t *testing.T, body string, key *rsa.PrivateKey, user, pass string) http.Header {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, "http://merchant/notify", nil)
	require.NoError(t, err)
	if user != "" || pass != "" {
		r.SetBasicAuth(user, pass)
	}
	if key != nil {
		sig, err := Sign(key, []byte(body))
		require.NoError(t, err)
		r.Header.Set("Content-Signature", sig)
	}
	return r.Header
}

// byBePaid is the header of a genuine request.
func byBePaid(t *testing.T, body string) http.Header {
	return signedHeader(t, body, bepaidKey(), testShopID, testSecretKey)
}

func TestWebhooks_FinalNotificationBecomesAnEvent(t *testing.T) {
	tests := []struct {
		name string
		body string
		want providers.Event
	}{
		{"the seed's successful payout", seedResponse, providers.Event{
			Kind:     providers.EventPaymentFinished,
			Provider: "bepaid",
			Outcome: providers.Outcome{
				Ref:     providers.Ref{PayoutID: "tracking_id_000", SessionID: "1-d43572b244"},
				State:   providers.StateSucceeded,
				Card:    &payout.MaskedCard{Brand: "mastercard", Last4: "4444"},
				Amount:  &payout.Amount{Value: 100, Currency: "RUB"},
				Details: map[string]string{"status": "successful", "message": "Successfully processed", "ref_id": "1569310086280783205"},
			},
		}},
		{"a declined payout", failedNotification, providers.Event{
			Kind:     providers.EventPaymentFinished,
			Provider: "bepaid",
			Outcome: providers.Outcome{
				Ref:              providers.Ref{PayoutID: "po_ours", SessionID: "2-abc"},
				State:            providers.StateFailed,
				Card:             &payout.MaskedCard{Brand: "visa", Last4: "0019"},
				Amount:           &payout.Amount{Value: 500, Currency: "BYN"},
				ErrorCode:        "05",
				ErrorDescription: "Payout was declined",
				Details:          map[string]string{"status": "failed", "message": "Payout was declined", "bank_code": "05"},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := testWebhooks().Translate(byBePaid(t, tt.body), []byte(tt.body))

			require.NoError(t, err)
			require.Equal(t, []providers.Event{tt.want}, events)
		})
	}
}

func TestWebhooks_UnfinishedNotificationYieldsNoEvents(t *testing.T) {
	for _, status := range []string{"pending", "incomplete", "expired", ""} {
		t.Run(status, func(t *testing.T) {
			body := `{"transaction":{"uid":"1-a","status":"` + status + `","tracking_id":"po_1"}}`

			events, err := testWebhooks().Translate(byBePaid(t, body), []byte(body))

			require.NoError(t, err)
			require.Empty(t, events)
		})
	}
}

// forgery is a request that must not be believed.
type forgery struct {
	header http.Header
	body   string
}

// forgeries are requests that must not be believed by the default check (a valid signature, and the shop's
// credentials when any are sent): each lacks a valid signature or sends wrong credentials.
func forgeries(t *testing.T, body string) map[string]forgery {
	return map[string]forgery{
		"nothing":                               {http.Header{}, body},
		"correct credentials, no signature":     {signedHeader(t, body, nil, testShopID, testSecretKey), body},
		"correct signature, wrong secret":       {signedHeader(t, body, bepaidKey(), testShopID, "guess"), body},
		"correct signature, wrong shop":         {signedHeader(t, body, bepaidKey(), "362", testSecretKey), body},
		"correct credentials, another key":      {signedHeader(t, body, otherKey(), testShopID, testSecretKey), body},
		"body changed after signing":            {byBePaid(t, body), body + " "},
		"signature not base64":                  {withHeader(byBePaid(t, body), "Content-Signature", "a4f1698616d6!"), body},
		"garbage with correct credentials only": {signedHeader(t, "x", nil, testShopID, testSecretKey), "not json"},
	}
}

func withHeader(h http.Header, k, v string) http.Header {
	h.Set(k, v)
	return h
}

func TestWebhooks_ForgedRequestsAreRejected(t *testing.T) {
	w := testWebhooks()
	for name, f := range forgeries(t, seedResponse) {
		t.Run("notification: "+name, func(t *testing.T) {
			events, err := w.Translate(f.header, []byte(f.body))

			require.ErrorIs(t, err, providers.ErrBadSignature)
			require.Nil(t, events)
		})
		t.Run("verification: "+name, func(t *testing.T) {
			v, err := w.ParseVerification(f.header, []byte(f.body))

			require.ErrorIs(t, err, providers.ErrBadSignature)
			require.Zero(t, v)
		})
	}
}

func TestWebhooks_ASignatureAloneIsBelievedWhereAKeyIsConfigured(t *testing.T) {
	// Seed 003 says nothing of how notifications are authenticated; bePaid's SDK believes a valid
	// Content-Signature alone. The seed's transaction, signed, with no Basic credentials:
	header := signedHeader(t, seedResponse, bepaidKey(), "", "")
	for name, w := range map[string]*Webhooks{
		"by default": testWebhooks(),
		"signature":  testWebhooks().WithAuth(NotifyAuthSignature),
	} {
		t.Run(name, func(t *testing.T) {
			events, err := w.Translate(header, []byte(seedResponse))
			require.NoError(t, err)
			require.Len(t, events, 1)
			require.Equal(t, "tracking_id_000", events[0].Outcome.Ref.PayoutID)
			v, err := w.ParseVerification(header, []byte(seedResponse))
			require.NoError(t, err)
			require.Equal(t, "1-d43572b244", v.TransactionID)
		})
	}
}

func TestWebhooks_BasicAloneOnlyWhereConfiguredSo(t *testing.T) {
	header := signedHeader(t, seedResponse, nil, testShopID, testSecretKey)
	tests := []struct {
		name string
		w    *Webhooks
		ok   bool
	}{
		{"by default", testWebhooks(), false},
		{"signature", testWebhooks().WithAuth(NotifyAuthSignature), false},
		{"both", testWebhooks().WithAuth(NotifyAuthBoth), false},
		{"basic", testWebhooks().WithAuth(NotifyAuthBasic), true},
		{"basic, no key configured", NewWebhooks(testShopID, testSecretKey, nil).WithAuth(NotifyAuthBasic), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := tt.w.Translate(header, []byte(seedResponse))
			_, verr := tt.w.ParseVerification(header, []byte(seedResponse))
			if !tt.ok {
				require.ErrorIs(t, err, providers.ErrBadSignature)
				require.Nil(t, events)
				require.ErrorIs(t, verr, providers.ErrBadSignature)
				return
			}
			require.NoError(t, err)
			require.Len(t, events, 1)
			require.NoError(t, verr)
		})
	}
}

func TestWebhooks_ForgeriesAreRefusedInEveryMode(t *testing.T) {
	body := seedResponse
	tests := map[NotifyAuth]map[string]forgery{
		NotifyAuthBasic: {
			"nothing":                                 {http.Header{}, body},
			"wrong secret, no signature":              {signedHeader(t, body, nil, testShopID, "guess"), body},
			"correct signature, no credentials":       {signedHeader(t, body, bepaidKey(), "", ""), body},
			"correct credentials, a forged signature": {signedHeader(t, body, otherKey(), testShopID, testSecretKey), body},
			"correct credentials, body changed":       {byBePaid(t, body), body + " "},
		},
		NotifyAuthBoth: {
			"correct credentials, no signature": {signedHeader(t, body, nil, testShopID, testSecretKey), body},
			"correct signature, no credentials": {signedHeader(t, body, bepaidKey(), "", ""), body},
			"correct credentials, another key":  {signedHeader(t, body, otherKey(), testShopID, testSecretKey), body},
		},
		NotifyAuthSignature: forgeries(t, body),
	}
	for mode, fs := range tests {
		w := testWebhooks().WithAuth(mode)
		for name, f := range fs {
			t.Run(string(mode)+": "+name, func(t *testing.T) {
				events, err := w.Translate(f.header, []byte(f.body))
				require.ErrorIs(t, err, providers.ErrBadSignature)
				require.Nil(t, events)
				_, err = w.ParseVerification(f.header, []byte(f.body))
				require.ErrorIs(t, err, providers.ErrBadSignature)
			})
		}
	}
}

func TestParseNotifyAuth(t *testing.T) {
	tests := []struct {
		in     string
		hasKey bool
		want   NotifyAuth
		err    bool
	}{
		{"", true, NotifyAuthSignature, false},
		{"", false, "", true}, // Basic alone only when asked for
		{"signature", true, NotifyAuthSignature, false},
		{"signature", false, "", true},
		{"both", true, NotifyAuthBoth, false},
		{"both", false, "", true},
		{"basic", false, NotifyAuthBasic, false},
		{"basic", true, NotifyAuthBasic, false},
		{"BASIC", true, "", true},
		{"either", true, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseNotifyAuth(tt.in, tt.hasKey)
			if tt.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestWebhooks_WithoutKeyOrCredentialsEverythingIsRejected(t *testing.T) {
	tests := []struct {
		name   string
		w      *Webhooks
		header http.Header
	}{
		{"no key", NewWebhooks(testShopID, testSecretKey, nil), byBePaid(t, seedResponse)},
		{"no shop id, and none sent", NewWebhooks("", testSecretKey, &bepaidKey().PublicKey),
			signedHeader(t, seedResponse, bepaidKey(), "", testSecretKey)},
		{"no secret key, and none sent", NewWebhooks(testShopID, "", &bepaidKey().PublicKey),
			signedHeader(t, seedResponse, bepaidKey(), testShopID, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.w.Translate(tt.header, []byte(seedResponse))
			require.ErrorIs(t, err, providers.ErrBadSignature)
			_, err = tt.w.ParseVerification(tt.header, []byte(seedResponse))
			require.ErrorIs(t, err, providers.ErrBadSignature)
		})
	}
}

func TestWebhooks_SignedButMalformedBodyIsReported(t *testing.T) {
	w := testWebhooks()
	tests := map[string]string{
		"not JSON":                `not json`,
		"no transaction":          `{"response":{"message":"x"}}`,
		"no uid":                  `{"transaction":{"status":"successful","tracking_id":"po_1"}}`,
		"no tracking_id":          `{"transaction":{"uid":"1-a","status":"successful"}}`,
		"card number in a number": `{"transaction":{"uid":"1-a","amount":4200000000000000.5}}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			events, err := w.Translate(byBePaid(t, body), []byte(body))

			var malformed *providers.MalformedError
			require.ErrorAs(t, err, &malformed)
			require.NotContains(t, err.Error(), sandbox.SandboxCardSucceeds)
			require.Nil(t, events)

			_, err = w.ParseVerification(byBePaid(t, body), []byte(body))
			require.ErrorAs(t, err, &malformed)
		})
	}
}

func TestWebhooks_ParseVerificationReadsThePayout(t *testing.T) {
	body := `{"transaction":{"uid":"35153123-9367e7e770","status":"pending","amount":100,"currency":"byn",
		"tracking_id":"po_ours","created_at":"2020-08-04T06:16:17.052Z"}}`

	v, err := testWebhooks().ParseVerification(byBePaid(t, body), []byte(body))

	require.NoError(t, err)
	require.Equal(t, providers.Verification{
		Provider:      "bepaid",
		PayoutID:      "po_ours",
		TransactionID: "35153123-9367e7e770",
		Amount:        payout.Amount{Value: 100, Currency: "BYN"},
		CreatedAt:     "2020-08-04T06:16:17.052Z",
	}, v)
}

func TestWebhooks_AnswerIsTheDocumentedBody(t *testing.T) {
	v := providers.Verification{Provider: "bepaid", PayoutID: "po_1", TransactionID: "35153123-9367e7e770",
		Amount: payout.Amount{Value: 100, Currency: "BYN"}, CreatedAt: "2020-08-04T06:16:17.052Z"}
	w := testWebhooks()
	tests := []struct {
		name   string
		answer providers.VerificationAnswer
		want   string
	}{
		{"approved", providers.VerificationAnswer{Approved: true},
			`{"code":0,"uid":"35153123-9367e7e770","amount":100,"created_at":"2020-08-04T06:16:17.052Z"}`},
		{"declined", providers.VerificationAnswer{Message: "IP validation failed"},
			`{"code":1,"uid":"35153123-9367e7e770","amount":100,"message":"IP validation failed",` +
				`"friendly_message":"IP validation failed","created_at":"2020-08-04T06:16:17.052Z"}`},
		{"declined without a message", providers.VerificationAnswer{},
			`{"code":1,"uid":"35153123-9367e7e770","amount":100,"message":"Verification declined",` +
				`"friendly_message":"Verification declined","created_at":"2020-08-04T06:16:17.052Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, string(w.Answer(v, tt.answer)))
		})
	}
}
