package api

import "time"

// defaultVerifyWait is Config.VerifyWait when zero: bePaid's sandbox waits 10 s for the answer; 2 s are left for
// the network and the provider.
const defaultVerifyWait = 8 * time.Second

// verifyGrace is how long before the API stops waiting the payout must have taken the question
// (providers.Verification.AnswerBy): time for its answer to reach the API, and for clocks that differ a little.
const verifyGrace = time.Second

// verifyWait is how long the API waits for a payout's answer to a provider's verification.
func (s *Server) verifyWait() time.Duration {
	if s.cfg.VerifyWait > 0 {
		return s.cfg.VerifyWait
	}
	return defaultVerifyWait
}
