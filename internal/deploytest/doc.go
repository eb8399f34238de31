// Package deploytest proves a deploy end to end, as an operator does it (README, "Deploying a new version"): the
// previous release's worker, built from its commit in RELEASES, takes payouts of every provider into each state
// a payout waits in (awaiting approval, half approved, submitted and polling, confirmed while the bank is in error,
// held for the balance, waiting for the payer's 3-D Secure); it is stopped, today's worker takes over, and every
// payout must finish as it should, paid once by the sandbox's ledger (a cancelled one never), with no workflow
// task failure in its history.
//
// The package holds only its test: go test ./internal/deploytest/ (two builds of cmd/dev, then about ten seconds;
// skipped with -short).
package deploytest
