package peer

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBank_SendsReadyToConfirmAfterStartAndPaymentFinishedAfterConfirm(t *testing.T) {
	hooks := make(chan Webhook, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var h Webhook
		require.NoError(t, json.NewDecoder(r.Body).Decode(&h))
		hooks <- h
	}))
	defer receiver.Close()
	bank := httptest.NewServer(&Bank{WebhookURL: receiver.URL, Delay: time.Millisecond, HTTP: httpClient(), Log: slog.New(slog.DiscardHandler)})
	defer bank.Close()
	a := &Activities{Bank: &BankClient{URL: bank.URL, HTTP: httpClient()}}
	ctx := t.Context()

	session, err := a.OpenSession(ctx, Input{PayoutID: "peer-1", Amount: 100})
	require.NoError(t, err)
	require.NotEmpty(t, session)
	require.NoError(t, a.StartPayout(ctx, session, Input{PayoutID: "peer-1", Amount: 100}))
	require.Equal(t, Webhook{Type: SignalReady, PayoutID: "peer-1", SessionID: session}, <-hooks)
	require.NoError(t, a.Confirm(ctx, session))
	require.Equal(t, Webhook{Type: SignalFinished, PayoutID: "peer-1", SessionID: session, Status: StatusSucceeded}, <-hooks)
	require.ErrorContains(t, a.Confirm(ctx, session), "404", "a session is confirmed once")
}

func TestBank_RefusesAnUnknownSessionAndASessionWithoutAPayout(t *testing.T) {
	bank := httptest.NewServer(&Bank{Delay: time.Millisecond, HTTP: httpClient(), Log: slog.New(slog.DiscardHandler)})
	defer bank.Close()
	a := &Activities{Bank: &BankClient{URL: bank.URL, HTTP: httpClient()}}
	require.ErrorContains(t, a.StartPayout(t.Context(), "ps_404", Input{PayoutID: "x"}), "404")
	_, err := a.OpenSession(t.Context(), Input{})
	require.ErrorContains(t, err, "400")
}

func TestBank_RetriesAWebhookUntilItIsAnswered200(t *testing.T) {
	calls := make(chan int, 8)
	n := 0
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		calls <- n
		if n < 3 {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer receiver.Close()
	b := &Bank{WebhookURL: receiver.URL, HTTP: httpClient(), Log: slog.New(slog.DiscardHandler)}
	b.send(Webhook{Type: SignalReady, PayoutID: "peer-2"})
	require.Len(t, calls, 3)
}
