package api

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/payoutflow/payoutflow/payout"
)

// watchedClient is a Temporal client for one payout that published its state: it records the history filter of
// every long poll it is asked and counts Describes. Its run is running, or closed (ended) when closed is set; a
// long poll of a running run waits until given up, of a closed one answers its close event at once.
type watchedClient struct {
	*publishedClient
	closed bool

	mu        sync.Mutex
	filters   []enumspb.HistoryEventFilterType
	describes int
}

func (c *watchedClient) DescribeWorkflowExecution(ctx context.Context, id, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	c.mu.Lock()
	c.describes++
	c.mu.Unlock()
	d, err := c.publishedClient.DescribeWorkflowExecution(ctx, id, runID)
	if err == nil && c.closed {
		d.WorkflowExecutionInfo.Status = enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED
		d.WorkflowExecutionInfo.CloseTime = timestamppb.Now()
	}
	return d, err
}

func (c *watchedClient) GetWorkflowHistory(ctx context.Context, _, _ string, _ bool, filter enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	c.mu.Lock()
	c.filters = append(c.filters, filter)
	c.mu.Unlock()
	if c.closed {
		return &closedHistory{}
	}
	return &longPoll{ctx: ctx}
}

func (c *watchedClient) seen() ([]enumspb.HistoryEventFilterType, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.filters), c.describes
}

// closedHistory is the history of a run that was terminated: its close event, and no more.
type closedHistory struct{ read bool }

func (h *closedHistory) HasNext() bool { return !h.read }
func (h *closedHistory) Next() (*historypb.HistoryEvent, error) {
	h.read = true
	return &historypb.HistoryEvent{EventId: 13, EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED}, nil
}

func watchedServer(t *testing.T, closed bool) (http.Handler, *watchedClient) {
	t.Helper()
	const id = "po_0123456789abcdef0123456789abcdef"
	wc := &watchedClient{closed: closed, publishedClient: &publishedClient{state: payout.State{ID: id,
		Status: payout.StatusAwaitingApproval, Provider: "bank131", ApprovalsRequired: 1,
		UpdatedAt: time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)}}}
	return opsServer(t, wc), wc
}

// A GET that only the payout's end answers (until names final statuses, or none) waits for the run to close: a
// close-event long poll, which Temporal answers without reading the history at each workflow task, as the
// watcher of a status on the way must.
func TestWait_AGetForThePayoutsEndWaitsForItsRunToCloseNotForEachEvent(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  enumspb.HistoryEventFilterType
	}{
		{"wait=300ms&until=succeeded,failed", enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT},
		{"wait=300ms", enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT},
		{"wait=300ms&until=confirmed", enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT},
		{"wait=300ms&until=confirmed,succeeded", enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT},
	} {
		t.Run(tc.query, func(t *testing.T) {
			h, wc := watchedServer(t, false)
			rec := serve(h, http.MethodGet, "/v1/payouts/"+wc.state.ID+"?"+tc.query, "")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			require.Equal(t, "false", rec.Header().Get("Payout-Wait-Met"))
			require.Eventually(t, func() bool { f, _ := wc.seen(); return len(f) > 0 }, time.Second, 5*time.Millisecond)
			filters, _ := wc.seen()
			require.Equal(t, []enumspb.HistoryEventFilterType{tc.want}, filters)
		})
	}
}

// Found while adding the end-only watcher: a payout whose run ended (terminated) without publishing a final state
// was read again and again, as fast as Temporal answered, for as long as a GET waited for it. Its watcher reads it
// once: nothing it waits for can come any more.
func TestWait_AWatcherOfARunThatEndedWithoutAFinalStateReadsItOnce(t *testing.T) {
	for _, query := range []string{"wait=400ms&until=confirmed", "wait=400ms&until=succeeded"} {
		t.Run(query, func(t *testing.T) {
			h, wc := watchedServer(t, true)
			rec := serve(h, http.MethodGet, "/v1/payouts/"+wc.state.ID+"?"+query, "")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			require.Contains(t, rec.Body.String(), `"status":"awaiting_approval"`)
			_, describes := wc.seen()
			require.LessOrEqual(t, describes, 2, "Describes while one GET waited 400 ms")
		})
	}
}
