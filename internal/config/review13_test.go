package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Review of issue 13: "https://:8443" has a port and no host name; providers cannot call it back.
func TestLoad_AnHTTPSURLWithoutAHostNameIsRefused(t *testing.T) {
	for _, name := range []string{"PUBLIC_URL", "BANK131_BASE_URL", "MANDARIN_BASE_URL"} {
		t.Run(name, func(t *testing.T) {
			isolate(t)
			for k, v := range production {
				t.Setenv(k, v)
			}
			t.Setenv(name, "https://:8443")
			_, err := Load()
			require.Error(t, err, "%s=https://:8443 (no host) is accepted", name)
			require.Contains(t, err.Error(), name)
		})
	}
}

// Review of issue 13: BEPAID_TEST is on only when exactly "true"; "1" or "TRUE" sends live transactions without a word.
func TestLoad_BePaidTestIsHonouredOrRefusedNeverQuietlyLive(t *testing.T) {
	for _, v := range []string{"1", "TRUE", "True", "yes"} {
		t.Run(v, func(t *testing.T) {
			isolate(t)
			for k, v := range production {
				t.Setenv(k, v)
			}
			t.Setenv("BEPAID_TEST", v)
			c, err := Load()
			if err == nil {
				require.True(t, c.BePaid.Test, "BEPAID_TEST=%q loads as live (test mode off)", v)
			}
		})
	}
}

// Review of issue 13: an Authorization header given as gRPC metadata is a credential like TEMPORAL_API_KEY; with
// TEMPORAL_TLS=false to another host it travels in plaintext, which the API key rule refuses.
func TestLoad_AnAuthorizationHeaderInPlaintextToAnotherHostStopsTheStart(t *testing.T) {
	isolate(t)
	for k, v := range production {
		t.Setenv(k, v)
	}
	t.Setenv("TEMPORAL_ADDRESS", "temporal.example.com:7233")
	t.Setenv("TEMPORAL_TLS", "false")
	t.Setenv("TEMPORAL_GRPC_META_AUTHORIZATION", "Bearer secret-token")
	c, err := Load()
	require.Error(t, err, "the connection is %q and sends Authorization", c.TemporalTLS())
}
