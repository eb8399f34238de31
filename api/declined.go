package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/payoutflow/payoutflow/payout"
)

// declinedWait bounds the wait for a payout that policy declined outright to end: its workflow cancels it at its
// first task, without calling the provider.
const declinedWait = 10 * time.Second

// declined answers the create of a payout that policy declined outright: 201 with its final state (cancelled, the
// policy's reason in approval and failure), so that the backend learns of the decline in the answer. Should the
// workflow not end in time (no worker runs), the answer is the state the payout has so far.
func (s *Server) declined(c echo.Context, run client.WorkflowRun, so payout.State) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), declinedWait)
	defer cancel()
	var final payout.State
	if err := run.Get(ctx, &final); err != nil {
		s.logger(c.Request().Context()).Warn("a payout declined by policy did not end in time; answered with its state so far",
			"payout_id", so.ID, "error", err)
		if st, err := s.state(c.Request().Context(), so.ID); err == nil {
			so = st
		}
		return c.JSON(http.StatusCreated, so)
	}
	return c.JSON(http.StatusCreated, final)
}
