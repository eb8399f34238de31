package api

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/payoutflow/payoutflow/payout"
)

// waitingClient is a Temporal client for one payout that published its state and then gets no new event: it
// counts the Describes it is asked, and its history's long poll waits until it is given up.
type waitingClient struct {
	*publishedClient
	describes atomic.Int64
}

func (c *waitingClient) DescribeWorkflowExecution(ctx context.Context, id, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	c.describes.Add(1)
	return c.publishedClient.DescribeWorkflowExecution(ctx, id, runID)
}

func (c *waitingClient) GetWorkflowHistory(ctx context.Context, _, _ string, _ bool, _ enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	return &longPoll{ctx: ctx}
}

type longPoll struct{ ctx context.Context }

func (l *longPoll) HasNext() bool { return true }
func (l *longPoll) Next() (*historypb.HistoryEvent, error) {
	<-l.ctx.Done()
	return nil, l.ctx.Err()
}

// Found while sizing for 3,000 long-poll GETs at once (503s): each asked Temporal for the payout twice, once to
// answer and once more for its watcher. The watcher starts from the GET's own read: one Describe per waiting GET,
// and, for a wait for the payout's end, one more when the wait has passed (its watcher reads only now and then).
func TestWait_ALongPollGETDescribesThePayoutOnceItsWatcherStartsFromThatRead(t *testing.T) {
	for _, tc := range []struct {
		until     string
		describes int64
	}{{"confirmed", 1}, {"succeeded", 2}} {
		t.Run(tc.until, func(t *testing.T) {
			const id = "po_0123456789abcdef0123456789abcdef"
			wc := &waitingClient{publishedClient: &publishedClient{state: payout.State{ID: id, Status: payout.StatusAwaitingApproval,
				Provider: "bank131", ApprovalsRequired: 1, UpdatedAt: time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)}}}
			h := opsServer(t, wc)

			rec := serve(h, http.MethodGet, "/v1/payouts/"+id+"?wait=300ms&until="+tc.until, "")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			require.Equal(t, "false", rec.Header().Get("Payout-Wait-Met"))
			require.Contains(t, rec.Body.String(), `"status":"awaiting_approval"`)
			require.Equal(t, tc.describes, wc.describes.Load(), "Describes for one long-poll GET")
		})
	}
}
