// Package imports holds the test that keeps the production binaries, cmd/worker and cmd/api, free of what only
// development and tests need: the provider sandboxes, their fault injection and common machinery, test helpers and the embedded
// Temporal server.
package imports
