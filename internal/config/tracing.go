package config

import (
	"fmt"

	"go.temporal.io/sdk/client"
)

// traceClient adds the tracing interceptor to a Temporal client's options when the process traces (c.Tracing): it
// carries a trace from the API's calls into the payout's workflow, and from the workflow into its activities.
func (c Config) traceClient(opts *client.Options) error {
	ic, err := c.Tracing.Interceptor()
	if err != nil {
		return fmt.Errorf("tracing interceptor: %w", err)
	}
	if ic != nil {
		opts.Interceptors = append(opts.Interceptors, ic)
	}
	return nil
}
