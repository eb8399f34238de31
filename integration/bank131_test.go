package integration

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pfclient "github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers/bank131"
	"github.com/payoutflow/payoutflow/workflows"
)

const (
	cardSucceeds    = "4242424242424242"
	cardDeclined    = "4000000000000002"
	cardFailsLater  = "4000000000000119"
	cardMirSucceeds = "2200000000000004"
)

func TestBank131Payout_ConfirmedByAPISucceeds(t *testing.T) {
	r := create(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	created := r.state(t)
	require.Equal(t, payout.OwnedID("backend", t.Name()), created.ID, "the payout ID derives from the API key and the idempotency key")
	require.Equal(t, payout.StatusCreated, created.Status)

	waiting := waitFor(t, created.ID, payout.StatusAwaitingApproval)
	require.NotEmpty(t, waiting.ProviderRefs["session_id"])
	require.NotNil(t, waiting.Deadline)
	require.Empty(t, ledgerFor(created.ID), "no money moves before approval")

	mustDecide(t, st.api.URL, "alice", created.ID, "confirm", "checked")

	done := waitFor(t, created.ID, payout.StatusSucceeded)
	require.Equal(t, &payout.MaskedCard{Brand: "visa", Last4: "4242"}, done.Destination.Card)
	require.Equal(t, "alice", done.Approval.By)
	require.Equal(t, "checked", done.Approval.Reason)
	require.True(t, done.Approval.Approved)
	require.Equal(t, map[string]string{"order_id": "123"}, done.Metadata)
	var statuses []payout.Status
	for _, e := range done.Timeline {
		require.False(t, e.At.IsZero())
		if len(statuses) == 0 || statuses[len(statuses)-1] != e.Status {
			statuses = append(statuses, e.Status)
		}
	}
	require.Equal(t, []payout.Status{payout.StatusCreated, payout.StatusSubmitted, payout.StatusAwaitingApproval,
		payout.StatusConfirmed, payout.StatusSucceeded}, statuses)

	ledger := ledgerFor(created.ID)
	require.Len(t, ledger, 1, "paid exactly once")
	require.Equal(t, int64(10000), ledger[0].Amount)
	require.Equal(t, "4242", ledger[0].CardLast4)
}

func TestBank131Payout_ConfirmSignalFromOperatorSucceeds(t *testing.T) {
	// An operator in Temporal UI sends the signal with plain JSON; the raw client sends exactly that.
	id := createNew(t, st.api.URL, t.Name(), cardPayout(cardMirSucceeds))
	waitFor(t, id, payout.StatusAwaitingApproval)

	require.NoError(t, st.raw.SignalWorkflow(context.Background(), id, "", workflows.SignalConfirm,
		map[string]string{"by": "operator@ui", "reason": "looks right"}))
	done := waitFor(t, id, payout.StatusSucceeded)
	require.Equal(t, "operator@ui", done.Approval.By)
	require.Equal(t, "Mir •0004", done.Destination.Card.String())
	require.Len(t, ledgerFor(id), 1)
}

func TestBank131Payout_CancelledByAPIMovesNoMoney(t *testing.T) {
	id := createID(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
	waitFor(t, id, payout.StatusAwaitingApproval)

	mustDecide(t, st.api.URL, "bob", id, "cancel", "wrong card")
	done := waitFor(t, id, payout.StatusCancelled)
	require.False(t, done.Approval.Approved)
	require.Equal(t, "bob", done.Approval.By)
	require.Equal(t, &payout.Failure{Code: payout.FailureCancelledByOperator, Description: "cancelled by bob: wrong card"}, done.Failure)
	require.Empty(t, ledgerFor(id))

	_, err := apiClient(st.api.URL, "alice").Confirm(context.Background(), id, "")
	var e *pfclient.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, http.StatusConflict, e.StatusCode, "a cancelled payout cannot be confirmed")
	require.Equal(t, "payout_finished", e.Code)
}

func TestBank131Payout_DeclinedCardFailsWithTheBanksReason(t *testing.T) {
	id := createID(t, st.api.URL, t.Name(), cardPayout(cardDeclined))
	done := waitFor(t, id, payout.StatusFailed)
	require.Equal(t, &payout.Failure{Code: payout.FailureDeclinedByIssuer, Description: "Declined by issuer bank",
		ProviderCode: "declined_by_issuer_bank", ProviderMessage: "Declined by issuer bank"}, done.Failure)
	requireListedFailure(t, id, done.Failure)
	require.Nil(t, done.Approval, "nobody was asked to approve a declined payout")
	require.Empty(t, ledgerFor(id))
}

func TestBank131Payout_FailureAfterConfirmIsReported(t *testing.T) {
	id := createID(t, st.api.URL, t.Name(), cardPayout(cardFailsLater))
	waitFor(t, id, payout.StatusAwaitingApproval)
	mustDecide(t, st.api.URL, "alice", id, "confirm", "")
	done := waitFor(t, id, payout.StatusFailed)
	require.Equal(t, payout.FailureProviderUnavailable, done.Failure.Code)
	require.Equal(t, "provider_issuer_unavailable", done.Failure.ProviderCode)
	require.Empty(t, ledgerFor(id))
}

func TestBank131Payout_ApprovalDeadlineCancelsAtTheBank(t *testing.T) {
	cfg := st.cfg
	cfg.ApprovalTimeout = 2 * time.Second
	api := newServer(t, st.newAPI(cfg))
	id := createID(t, api, t.Name(), cardPayout(cardSucceeds))
	waitFor(t, id, payout.StatusAwaitingApproval)
	done := waitFor(t, id, payout.StatusCancelled)
	require.Equal(t, workflows.SystemActor, done.Approval.By)
	require.Equal(t, "approval deadline passed", done.Approval.Reason)
	require.Empty(t, ledgerFor(id))
}

func TestCreatePayout_SameKeySameBodyReturnsTheSamePayout(t *testing.T) {
	body := cardPayout(cardSucceeds)
	id := createNew(t, st.api.URL, t.Name(), body)

	again := createPayout(t, st.api.URL, t.Name(), body)
	require.Equal(t, http.StatusOK, again.Response.StatusCode)
	require.Equal(t, id, again.ID)

	waitFor(t, id, payout.StatusAwaitingApproval)
	again = createPayout(t, st.api.URL, t.Name(), body)
	require.Equal(t, http.StatusOK, again.Response.StatusCode)
	require.Equal(t, pfclient.StatusAwaitingApproval, again.Status, "the repeat answers the payout's current state")

	mustDecide(t, st.api.URL, "alice", id, "confirm", "")
	waitFor(t, id, payout.StatusSucceeded)
	require.Equal(t, http.StatusOK, createPayout(t, st.api.URL, t.Name(), body).Response.StatusCode, "a finished payout still answers its key")
	require.Len(t, ledgerFor(id), 1, "one key, one payout")

	var sessions int
	for _, e := range get(t, id).Timeline {
		if e.Note == "opened at Bank 131" {
			sessions++
		}
	}
	require.Equal(t, 1, sessions, "one session at the bank")
}

func TestCreatePayout_SameKeyOtherBodyIsConflict(t *testing.T) {
	createNew(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
	var other pfclient.CreateRequest
	require.NoError(t, json.Unmarshal([]byte(cardPayout(cardSucceeds)), &other))
	other.Amount.Value = 20000
	_, err := apiClient(st.api.URL, "backend").Create(context.Background(), other, &pfclient.CreateOptions{IdempotencyKey: t.Name()})
	var e *pfclient.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, http.StatusConflict, e.StatusCode)
	require.Equal(t, "idempotency_key_reused", e.Code)
	require.Equal(t, int64(10000), get(t, payout.OwnedID("backend", t.Name())).Amount.Value, "the first payout is untouched")
}

func TestWebhook_ForgedOrUnsignedIsRejected(t *testing.T) {
	id := createID(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
	waiting := waitFor(t, id, payout.StatusAwaitingApproval)

	forged := `{"type":"payment_finished","session":{"id":"` + waiting.ProviderRefs["session_id"] + `","status":"accepted",` +
		`"payments":[{"id":"po_x","status":"succeeded","metadata":"` + id + `","amount_details":{"amount":10000,"currency":"rub"}}]}}`
	wrongKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	sig, err := bank131.Sign(wrongKey, []byte(forged))
	require.NoError(t, err)

	for name, headers := range map[string]map[string]string{
		"unsigned":          nil,
		"signed by another": {"X-PARTNER-SIGN": sig},
		"garbage signature": {"X-PARTNER-SIGN": "bm90IGEgc2lnbmF0dXJl"},
	} {
		r := do(t, st.api.URL, http.MethodPost, "/webhooks/bank131", headers, forged)
		require.Equal(t, http.StatusUnauthorized, r.Status, name)
		code, _ := r.apiError(t)
		require.Equal(t, "invalid_signature", code, name)
	}
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, payout.StatusAwaitingApproval, get(t, id).Status, "nothing a forged webhook says is believed")
	require.Contains(t, st.logs.String(), "webhook rejected: bad signature")

	mustDecide(t, st.api.URL, "test", id, "cancel", "")
	waitFor(t, id, payout.StatusCancelled)
}

func TestWebhook_ForAnUnknownPayoutIsAnsweredAndIgnored(t *testing.T) {
	body := `{"type":"payment_finished","session":{"id":"ps_404","status":"accepted","payments":[{"id":"po_404",` +
		`"status":"succeeded","metadata":"` + payout.ID("nobody") + `","amount_details":{"amount":1,"currency":"rub"}}]}}`
	r := do(t, st.api.URL, http.MethodPost, "/webhooks/bank131", map[string]string{"X-PARTNER-SIGN": st.bankSign(t, body)}, body)
	require.Equal(t, http.StatusOK, r.Status, "the bank must not resend it forever")
	require.Contains(t, st.logs.String(), "webhook for an unknown payout")
}

func TestWebhook_ContradictingAFinishedPayoutIsLoggedAsAnError(t *testing.T) {
	id := createID(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
	waitFor(t, id, payout.StatusAwaitingApproval)
	mustDecide(t, st.api.URL, "alice", id, "confirm", "")
	done := waitFor(t, id, payout.StatusSucceeded)
	require.Eventually(t, func() bool { return !workflowRunning(t, id) }, 10*time.Second, 50*time.Millisecond)

	body := `{"type":"payment_finished","session":{"id":"` + done.ProviderRefs["session_id"] + `","status":"accepted",` +
		`"payments":[{"id":"po_1","status":"failed","metadata":"` + id + `","amount_details":{"amount":10000,"currency":"rub"}}]}}`
	res := do(t, st.api.URL, http.MethodPost, "/webhooks/bank131", map[string]string{"X-PARTNER-SIGN": st.bankSign(t, body)}, body)
	require.Equal(t, http.StatusOK, res.Status, string(res.Body))
	require.Contains(t, st.logs.String(), "level=ERROR msg=\"CONTRADICTION: the provider's webhook contradicts how the payout ended")
	require.Contains(t, st.logs.String(), "payout_id="+id)
}

// TestHistory_HoldsNoCardNumberInPlainText pays to a real card number through the API and scans, without the
// codec, what Temporal keeps of the payout: every payload of every history event, the server's answers about it,
// and the rows of its database. The scanners run again on copies with the card number put in a payload in plain
// text and must find it there: a scan that cannot fail proves nothing.
func TestHistory_HoldsNoCardNumberInPlainText(t *testing.T) {
	id := createID(t, st.api.URL, t.Name(), cardPayout(cardDeclined))
	waitFor(t, id, payout.StatusFailed)
	require.Eventually(t, func() bool { return !workflowRunning(t, id) }, 10*time.Second, 50*time.Millisecond,
		"the workflow completes: its result is in the history too")
	ctx := context.Background()
	scanner := newLeakScanner(cardDeclined, "Ivanov Ivan")

	events := historyEvents(t, id)
	require.Greater(t, len(events), 5)
	var leaks []leak
	for _, ev := range events {
		leaks = append(leaks, scanner.message(eventName(ev), ev)...)
	}
	for name, answer := range rawAnswers(t, id) {
		leaks = append(leaks, scanner.message(name, answer)...)
	}
	require.Empty(t, leaks, "history, memo, search attributes and query answers hold no card number")

	// The server's database: the literals in every row, card numbers in the rows of this payout (its ID or run ID).
	runID := events[0].GetWorkflowExecutionStartedEventAttributes().GetOriginalExecutionRunId()
	rows := readServerStore(t)
	require.Empty(t, scanner.rows(rows, id, runID), "the server's database holds no card number")

	// A copy of the first event, its input in plain text as it was before the codec: the history scan finds it.
	bad := proto.Clone(events[0]).(*historypb.HistoryEvent)
	input := bad.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0]
	input.Metadata = map[string][]byte{"encoding": []byte("json/plain")}
	input.Data = []byte(`{"number":"` + cardDeclined + `"}`)
	requireFound(t, scanner.message(eventName(bad), bad),
		eventName(bad)+".workflow_execution_started_event_attributes.input.payloads[0].data")

	// The same event written into a copy of the server's rows, in the row that holds it: the row scan finds it.
	badRows, where := withFirstEvent(t, rows, runID, bad)
	requireFound(t, scanner.rows(badRows, id, runID), where)

	requireNotLogged(t, "logs hold no card number", cardDeclined)

	// Temporal UI decodes the start input through the codec endpoint: operators see the card masked.
	body, err := protojson.Marshal(events[0].GetWorkflowExecutionStartedEventAttributes().GetInput())
	require.NoError(t, err)
	r := do(t, st.codecURL, http.MethodPost, "/decode", map[string]string{"Origin": "http://127.0.0.1:8233"}, string(body))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var shown commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(r.Body, &shown))
	require.NotContains(t, string(shown.Payloads[0].Data), cardDeclined, "the UI never shows the full card number")
	require.Contains(t, string(shown.Payloads[0].Data), `"number":"400000******0002"`)

	// With the codec, the same history reads back.
	it := st.client.GetWorkflowHistory(ctx, id, "", false, 0)
	first, err := it.Next()
	require.NoError(t, err)
	var in workflows.Input
	require.NoError(t, st.dc.FromPayloads(first.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in))
	require.Equal(t, cardDeclined, in.Request.Destination.Card.Number)
}

func TestHealth_AnswersWhenTemporalIsUp(t *testing.T) {
	r := do(t, st.api.URL, http.MethodGet, "/healthz", nil, "")
	require.Equal(t, http.StatusOK, r.Status)
}

func TestWebhook_SignedButUnroutableIsAnsweredSoTheBankStopsResending(t *testing.T) {
	body := `{"type":"payment_finished","session":{"id":"ps_1","status":"cancelled","payments":[]}}`
	r := do(t, st.api.URL, http.MethodPost, "/webhooks/bank131", map[string]string{"X-PARTNER-SIGN": st.bankSign(t, body)}, body)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Contains(t, string(r.Body), "ignored")
	require.Contains(t, st.logs.String(), "webhook ignored: signed but not understood")
}

func TestAPI_PublicPortDoesNotServeTheCodec(t *testing.T) {
	r := do(t, st.api.URL, http.MethodPost, "/codec/decode", nil, `{"payloads":[]}`)
	require.Equal(t, http.StatusNotFound, r.Status, "the codec decrypts for anyone who reaches it: never on the API port")
}

func TestWebhook_DuplicateAndLateDeliveriesChangeNothing(t *testing.T) {
	id := createID(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
	waiting := waitFor(t, id, payout.StatusAwaitingApproval)
	session := waiting.ProviderRefs["session_id"]
	ready := `{"type":"ready_to_confirm","session":{"id":"` + session + `","status":"in_progress","next_action":"confirm",` +
		`"payments":[{"id":"` + waiting.ProviderRefs["payment_id"] + `","status":"pending","metadata":"` + id + `",` +
		`"payment_method":{"type":"card","card":{"brand":"visa","last4":"4242"}},"amount_details":{"amount":10000,"currency":"rub"}}]}}`
	headers := map[string]string{"X-PARTNER-SIGN": st.bankSign(t, ready)}

	require.Equal(t, http.StatusOK, do(t, st.api.URL, http.MethodPost, "/webhooks/bank131", headers, ready).Status, "a duplicate")
	mustDecide(t, st.api.URL, "alice", id, "confirm", "")
	require.Equal(t, http.StatusOK, do(t, st.api.URL, http.MethodPost, "/webhooks/bank131", headers, ready).Status, "late, after confirm")
	done := waitFor(t, id, payout.StatusSucceeded)
	require.Equal(t, http.StatusOK, do(t, st.api.URL, http.MethodPost, "/webhooks/bank131", headers, ready).Status, "after the end")

	require.Len(t, ledgerFor(id), 1, "paid once")
	var readies int
	for _, e := range done.Timeline {
		if e.Status == payout.StatusAwaitingApproval && e.Note == "ready at Bank 131, waiting for approval" {
			readies++
		}
	}
	require.Equal(t, 1, readies, "the repeats left no trace in the payout's story")
}
