// Package connecttest proves that payoutflow connects to Temporal as the environment says (README, "Connecting to
// Temporal"): real Temporal frontends serving TLS and mTLS with certificates the test makes, the worker and the API
// configured by TEMPORAL_* variables, a payout run through them, and a clear startup error for each setting that
// does not fit the server.
//
// The package holds only its test: go test ./internal/connecttest/ (it links the Temporal server).
package connecttest
