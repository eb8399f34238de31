// Package client is the Go client of payoutflow's REST API, for backends: it creates payouts under an idempotency
// key, reads, lists and waits for them, and confirms, cancels and resolves them. It uses the standard library only.
//
// A create is retried only with the same idempotency key (generated when not given), and a read only where it is
// safe; a confirm, cancel or resolve is retried only when the request provably did not reach the API. Every error
// the API answers is an *Error carrying its HTTP status, code, field, message and request id.
//
// The examples run against the real API: they are in the repository's integration tests
// (integration/client_example_test.go), which start payoutflow with a Temporal server in-process.
package client
