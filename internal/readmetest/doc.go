// Package readmetest runs the README's shell examples, and the commands `make run` prints, against the stack
// `make run` starts (cmd/dev, on free loopback ports): an example that does not parse, or that the API refuses as
// malformed, fails the test (README, "The examples are tested").
package readmetest
