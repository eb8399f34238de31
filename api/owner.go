package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/payoutflow/payoutflow/payout"
)

// Idempotency keys and payouts belong to the API key that created them (README, "Whose payouts"): a key that holds
// the create scope is a backend, and reaches only its own payouts; a key without it (an operator's) reaches all.

// payoutIDFor is the ID of the payout that the caller's idempotency key names: the caller's own (payout.OwnedID),
// unless older code, which derived the ID from the idempotency key alone (payout.ID), made that payout for this
// caller: a retry after an upgrade finds the payout it made, never a second one.
func (s *Server) payoutIDFor(ctx context.Context, me, key string) (string, error) {
	legacy := payout.ID(key)
	_, err := s.cfg.Client.DescribeWorkflowExecution(ctx, legacy, "")
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return payout.OwnedID(me, key), nil
	case err != nil:
		return "", fmt.Errorf("look up payout %s: %w", legacy, err)
	}
	st, err := s.state(ctx, legacy)
	if err != nil {
		return "", fmt.Errorf("read payout %s: %w", legacy, err)
	}
	if st.CreatedBy == me {
		return legacy, nil
	}
	return payout.OwnedID(me, key), nil
}

// isBackend reports whether a key creates payouts, and so reaches only those it created.
func isBackend(k Key) bool { return slices.Contains(k.Scopes, ScopeCreate) }

// mayReach reports whether the key may read or steer the payout: an operator's key any, a backend's the payouts it
// created (and those that name no creator: started outside the API).
func mayReach(k Key, st payout.State) bool {
	return !isBackend(k) || st.CreatedBy == "" || st.CreatedBy == k.Name
}

// readOwn reads a payout as the caller may: another backend's payout is not found, as if it did not exist.
// A read that Temporal refuses for want of capacity or time is made again until ctx ends (untilServed).
func (s *Server) readOwn(ctx context.Context, c echo.Context, id string) (payout.State, string, error) {
	st, source, _, err := s.readOwnDescribed(ctx, c, id)
	return st, source, err
}

// readOwnDescribed is readOwn that also returns the Describe it read the state from.
func (s *Server) readOwnDescribed(ctx context.Context, c echo.Context, id string) (payout.State, string, *workflowservice.DescribeWorkflowExecutionResponse, error) {
	var st payout.State
	var source string
	var desc *workflowservice.DescribeWorkflowExecutionResponse
	err := untilServed(ctx, func(ctx context.Context) (err error) {
		st, source, desc, err = s.readDescribed(ctx, id)
		return err
	})
	if err != nil {
		return st, source, nil, err
	}
	s.normaliseFailure(ctx, &st)
	if !mayReach(caller(c), st) {
		return payout.State{}, "", nil, apiError(http.StatusNotFound, "payout_not_found", "no payout with id "+id)
	}
	return st, source, desc, nil
}
