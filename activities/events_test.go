package activities

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/payout"
)

func TestDeliverEvent_PostsTheSignedEventAndFailsOnAnythingButA2xx(t *testing.T) {
	const secret = "whsec_unit_0123456789"
	var mu sync.Mutex
	status := http.StatusNoContent
	var got []client.Event
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := client.Verifier{Secrets: []string{secret}}.Request(r)
		require.NoError(t, err)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	a := &Activities{Events: NewEventSender(time.Second, Endpoint{URL: srv.URL + "/hook", Secrets: []string{secret}})}
	var env testsuite.WorkflowTestSuite
	ae := env.NewTestActivityEnvironment()
	ae.RegisterActivity(a)
	st := payout.NewState("po_unit", payout.Request{Provider: "bank131"}, time.Now())
	ev := payout.NewEvent(payout.EventCreated, st, 1, st.CreatedAt)

	tests := []struct {
		name    string
		url     string
		status  int
		wantErr string
	}{
		{"a 2xx delivers", srv.URL + "/hook", http.StatusNoContent, ""},
		{"a 500 fails the attempt", srv.URL + "/hook", http.StatusInternalServerError, "answered 500"},
		{"a redirect fails the attempt", srv.URL + "/hook", http.StatusFound, "answered 302"},
		{"an endpoint without a secret here fails the attempt", srv.URL + "/other", http.StatusOK, "not configured on this worker"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			status = tc.status
			mu.Unlock()
			_, err := ae.ExecuteActivity(a.DeliverEvent, Delivery{URL: tc.url, Event: ev})
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
			require.NotContains(t, err.Error(), secret)
		})
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 3) // the endpoint without a secret is never called
	for _, g := range got {
		require.Equal(t, ev.ID, g.ID, "every attempt carries the same event id")
	}
}

func TestDeliverEvent_ATimeoutFailsTheAttempt(t *testing.T) {
	const secret = "whsec_unit_0123456789"
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-release
	}))
	defer srv.Close()
	defer close(release)
	a := &Activities{Events: NewEventSender(200*time.Millisecond, Endpoint{URL: srv.URL, Secrets: []string{secret}})}
	var env testsuite.WorkflowTestSuite
	ae := env.NewTestActivityEnvironment()
	ae.RegisterActivity(a)
	st := payout.NewState("po_unit", payout.Request{Provider: "bank131"}, time.Now())
	_, err := ae.ExecuteActivity(a.DeliverEvent, Delivery{URL: srv.URL, Event: payout.NewEvent(payout.EventCreated, st, 1, st.CreatedAt)})
	require.ErrorContains(t, err, "Timeout")
}
