package api

import (
	"context"
	"log/slog"
	"sync"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/workflows"
)

// readState reads a payout's state (readRawState) with its failure in payoutflow's vocabulary, however old the
// code that recorded it (payout.State.NormaliseFailure).
func (s *Server) readState(ctx context.Context, id string) (payout.State, string, error) {
	st, source, err := s.readRawState(ctx, id)
	if err == nil {
		s.normaliseFailure(ctx, &st)
	}
	return st, source, err
}

// normaliseFailure reads the state's failure in the vocabulary, and logs, once per provider and code, a provider's
// code that its table has not (it reads as payout.FailureProviderRejected).
func (s *Server) normaliseFailure(ctx context.Context, st *payout.State) {
	if code := st.NormaliseFailure(); code != "" {
		if _, seen := unmappedCodes.LoadOrStore(st.Provider+"\x00"+code, true); !seen {
			s.logger(ctx).Warn("provider failure code not in the provider's table: "+payout.FailureProviderRejected,
				slog.String("payout_id", st.ID), slog.String("provider", st.Provider), slog.String("provider_code", code))
		}
	}
}

// unmappedCodes are the provider codes logged as unmapped, by provider and code.
var unmappedCodes sync.Map

// listedFailure is the failure of a listed payout, from the state its workflow published to its memo; nil when it
// has none, or published none (a payout of release 1: GET /v1/payouts/{id} reads it).
func (s *Server) listedFailure(ctx context.Context, memo *commonpb.Memo) *payout.Failure {
	p, ok := memo.GetFields()[workflows.MemoState]
	if !ok {
		return nil
	}
	var st payout.State
	if err := s.cfg.DataConverter.FromPayload(p, &st); err != nil {
		s.logger(ctx).Warn("read published state of a listed payout", slog.Any("error", err))
		return nil
	}
	s.normaliseFailure(ctx, &st)
	return st.Failure
}
