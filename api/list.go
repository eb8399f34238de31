package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/workflows"
)

// Summary is one payout in a list: what visibility knows of it, without a query to its workflow.
type Summary struct {
	ID               string        `json:"id"`
	Status           payout.Status `json:"status"`
	Provider         string        `json:"provider"`
	Method           string        `json:"method"`
	Amount           payout.Amount `json:"amount"`
	AwaitingApproval bool          `json:"awaiting_approval"`
	NeedsAttention   bool          `json:"needs_attention"`
	// Contradiction tells that the provider contradicted how the payout ended: an operator must reconcile it.
	Contradiction bool `json:"contradiction,omitempty"`
	// Failure is why the payout failed or was cancelled, in payoutflow's vocabulary, as its state says.
	Failure   *payout.Failure `json:"failure,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	ClosedAt  *time.Time      `json:"closed_at,omitempty"`
}

var (
	statuses = []string{string(payout.StatusCreated), string(payout.StatusSubmitted), string(payout.StatusAwaitingApproval),
		string(payout.StatusConfirmed), string(payout.StatusSucceeded), string(payout.StatusFailed),
		string(payout.StatusCancelled), string(payout.StatusNeedsAttention)}
	// methods are all a payout can have (payout.Request.Method).
	methods = []string{payout.MethodCardNumber, payout.MethodCardToken, payout.MethodPaymentPage, payout.MethodSBP,
		payout.MethodTransfer}
)

// listPayouts lists payouts from Temporal visibility, with filters and paging:
// GET /v1/payouts?status=awaiting_approval&provider=<name>&method=card_number&currency=RUB&needs_attention=true
// &contradiction=true&created_after=<RFC 3339>&created_before=<RFC 3339>&limit=20&page_token=..., newest first.
func (s *Server) listPayouts(c echo.Context) error {
	q := c.QueryParams()
	for name := range q {
		if !slices.Contains([]string{"status", "provider", "method", "currency", "awaiting_approval", "needs_attention", "contradiction", "limit", "page_token", "created_after", "created_before"}, name) {
			return fieldError(http.StatusBadRequest, name, "unknown_parameter", name+" is not a filter of this list")
		}
	}
	// A payout that continued as new has one execution per run; its current run alone says how it stands.
	clauses := []string{fmt.Sprintf("WorkflowType = '%s'", workflows.WorkflowName), "ExecutionStatus != 'ContinuedAsNew'"}
	if me := caller(c); isBackend(me) {
		// A backend lists the payouts it created (key names hold no quote: keyNameRE).
		clauses = append(clauses, fmt.Sprintf("%s = '%s'", workflows.AttrCreatedBy.GetName(), me.Name))
	}
	// keyword filters by attr = v, for a v that ok takes (none holds a quote: no injection); want says what it takes.
	keyword := func(param, attr string, ok func(string) bool, want string) error {
		v := q.Get(param)
		if v == "" {
			return nil
		}
		if !ok(v) {
			return fieldError(http.StatusBadRequest, param, "invalid_filter", param+" must be "+want)
		}
		clauses = append(clauses, fmt.Sprintf("%s = '%s'", attr, v))
		return nil
	}
	in := func(allowed []string) func(string) bool {
		return func(v string) bool { return slices.Contains(allowed, v) }
	}
	flag := func(param, attr string) error {
		v := q.Get(param)
		if v == "" {
			return nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fieldError(http.StatusBadRequest, param, "invalid_filter", param+" must be true or false")
		}
		clauses = append(clauses, fmt.Sprintf("%s = %t", attr, b))
		return nil
	}
	for _, err := range []error{
		keyword("status", workflows.AttrStatus.GetName(), in(statuses), "one of "+strings.Join(statuses, ", ")),
		// Any provider's name, configured here or not: payouts outlive the configuration that made them.
		keyword("provider", workflows.AttrProvider.GetName(), providerNameRE.MatchString, providerNameRule),
		keyword("method", workflows.AttrMethod.GetName(), in(methods), "one of "+strings.Join(methods, ", ")),
		flag("awaiting_approval", workflows.AttrAwaitingApproval.GetName()),
		flag("needs_attention", workflows.AttrNeedsAttention.GetName()),
	} {
		if err != nil {
			return err
		}
	}
	switch q.Get("contradiction") {
	case "":
	case "true":
		clauses = append(clauses, workflows.AttrContradiction.GetName()+" = true")
	default:
		return fieldError(http.StatusBadRequest, "contradiction", "invalid_filter",
			"contradiction must be true: it lists the payouts whose provider contradicted how they ended")
	}
	if cur := q.Get("currency"); cur != "" {
		if !payout.KnownCurrency(cur) {
			return fieldError(http.StatusBadRequest, "currency", "invalid_filter", "currency must be an ISO 4217 code such as RUB")
		}
		clauses = append(clauses, fmt.Sprintf("%s = '%s'", workflows.AttrCurrency.GetName(), cur))
	}
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return fieldError(http.StatusBadRequest, "limit", "invalid_limit", "limit must be a number from 1 to 100")
		}
		limit = n
	}
	after, before, err := createdRange(q.Get("created_after"), q.Get("created_before"))
	if err != nil {
		return err
	}
	from := cursor{At: time.Now().Add(time.Hour)} // beyond any clock skew between this API and Temporal
	if !after.IsZero() {
		clauses = append(clauses, fmt.Sprintf("StartTime >= '%s'", after.Format(time.RFC3339Nano)))
	}
	if !before.IsZero() {
		clauses = append(clauses, fmt.Sprintf("StartTime < '%s'", before.Format(time.RFC3339Nano)))
		from.At = before
	}
	query := strings.Join(clauses, " AND ")
	if v := q.Get("page_token"); v != "" {
		if from, err = s.readPageToken(query, v); err != nil {
			return err
		}
	}
	ctx, cancel := s.withBusyBudget(c.Request().Context(), 0)
	defer cancel()
	executions, next, err := s.newest(ctx, query, after, from, limit)
	if err != nil {
		return err
	}
	out := struct {
		Payouts       []Summary `json:"payouts"`
		NextPageToken string    `json:"next_page_token,omitempty"`
	}{Payouts: []Summary{}}
	for _, e := range executions {
		sum := summary(e.GetExecution().GetWorkflowId(), e.GetSearchAttributes(), e.GetStartTime().AsTime(), e.GetCloseTime())
		sum.Failure = s.listedFailure(c.Request().Context(), e.GetMemo())
		out.Payouts = append(out.Payouts, sum)
	}
	if next != nil {
		out.NextPageToken = s.pageToken(query, *next)
	}
	return c.JSON(http.StatusOK, out)
}

func summary(id string, sa *commonpb.SearchAttributes, started time.Time, closed *timestamppb.Timestamp) Summary {
	dc := converter.GetDefaultDataConverter() // search attributes are plain: they never hold secrets
	read := func(name string, v any) {
		if p, ok := sa.GetIndexedFields()[name]; ok {
			_ = dc.FromPayload(p, v)
		}
	}
	s := Summary{ID: id, CreatedAt: started}
	var status string
	read(workflows.AttrStatus.GetName(), &status)
	s.Status = payout.Status(status)
	read(workflows.AttrProvider.GetName(), &s.Provider)
	read(workflows.AttrMethod.GetName(), &s.Method)
	read(workflows.AttrAmount.GetName(), &s.Amount.Value)
	read(workflows.AttrCurrency.GetName(), &s.Amount.Currency)
	read(workflows.AttrAwaitingApproval.GetName(), &s.AwaitingApproval)
	read(workflows.AttrNeedsAttention.GetName(), &s.NeedsAttention)
	read(workflows.AttrContradiction.GetName(), &s.Contradiction)
	if closed != nil && closed.GetSeconds() > 0 {
		t := closed.AsTime()
		s.ClosedAt = &t
	}
	return s
}

// createdRange reads created_after (at or after) and created_before (before): RFC 3339 times, the first before
// the second.
func createdRange(afterParam, beforeParam string) (after, before time.Time, err error) {
	parse := func(param, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return t, fieldError(http.StatusBadRequest, param, "invalid_filter",
				param+" must be an RFC 3339 time, such as 2026-12-06T10:00:00Z or 2026-12-06T13:00:00+03:00")
		}
		return t.UTC(), nil
	}
	if after, err = parse("created_after", afterParam); err != nil {
		return after, before, err
	}
	if before, err = parse("created_before", beforeParam); err != nil {
		return after, before, err
	}
	if !after.IsZero() && !before.IsZero() && !after.Before(before) {
		return after, before, fieldError(http.StatusBadRequest, "created_before", "invalid_filter",
			"created_before must be later than created_after")
	}
	return after, before, nil
}
