// Package clustertest proves payoutflow's production topology on one machine (`make test-cluster`): PostgreSQL,
// the Temporal server as its own process on it (set up as deploy/temporal says, as docker-compose.temporal.yml does
// it), the namespace and search attributes, the provider sandboxes, two workers and the API as separate processes;
// payouts of every provider and method, one worker killed mid-run, and every payout finishing on the other, paid
// once by the sandboxes' ledgers; then the worker and the API with exactly the variables README's production block
// exports.
//
// The package holds only its test: go test ./internal/clustertest/ (skipped with -short, and where PostgreSQL is
// not installed, unless CI=true; scripts/install-postgresql.sh installs Debian's).
package clustertest
