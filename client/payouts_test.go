package client

import (
	"testing"
	"time"
)

func TestListParamsAreSentAsTheAPIsQuery(t *testing.T) {
	yes := true
	q := ListParams{Status: StatusFailed, Provider: "bank131", Method: MethodSBP, Currency: "RUB", NeedsAttention: &yes,
		Contradiction: true, CreatedAfter: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		CreatedBefore: time.Date(2026, 12, 6, 12, 30, 0, 0, time.FixedZone("MSK", 3*3600)), Limit: 50, PageToken: "abc"}.query()
	want := "contradiction=true&created_after=2026-12-01T00%3A00%3A00Z&created_before=2026-12-06T12%3A30%3A00%2B03%3A00" +
		"&currency=RUB&limit=50&method=sbp&needs_attention=true&page_token=abc&provider=bank131&status=failed"
	if got := q.Encode(); got != want {
		t.Fatalf("query\n%s\nwant\n%s", got, want)
	}
	if got := (ListParams{}).query().Encode(); got != "" {
		t.Fatalf("zero params sent %q", got)
	}
}
