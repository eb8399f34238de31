package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"

	"github.com/payoutflow/payoutflow/payout"
)

func TestLeanMemo_UpsertsTheBytesTheConverterMakesOfTheStateAndSkipsAnUnchangedMemo(t *testing.T) {
	st := payout.State{ID: "po_1", Status: payout.StatusAwaitingApproval, Provider: "bank131",
		UpdatedAt: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), Description: "<b>&amp;</b> ünïcode"}
	events := []map[string]any{{"type": "payout.awaiting_approval", "at": "2026-12-07T10:00:00Z"}}
	memo := map[string]any{MemoState: st, MemoEvents: events}
	dc := converter.GetDefaultDataConverter()
	var p run

	raw, changed := p.leanMemo(memo)
	require.True(t, changed, "the first memo is published")
	for k, v := range memo {
		want, err := dc.ToPayload(v)
		require.NoError(t, err)
		got, err := dc.ToPayload(raw[k])
		require.NoError(t, err)
		require.Equal(t, want.GetMetadata(), got.GetMetadata(), k)
		require.Equal(t, string(want.GetData()), string(got.GetData()), "%s: the upsert sends what the converter makes of the value", k)
	}

	_, changed = p.leanMemo(map[string]any{MemoState: st, MemoEvents: events})
	require.False(t, changed, "the same memo again is not published")
	st.Status = payout.StatusConfirmed
	_, changed = p.leanMemo(map[string]any{MemoState: st, MemoEvents: events})
	require.True(t, changed, "a changed state is")
}
