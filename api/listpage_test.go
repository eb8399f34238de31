package api

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// visibility is a stand-in for Temporal's SQL visibility in a unit test of newest: it answers the StartTime bounds
// newest puts in its queries, in pages, in an order of its own (SQL visibility does not sort by start time), and
// counts the executions it hands out.
type visibility struct {
	client.Client
	started map[string]time.Time
	read    int // executions listed
	calls   int // lists and counts asked
}

var startBound = regexp.MustCompile(`StartTime (<=|>|>=|<) '([^']+)'`)

func (v *visibility) CountWorkflow(_ context.Context, r *workflowservice.CountWorkflowExecutionsRequest) (*workflowservice.CountWorkflowExecutionsResponse, error) {
	ids, err := v.match(r.GetQuery())
	return &workflowservice.CountWorkflowExecutionsResponse{Count: int64(len(ids))}, err
}

func (v *visibility) ListWorkflow(_ context.Context, r *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	ids, err := v.match(r.GetQuery())
	if err != nil {
		return nil, err
	}
	from := 0
	if len(r.GetNextPageToken()) > 0 {
		from, _ = strconv.Atoi(string(r.GetNextPageToken()))
	}
	to := min(from+int(r.GetPageSize()), len(ids))
	res := &workflowservice.ListWorkflowExecutionsResponse{}
	for _, id := range ids[from:to] {
		res.Executions = append(res.Executions, &workflowpb.WorkflowExecutionInfo{
			Execution: &commonpb.WorkflowExecution{WorkflowId: id},
			StartTime: timestamppb.New(v.started[id]),
		})
	}
	v.read += to - from
	if to < len(ids) {
		res.NextPageToken = []byte(strconv.Itoa(to))
	}
	return res, nil
}

// match gives the ids of the executions within the query's StartTime bounds, in an order that is not by start time.
func (v *visibility) match(query string) ([]string, error) {
	v.calls++
	var ids []string
	for id, at := range v.started {
		ok := true
		for _, m := range startBound.FindAllStringSubmatch(query, -1) {
			t, err := time.Parse(time.RFC3339Nano, m[2])
			if err != nil {
				return nil, err
			}
			switch m[1] {
			case "<=":
				ok = ok && !at.After(t)
			case "<":
				ok = ok && at.Before(t)
			case ">":
				ok = ok && at.After(t)
			case ">=":
				ok = ok && !at.Before(t)
			}
		}
		if ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids) // by id: not by start time
	return ids, nil
}

func TestListPage_APageReadsAboutItsSizeFromVisibilityNotThousands(t *testing.T) {
	// 3,000 payouts created in the last six minutes (a backend's burst): a page of one used to read 1,000 executions
	// (memo included) per window it tried, halving the window again and again (GET /v1/payouts?limit=1 took 15 s
	// with 1,000 payouts waiting on the shared machine).
	now := time.Now().UTC()
	v := &visibility{started: map[string]time.Time{}}
	for i := range 3000 {
		v.started[fmt.Sprintf("p-%04d", i)] = now.Add(-time.Duration(i) * 120 * time.Millisecond)
	}
	s := &Server{cfg: Config{Client: v}}
	got, next, err := s.newest(context.Background(), "WorkflowType = 'payout'", time.Time{}, cursor{At: now.Add(time.Hour)}, 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "p-0000", got[0].GetExecution().GetWorkflowId(), "the newest payout")
	require.NotNil(t, next)
	require.LessOrEqual(t, v.read, 100, "executions read from visibility for a page of one")
	require.LessOrEqual(t, v.calls, 30, "lists and counts asked for a page of one")
}

func TestListPage_PayoutsCreatedInTheSameSecondAreEachListedOnce(t *testing.T) {
	// More payouts in one second than a window reads at a time: paging must still list every one, once, newest first.
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	v := &visibility{started: map[string]time.Time{}}
	for i := range 700 {
		v.started[fmt.Sprintf("p-%04d", i)] = base.Add(time.Duration(i%7) * time.Millisecond) // 7 instants, 100 each
	}
	for i := range 30 {
		v.started[fmt.Sprintf("q-%04d", i)] = base.Add(-time.Duration(i+1) * time.Minute)
	}
	s := &Server{cfg: Config{Client: v}}
	from := cursor{At: time.Now().Add(time.Hour)}
	seen := map[string]bool{}
	var order []time.Time
	for page := 0; ; page++ {
		require.Less(t, page, 100, "paging ends")
		got, next, err := s.newest(context.Background(), "WorkflowType = 'payout'", time.Time{}, from, 20)
		require.NoError(t, err)
		for _, e := range got {
			id := e.GetExecution().GetWorkflowId()
			require.False(t, seen[id], "%s listed twice", id)
			seen[id] = true
			order = append(order, e.GetStartTime().AsTime())
		}
		if next == nil {
			break
		}
		from = *next
	}
	require.Len(t, seen, len(v.started), "every payout listed")
	require.True(t, slices.IsSortedFunc(order, func(a, b time.Time) int { return b.Compare(a) }), "newest first")
}
