package integration

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers/bepaid"
	bepaidsandbox "github.com/payoutflow/payoutflow/providers/bepaid/sandbox"
)

const (
	bpCardSucceeds  = "4200000000000000"
	bpCardDeclined  = "4005550000000019"
	bpCardPending   = "4012888888881881"
	bpTokenSucceeds = "b4469f38-cec7-4f55-a86d-2ab2dc300e0b"
)

// bePaidCardPayout is a payout of amount minor units. bePaid refuses a payout of the same amount to the same card
// within 30 s as a duplicate (duplicate_check), so each test pays its own amount.
func bePaidCardPayout(pan string, amount int64) string {
	return fmt.Sprintf(`{"provider":"bepaid","amount":{"value":%d,"currency":"BYN"},
		"destination":{"type":"card","card":{"number":%q,"holder":"IVAN IVANOV","exp_month":"12","exp_year":"2030"}},
		"recipient":{"full_name":"Ivan Ivanov","email":"ivan@example.com","billing_address":{"first_name":"Ivan","last_name":"Ivanov","country":"BY","city":"Minsk"}},
		"sender":{"document":{"type":"PASSPORT","number":"MP1234567","issued_at":"2010-03-12"}},
		"description":"Payout for order 7"}`, amount, pan)
}

func bePaidTokenPayout(token string) string {
	return fmt.Sprintf(`{"provider":"bepaid","amount":{"value":4500,"currency":"BYN"},
		"destination":{"type":"card","card":{"token":%q}},"recipient":{"full_name":"Ivan Ivanov"},
		"description":"Payout for order 8"}`, token)
}

func bePaidLedgerFor(id string) []bepaidsandbox.LedgerEntry {
	var out []bepaidsandbox.LedgerEntry
	for _, e := range st.bepaid.Ledger() {
		if e.TrackingID == id {
			out = append(out, e)
		}
	}
	return out
}

// approve creates a payout, waits until it awaits approval, and confirms it by API.
func approve(t *testing.T, body string) string {
	t.Helper()
	id := createNew(t, st.api.URL, t.Name(), body)
	waitFor(t, id, payout.StatusAwaitingApproval)
	mustDecide(t, st.api.URL, "alice", id, "confirm", "checked")
	return id
}

func TestBePaidPayout_CardNumberIsSentOnlyAfterApprovalAndPaidOnce(t *testing.T) {
	id := createNew(t, st.api.URL, t.Name(), bePaidCardPayout(bpCardSucceeds, 4502))
	waitFor(t, id, payout.StatusAwaitingApproval)
	require.Empty(t, bePaidLedgerFor(id), "nothing is sent to bePaid before approval")

	mustDecide(t, st.api.URL, "alice", id, "confirm", "")
	done := waitFor(t, id, payout.StatusSucceeded)
	require.Len(t, bePaidLedgerFor(id), 1)
	require.NotEmpty(t, done.ProviderRefs["session_id"], "the bePaid transaction uid is kept")
	require.Equal(t, "Visa •0000", done.Destination.Card.String())
	for _, k := range []string{"rrn", "ref_id", "auth_code", "message"} {
		require.NotEmpty(t, done.ProviderRefs[k], "bePaid's %s is kept with the payout", k)
	}
	require.Equal(t, "successful", done.ProviderRefs["status"])
	require.Contains(t, notes(done), "verification of transaction "+done.ProviderRefs["session_id"]+" accepted",
		"bePaid asked our verification_url, and the answer is in the payout's history")
}

func TestBePaidPayout_TokenIsPaid(t *testing.T) {
	id := approve(t, bePaidTokenPayout(bpTokenSucceeds))
	done := waitFor(t, id, payout.StatusSucceeded)
	require.Equal(t, "Mastercard •4444", done.Destination.Card.String(), "bePaid names the tokenized card")
	require.Len(t, bePaidLedgerFor(id), 1)
}

func TestBePaidPayout_DeclinedCardFailsWithTheBanksReason(t *testing.T) {
	id := approve(t, bePaidCardPayout(bpCardDeclined, 4503))
	done := waitFor(t, id, payout.StatusFailed)
	require.Equal(t, &payout.Failure{Code: payout.FailureDeclinedByIssuer, Description: "Payout was declined",
		ProviderCode: "05", ProviderMessage: "Payout was declined"}, done.Failure)
	requireListedFailure(t, id, done.Failure)
	require.Empty(t, bePaidLedgerFor(id))
}

func TestBePaidPayout_PendingThenNotifiedSucceeds(t *testing.T) {
	id := approve(t, bePaidCardPayout(bpCardPending, 4504))
	waitFor(t, id, payout.StatusSucceeded)
	require.Len(t, bePaidLedgerFor(id), 1)
	require.Contains(t, st.logs.String(), "provider=bepaid kind=payment_finished payout_id="+id)
}

func TestBePaidPayout_UnknownOutcomeIsResolvedByLookupWithoutASecondPayout(t *testing.T) {
	st.bepaid.FailNext(1) // the payout executes, but the answer is lost: 504
	id := approve(t, bePaidCardPayout(bpCardSucceeds, 4505))
	done := waitFor(t, id, payout.StatusSucceeded)
	require.Len(t, bePaidLedgerFor(id), 1, "looked up by tracking_id, not sent again")
	require.Contains(t, notes(done), "the provider has the payout (found by lookup)")
}

// bePaidRequest sends a body to a bePaid endpoint of ours as bePaid does: signed and with the shop's credentials.
func bePaidRequest(t *testing.T, path, body, signature, user, password string) response {
	t.Helper()
	headers := map[string]string{}
	if signature != "" {
		headers["Content-Signature"] = signature
	}
	if user != "" {
		headers["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	}
	return do(t, st.api.URL, http.MethodPost, path, headers, body)
}

func bePaidSign(t *testing.T, body string) string {
	t.Helper()
	sig, err := bepaid.Sign(st.bepaidKey, []byte(body))
	require.NoError(t, err)
	return sig
}

func verificationBody(id, uid string, amount int64) string {
	return fmt.Sprintf(`{"transaction":{"uid":%q,"status":"pending","amount":%d,"currency":"BYN","type":"payout",`+
		`"tracking_id":%q,"created_at":"2026-11-22T10:00:00.000Z"}}`, uid, amount, id)
}

type verificationAnswer struct {
	Code    int    `json:"code"`
	UID     string `json:"uid"`
	Amount  int64  `json:"amount"`
	Message string `json:"message"`
}

func verify(t *testing.T, body string) verificationAnswer {
	t.Helper()
	r := bePaidRequest(t, "/webhooks/bepaid/verify", body, bePaidSign(t, body), "it-shop", "it-secret")
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var a verificationAnswer
	require.NoError(t, json.Unmarshal(r.Body, &a))
	return a
}

func TestBePaidVerification_IsDeclinedUnlessApprovedAndMatching(t *testing.T) {
	waiting := createID(t, st.api.URL, t.Name()+"-waiting", bePaidCardPayout(bpCardSucceeds, 4506))
	waitFor(t, waiting, payout.StatusAwaitingApproval)
	a := verify(t, verificationBody(waiting, "1-aaa", 4500))
	require.Equal(t, 1, a.Code, "not approved yet")
	require.Equal(t, "1-aaa", a.UID)
	require.Equal(t, int64(4500), a.Amount)
	require.Equal(t, "the payout is not approved", a.Message)

	paid := approve(t, bePaidCardPayout(bpCardSucceeds, 4507))
	done := waitFor(t, paid, payout.StatusSucceeded)
	a = verify(t, verificationBody(paid, done.ProviderRefs["session_id"], 4507))
	require.Equal(t, 0, a.Code, "bePaid resending its question gets the answer recorded the first time")
	a = verify(t, verificationBody(paid, done.ProviderRefs["session_id"], 999999))
	require.Equal(t, 1, a.Code, "a new question about a finished payout is declined")
	require.Equal(t, "the payout cannot be verified", a.Message)

	a = verify(t, verificationBody(payout.ID("nobody"), "1-bbb", 4500))
	require.Equal(t, 1, a.Code, "an unknown payout is never approved")

	mustDecide(t, st.api.URL, "test", waiting, "cancel", "")
	waitFor(t, waiting, payout.StatusCancelled)
	require.Empty(t, bePaidLedgerFor(waiting))
}

func TestBePaidNotification_ForgedIsRejected(t *testing.T) {
	id := createID(t, st.api.URL, t.Name(), bePaidCardPayout(bpCardSucceeds, 4508))
	waitFor(t, id, payout.StatusAwaitingApproval)
	body := `{"transaction":{"uid":"1-forged","status":"successful","amount":4500,"currency":"BYN","type":"payout","tracking_id":"` + id + `"}}`
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	forged, err := bepaid.Sign(otherKey, []byte(body))
	require.NoError(t, err)
	for name, r := range map[string]response{
		// BEPAID_NOTIFY_AUTH is signature (a public key is configured): Basic alone is not enough, and a
		// signature alone must be bePaid's.
		"no signature, right credentials": bePaidRequest(t, "/webhooks/bepaid", body, "", "it-shop", "it-secret"),
		"another key, no credentials":     bePaidRequest(t, "/webhooks/bepaid", body, forged, "", ""),
		"right signature, wrong password": bePaidRequest(t, "/webhooks/bepaid", body, bePaidSign(t, body), "it-shop", "guess"),
		"signature of another body":       bePaidRequest(t, "/webhooks/bepaid", body, bePaidSign(t, body+" "), "it-shop", "it-secret"),
		"forged verification":             bePaidRequest(t, "/webhooks/bepaid/verify", verificationBody(id, "1-x", 4500), "", "it-shop", "it-secret"),
	} {
		require.Equal(t, http.StatusUnauthorized, r.Status, name)
		code, _ := r.apiError(t)
		require.Equal(t, "invalid_signature", code, name)
	}
	require.Equal(t, payout.StatusAwaitingApproval, get(t, id).Status, "nothing forged was believed")
	mustDecide(t, st.api.URL, "test", id, "cancel", "")
	waitFor(t, id, payout.StatusCancelled)
}

func TestBePaidPayout_BadInputIsRejectedAndStartsNothing(t *testing.T) {
	valid := bePaidCardPayout(bpCardSucceeds, 4509)
	tests := []struct {
		name, body, code, field string
	}{
		{"description over 255", strings.Replace(valid, `"Payout for order 7"`, `"`+strings.Repeat("d", 256)+`"`, 1), "too_long", "description"},
		{"missing holder", strings.Replace(valid, `"holder":"IVAN IVANOV",`, ``, 1), "required", "destination.card.holder"},
		{"bad currency", strings.Replace(valid, `"BYN"`, `"BYR"`, 1), "unknown_currency", "amount.currency"},
		{"bad expiry month", strings.Replace(valid, `"exp_month":"12"`, `"exp_month":"13"`, 1), "invalid_exp_month", "destination.card.exp_month"},
		{"bad recipient email", strings.Replace(valid, `ivan@example.com`, `ivan-at-example`, 1), "invalid_email", "recipient.email"},
		{"bad document type", strings.Replace(valid, `"PASSPORT"`, `"VISA"`, 1), "invalid_document_type", "sender.document.type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := create(t, st.api.URL, t.Name(), tt.body)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
			code, field := r.apiError(t)
			require.Equal(t, tt.code, code)
			require.Equal(t, tt.field, field)
			require.False(t, payoutStarted(t, t.Name()))
		})
	}
}

// TestBePaidVerification_OfAnApprovedPayoutInFlight uses a bePaid whose pending payouts stay pending, served by a
// worker and an API of its own, so that the payout can be asked about while it is approved and in flight.
func TestBePaidVerification_OfAnApprovedPayoutInFlight(t *testing.T) {
	slow := bepaidsandbox.NewSandbox(bepaidsandbox.SandboxConfig{ShopID: "it-shop", SecretKey: "it-secret", SigningKey: st.bepaidKey, Delay: time.Hour})
	t.Cleanup(slow.Close)
	slowURL := newServer(t, slow)
	cfg := st.cfg
	cfg.TaskQueue = "payouts-it-slow-bepaid"
	api := newServer(t, st.newAPI(cfg))
	cl, err := bepaid.NewClient(bepaid.Config{BaseURL: slowURL, ShopID: "it-shop", SecretKey: "it-secret"})
	require.NoError(t, err)
	w := app.NewWorker(st.client, cfg.TaskQueue, st.codecKeys, bepaid.NewProvider(cl, bepaid.ProviderOptions{
		NotificationURL: api + "/webhooks/bepaid", VerificationURL: api + "/webhooks/bepaid/verify"}))
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	id := createID(t, api, t.Name(), bePaidCardPayout(bpCardPending, 4510))
	waitFor(t, id, payout.StatusAwaitingApproval)
	mustDecide(t, api, "alice", id, "confirm", "")
	inFlight := waitFor(t, id, payout.StatusSubmitted)
	uid := inFlight.ProviderRefs["session_id"]
	require.NotEmpty(t, uid)

	a := verify(t, verificationBody(id, uid, 999999))
	require.Equal(t, 1, a.Code, "another amount than the approved one")
	require.Contains(t, a.Message, "differs from the approved 45.10 BYN")
	a = verify(t, verificationBody(id, "1-someone-else", 4510))
	require.Equal(t, 1, a.Code, "another transaction than the one bePaid gave us")
	a = verify(t, verificationBody(id, uid, 4510))
	require.Equal(t, 0, a.Code, "the approved payout, its amount, its transaction")
	require.Equal(t, uid, a.UID)

	st := get(t, id)
	require.Contains(t, notes(st), "verification of transaction "+uid+" accepted")
	require.Contains(t, notes(st), "verification of transaction "+uid+" declined: amount 9999.99 BYN differs from the approved 45.10 BYN")
	require.Empty(t, slow.Ledger(), "still pending: nothing paid")
}

// A backend that retries a create after the card's expiry month has ended gets the payout its first call created,
// not card_expired: the card was valid when the payout was made. A new payout to that card is refused.
func TestBePaidCreate_RetriedAfterTheCardExpiredGetsThePayoutItCreated(t *testing.T) {
	now := time.Now().UTC()
	body := strings.NewReplacer(`"exp_month":"12"`, fmt.Sprintf(`"exp_month":"%02d"`, int(now.Month())),
		`"exp_year":"2030"`, fmt.Sprintf(`"exp_year":"%d"`, now.Year())).Replace(bePaidCardPayout(bpCardSucceeds, 4591))
	id := createNew(t, st.api.URL, t.Name(), body)
	t.Cleanup(func() { decide(t, st.api.URL, "alice", id, "cancel", "test over") })

	nextMonth := func() time.Time { return time.Date(now.Year(), now.Month()+1, 1, 0, 0, 1, 0, time.UTC) }
	later := httptest.NewServer(st.newAPIAt(st.cfg, st.policy, nextMonth))
	t.Cleanup(later.Close)

	again := create(t, later.URL, t.Name(), body)
	require.Equal(t, http.StatusOK, again.Status, string(again.Body))
	require.Equal(t, id, again.state(t).ID)

	fresh := create(t, later.URL, t.Name()+"-new", body)
	require.Equal(t, http.StatusUnprocessableEntity, fresh.Status, string(fresh.Body))
	code, field := fresh.apiError(t)
	require.Equal(t, "card_expired", code)
	require.Equal(t, "destination.card.exp_year", field)
}
