package integration

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
)

type listed struct {
	Payouts []struct {
		ID        string        `json:"id"`
		Status    payout.Status `json:"status"`
		CreatedAt time.Time     `json:"created_at"`
	} `json:"payouts"`
	Next string `json:"next_page_token"`
}

func listAs(t *testing.T, who string, q url.Values) (listed, response) {
	t.Helper()
	r := do(t, st.api.URL, http.MethodGet, "/v1/payouts?"+q.Encode(), as(who), "")
	var l listed
	if r.Status == http.StatusOK {
		require.NoError(t, json.Unmarshal(r.Body, &l), string(r.Body))
	}
	return l, r
}

// only keeps the listed IDs that are in ids, in the list's order.
func only(l listed, ids ...string) []string {
	var out []string
	for _, p := range l.Payouts {
		if slices.Contains(ids, p.ID) {
			out = append(out, p.ID)
		}
	}
	return out
}

func TestListPayouts_NewestFirstByCreationTimeWithinCreatedAfterAndBefore(t *testing.T) {
	since := time.Now().UTC().Add(-time.Millisecond)
	var ids []string
	for _, k := range []string{"a", "b", "c"} {
		ids = append(ids, createID(t, st.api.URL, t.Name()+"-"+k, cardPayout(cardSucceeds)))
		time.Sleep(20 * time.Millisecond)
	}
	a, b, c := ids[0], ids[1], ids[2]
	for _, id := range ids {
		waitFor(t, id, payout.StatusAwaitingApproval)
	}
	// b closes: Temporal's SQL visibility lists running workflows first and closed ones by close time (a, c, b).
	mustDecide(t, st.api.URL, "test", b, "cancel", "list order")
	waitFor(t, b, payout.StatusCancelled)

	window := url.Values{"created_after": {since.Format(time.RFC3339Nano)}, "limit": {"100"}}
	var all listed
	require.Eventually(t, func() bool {
		all, _ = listAs(t, "backend", window)
		return len(only(all, ids...)) == 3
	}, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, []string{c, b, a}, only(all, ids...), "newest first, closed or not")
	created := map[string]time.Time{}
	for i, p := range all.Payouts {
		created[p.ID] = p.CreatedAt
		if i > 0 {
			require.False(t, p.CreatedAt.After(all.Payouts[i-1].CreatedAt), "sorted by created_at, newest first")
		}
	}

	// One by one, the pages go c, b, a.
	var paged []string
	q := url.Values{"created_after": window["created_after"], "limit": {"1"}}
	for range 10 {
		page, r := listAs(t, "backend", q)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		paged = append(paged, only(page, ids...)...)
		if page.Next == "" {
			break
		}
		q.Set("page_token", page.Next)
	}
	require.Equal(t, []string{c, b, a}, paged)

	before, _ := listAs(t, "backend", url.Values{"created_after": window["created_after"],
		"created_before": {created[b].Format(time.RFC3339Nano)}})
	require.Equal(t, []string{a}, only(before, ids...), "created_before is before, not at")
	after, _ := listAs(t, "backend", url.Values{"created_after": {created[b].Format(time.RFC3339Nano)}})
	require.Equal(t, []string{c, b}, only(after, ids...), "created_after is at or after")

	for _, id := range []string{a, c} {
		mustDecide(t, st.api.URL, "test", id, "cancel", "list order")
		waitFor(t, id, payout.StatusCancelled)
	}
}

func TestListPayouts_BadFiltersAndPageTokensAre400AtOnce(t *testing.T) {
	page, r := listAs(t, "backend", url.Values{"limit": {"1"}})
	require.Equal(t, http.StatusOK, r.Status)
	tests := map[string]struct {
		q     url.Values
		field string
	}{
		"created_after not RFC 3339":  {url.Values{"created_after": {"yesterday"}}, "created_after"},
		"created_before a bare date":  {url.Values{"created_before": {"2026-12-06"}}, "created_before"},
		"created_before before after": {url.Values{"created_after": {"2026-12-06T10:00:00Z"}, "created_before": {"2026-12-06T09:00:00Z"}}, "created_before"},
		"page token not ours":         {url.Values{"page_token": {base64.RawURLEncoding.EncodeToString([]byte("a token Temporal never gave"))}}, "page_token"},
		"page token not base64":       {url.Values{"page_token": {"%%%"}}, "page_token"},
		"page token of another list":  {url.Values{"page_token": {page.Next}, "status": {"cancelled"}}, "page_token"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if tt.field == "page_token" && tt.q.Get("page_token") == "" {
				t.Skip("no second page to take a token from")
			}
			start := time.Now()
			_, r := listAs(t, "backend", tt.q)
			require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
			require.Less(t, time.Since(start), 2*time.Second, "refused at once")
			_, field := r.apiError(t)
			require.Equal(t, tt.field, field)
		})
	}
	for _, m := range []string{"card_number", "card_token", "payment_page", "sbp", "transfer"} {
		_, r := listAs(t, "alice", url.Values{"method": {m}})
		require.Equal(t, http.StatusOK, r.Status, "method=%s: %s", m, string(r.Body))
	}
}
