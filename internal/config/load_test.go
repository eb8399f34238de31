package config

import (
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

// isolate clears the variables these tests read and hides the Temporal CLI's own config file, so that the
// machine's environment cannot change a result. TEMPORAL_GRPC_META_* stay unset: set empty, one removes the config
// file's header of that name (envconfig).
func isolate(t *testing.T) {
	t.Helper()
	for _, name := range []string{
		"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_TLS", "TEMPORAL_TLS_CLIENT_CERT_PATH",
		"TEMPORAL_TLS_CLIENT_CERT_DATA", "TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_CLIENT_KEY_DATA",
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH", "TEMPORAL_TLS_SERVER_CA_CERT_DATA", "TEMPORAL_TLS_SERVER_NAME",
		"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "TEMPORAL_PROFILE", "TEMPORAL_CONFIG_FILE",
		"TEMPORAL_CODEC_ENDPOINT", "TEMPORAL_CODEC_AUTH", "TEMPORAL_CLIENT_AUTHORITY", "BEPAID_TEST", "MANDARIN_PAYMENT_PAGE",
		"PUBLIC_URL", "API_ADDR", "TRUSTED_PROXIES",
		"BANK131_BASE_URL", "BANK131_PROJECT", "BEPAID_BASE_URL", "BEPAID_SHOP_ID",
		"MANDARIN_BASE_URL", "MANDARIN_MERCHANT_ID", "PPROF", "TEMPORAL_GRPC_COMPRESSION", "WORKER_CACHE_SIZE",
		"WORKER_WORKFLOW_TASKS", "WORKER_ACTIVITIES", "WORKER_WORKFLOW_POLLERS", "WORKER_ACTIVITY_POLLERS",
		"WORKER_STOP_TIMEOUT",
	} {
		t.Setenv(name, "")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
}

// production is a complete production environment: every variable Load requires, right.
var production = map[string]string{
	"PUBLIC_URL":           "https://payouts.example.com",
	"BANK131_PROJECT":      "project",
	"BANK131_BASE_URL":     "https://proxy.bank131.ru",
	"BEPAID_SHOP_ID":       "shop",
	"BEPAID_BASE_URL":      "https://gateway.bepaid.by",
	"MANDARIN_MERCHANT_ID": "1",
	"MANDARIN_BASE_URL":    "https://secure.mandarinpay.com",
}

func TestLoad_ProductionTakesOnlyExplicitHTTPSAddresses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr []string // substrings of the error; none: it loads
	}{
		{"complete", nil, nil},
		{"no PUBLIC_URL: providers would call back 127.0.0.1", map[string]string{"PUBLIC_URL": ""}, []string{"PUBLIC_URL", "required"}},
		{"a plain http PUBLIC_URL", map[string]string{"PUBLIC_URL": "http://payouts.example.com"}, []string{"PUBLIC_URL", "https"}},
		{"a PUBLIC_URL without a host", map[string]string{"PUBLIC_URL": "https://"}, []string{"PUBLIC_URL", "https"}},
		{"a PUBLIC_URL with a query", map[string]string{"PUBLIC_URL": "https://payouts.example.com/?x=1"}, []string{"PUBLIC_URL", "query"}},
		{"Bank 131 on without its host: no silent demo host", map[string]string{"BANK131_BASE_URL": ""}, []string{"BANK131_BASE_URL", "required", "demo.bank131.ru", "proxy.bank131.ru"}},
		{"bePaid on without its host: no silent production host", map[string]string{"BEPAID_BASE_URL": ""}, []string{"BEPAID_BASE_URL", "required"}},
		{"Mandarin on without its host", map[string]string{"MANDARIN_BASE_URL": ""}, []string{"MANDARIN_BASE_URL", "required"}},
		{"a provider over plain http", map[string]string{"MANDARIN_BASE_URL": "http://secure.mandarinpay.com"}, []string{"MANDARIN_BASE_URL", "https"}},
		{"a provider off needs no host", map[string]string{"BEPAID_SHOP_ID": "", "BEPAID_BASE_URL": ""}, nil},
		{"a trusted proxy that is no address", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,proxy"}, []string{"TRUSTED_PROXIES", `"proxy"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			for k, v := range production {
				t.Setenv(k, v)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, err := Load()
			if len(tc.wantErr) == 0 {
				require.NoError(t, err)
				require.Equal(t, production["PUBLIC_URL"], c.PublicURL)
				return
			}
			require.Error(t, err)
			for _, want := range tc.wantErr {
				require.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestLoadDev_NeedsNothingAndCallsBackOnLoopback(t *testing.T) {
	isolate(t)
	t.Setenv("API_ADDR", ":8099")
	c, err := LoadDev()
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8099", c.PublicURL)
	require.Equal(t, "localhost:7233", c.TemporalAddress)
	require.Equal(t, "default", c.Namespace)
	require.Equal(t, "plaintext", c.TemporalTLS())
	require.NoError(t, c.EmbeddedTemporal())
}

func TestLoad_TrustedProxiesAreNetworksOrAddresses(t *testing.T) {
	isolate(t)
	for k, v := range production {
		t.Setenv(k, v)
	}
	t.Setenv("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.10 ,2001:db8::1")
	c, err := Load()
	require.NoError(t, err)
	var got []string
	for _, n := range c.TrustedProxies {
		got = append(got, n.String())
	}
	require.Equal(t, []string{"10.0.0.0/8", "192.0.2.10/32", "2001:db8::1/128"}, got)
}

// writeFile writes a file under a test directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestLoad_TemporalSettingsThatCannotBeHonouredStopTheStart(t *testing.T) {
	profiles := writeFile(t, "temporal.toml", `
[profile.prod]
address = "prod.example.com:7233"
namespace = "payouts"
[profile.prod.tls]
server_name = "temporal.example.com"
`)
	misspelt := writeFile(t, "misspelt.toml", `
[profile.default]
address = "prod.example.com:7233"
[profile.default.tls]
client_cert_pth = "/secrets/client.pem"
`)
	plainAuth := writeFile(t, "auth.toml", `
[profile.default]
address = "temporal.example.com:7233"
grpc_meta = { AUTHORIZATION = "Bearer secret-token" }
[profile.default.tls]
disabled = true
`)
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr []string
	}{
		{"TLS neither true nor false", map[string]string{"TEMPORAL_TLS": "yes"}, []string{"TEMPORAL_TLS", `"yes"`}},
		{"host verification neither true nor false", map[string]string{"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION": "sometimes"}, []string{"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"}},
		{"a client certificate with TLS off", map[string]string{"TEMPORAL_TLS": "false", "TEMPORAL_TLS_CLIENT_CERT_PATH": "/c.pem", "TEMPORAL_TLS_CLIENT_KEY_PATH": "/k.pem"}, []string{"TEMPORAL_TLS is false", "TEMPORAL_TLS_CLIENT_CERT_PATH"}},
		{"an API key in plaintext to another host", map[string]string{"TEMPORAL_ADDRESS": "temporal.example.com:7233", "TEMPORAL_TLS": "false", "TEMPORAL_API_KEY": "k"}, []string{"TEMPORAL_API_KEY", "plaintext"}},
		{"an Authorization header in plaintext to another host", map[string]string{"TEMPORAL_ADDRESS": "temporal.example.com:7233", "TEMPORAL_GRPC_META_AUTHORIZATION": "Bearer t"}, []string{"authorization", "plaintext", "TEMPORAL_TLS=true"}},
		{"the config file's Authorization header in plaintext to another host", map[string]string{"TEMPORAL_CONFIG_FILE": plainAuth}, []string{"authorization", "plaintext", "temporal.example.com:7233"}},
		{"a certificate file that is not there", map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": "/nonexistent/c.pem", "TEMPORAL_TLS_CLIENT_KEY_PATH": "/nonexistent/k.pem"}, []string{"TLS", "/nonexistent/c.pem"}},
		{"a client certificate without its key", map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": "/nonexistent/c.pem"}, []string{"TLS", "key"}},
		{"a remote codec", map[string]string{"TEMPORAL_CODEC_ENDPOINT": "https://codec.example.com"}, []string{"TEMPORAL_CODEC_ENDPOINT", "CODEC_KEY"}},
		{"a config file that is not there", map[string]string{"TEMPORAL_CONFIG_FILE": "/nonexistent/temporal.toml"}, []string{"TEMPORAL_CONFIG_FILE"}},
		{"a profile the file lacks", map[string]string{"TEMPORAL_CONFIG_FILE": profiles, "TEMPORAL_PROFILE": "staging"}, []string{"staging"}},
		{"a misspelt key in the file", map[string]string{"TEMPORAL_CONFIG_FILE": misspelt}, []string{"client_cert_pth"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			for k, v := range production {
				t.Setenv(k, v)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := Load()
			require.Error(t, err)
			for _, want := range tc.wantErr {
				require.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestLoad_TemporalConnectionComesFromTheProfileAndTheVariables(t *testing.T) {
	profiles := writeFile(t, "temporal.toml", `
[profile.prod]
address = "prod.example.com:7233"
namespace = "payouts"
api_key = "from-the-file"
[profile.prod.tls]
server_name = "temporal.example.com"
`)
	isolate(t)
	for k, v := range production {
		t.Setenv(k, v)
	}
	t.Setenv("TEMPORAL_CONFIG_FILE", profiles)
	t.Setenv("TEMPORAL_PROFILE", "prod")
	c, err := Load()
	require.NoError(t, err)
	require.Equal(t, "prod.example.com:7233", c.TemporalAddress)
	require.Equal(t, "payouts", c.Namespace)
	require.Equal(t, "TLS, API key", c.TemporalTLS())
	require.Equal(t, "temporal.example.com", c.temporal.options.ConnectionOptions.TLS.ServerName)
	require.Error(t, c.EmbeddedTemporal(), "make run's own server cannot take TLS")

	t.Setenv("TEMPORAL_ADDRESS", "other.example.com:7233") // a variable wins over the file
	c, err = Load()
	require.NoError(t, err)
	require.Equal(t, "other.example.com:7233", c.TemporalAddress)

	// An API key alone turns TLS on, as in every Temporal tool.
	t.Setenv("TEMPORAL_CONFIG_FILE", "")
	t.Setenv("TEMPORAL_PROFILE", "")
	t.Setenv("TEMPORAL_API_KEY", "k")
	c, err = Load()
	require.NoError(t, err)
	require.Equal(t, "TLS, API key", c.TemporalTLS())
}

func TestLoadDev_IgnoresTheCLIsDefaultProfile(t *testing.T) {
	isolate(t)
	cli := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "temporalio", "temporal.toml")
	require.NoError(t, os.MkdirAll(filepath.Dir(cli), 0o755))
	require.NoError(t, os.WriteFile(cli, []byte("[profile.default]\naddress = \"cloud.example.com:7233\"\napi_key = \"k\"\n"), 0o600))

	c, err := LoadDev()
	require.NoError(t, err)
	require.Equal(t, "localhost:7233", c.TemporalAddress)
	require.NoError(t, c.EmbeddedTemporal())

	for k, v := range production {
		t.Setenv(k, v)
	}
	c, err = Load() // the worker and the API read it, as the Temporal CLI does
	require.NoError(t, err)
	require.Equal(t, "cloud.example.com:7233", c.TemporalAddress)
	require.Equal(t, "TLS, API key", c.TemporalTLS())

	t.Setenv("TEMPORAL_TLS", "true")
	c, err = LoadDev()
	require.NoError(t, err)
	err = c.EmbeddedTemporal()
	require.Error(t, err)
	require.Contains(t, err.Error(), "TEMPORAL_TLS")
}

func TestDialHint_NamesTheSettingToCheck(t *testing.T) {
	plain := client.Options{}
	tlsNoCert := client.Options{ConnectionOptions: client.ConnectionOptions{TLS: &tls.Config{}}}
	tlsCert := client.Options{ConnectionOptions: client.ConnectionOptions{TLS: &tls.Config{Certificates: []tls.Certificate{{}}}}}
	for _, tc := range []struct {
		name string
		opts client.Options
		err  string
		want string
	}{
		{"an unknown CA", tlsNoCert, "tls: failed to verify certificate: x509: certificate signed by unknown authority", "TEMPORAL_TLS_SERVER_CA_CERT_PATH"},
		{"mTLS refused with an alert", tlsNoCert, "error reading server preface: remote error: tls: certificate required", "TEMPORAL_TLS_CLIENT_CERT_PATH"},
		{"mTLS refused by a closed pipe (TLS 1.3)", tlsNoCert, "write tcp 127.0.0.1:1->127.0.0.1:2: write: broken pipe", "TEMPORAL_TLS_CLIENT_CERT_PATH"},
		{"a closed pipe though a certificate was sent", tlsCert, "write: broken pipe", "TEMPORAL_ADDRESS"},
		{"plaintext to a TLS frontend", plain, "error reading server preface: EOF", "TEMPORAL_TLS=true"},
		{"nothing listening", plain, "dial tcp 127.0.0.1:7233: connect: connection refused", "nothing answers there: check TEMPORAL_ADDRESS"},
		{"TLS to a plaintext frontend", tlsNoCert, "tls: first record does not look like a TLS handshake", "TEMPORAL_TLS=false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, dialHint(tc.opts, errors.New(tc.err)), tc.want)
		})
	}
}

func TestLoad_BooleansAreParsedOrRefused(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        bool
		wantErr     bool
		get         func(Config) bool
	}{
		{"BEPAID_TEST", "", false, false, func(c Config) bool { return c.BePaid.Test }},
		{"BEPAID_TEST", "1", true, false, func(c Config) bool { return c.BePaid.Test }},
		{"BEPAID_TEST", "TRUE", true, false, func(c Config) bool { return c.BePaid.Test }},
		{"BEPAID_TEST", "0", false, false, func(c Config) bool { return c.BePaid.Test }},
		{"BEPAID_TEST", "yes", false, true, nil},
		{"MANDARIN_PAYMENT_PAGE", "", true, false, func(c Config) bool { return c.Mandarin.PaymentPage }},
		{"MANDARIN_PAYMENT_PAGE", "False", false, false, func(c Config) bool { return c.Mandarin.PaymentPage }},
		{"MANDARIN_PAYMENT_PAGE", "0", false, false, func(c Config) bool { return c.Mandarin.PaymentPage }},
		{"MANDARIN_PAYMENT_PAGE", "1", true, false, func(c Config) bool { return c.Mandarin.PaymentPage }},
		{"MANDARIN_PAYMENT_PAGE", "no", false, true, nil},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			isolate(t)
			for k, v := range production {
				t.Setenv(k, v)
			}
			t.Setenv(tc.name, tc.value)
			c, err := Load()
			if tc.wantErr {
				require.Error(t, err)
				require.Contains(t, err.Error(), tc.name)
				require.Contains(t, err.Error(), tc.value)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, tc.get(c))
		})
	}
}

func TestLoadDev_RefusesAnAuthorizationHeaderForItsOwnServer(t *testing.T) {
	isolate(t)
	t.Setenv("TEMPORAL_GRPC_META_X_TENANT", "payouts")
	c, err := LoadDev()
	require.NoError(t, err)
	require.NoError(t, c.EmbeddedTemporal(), "a header that is no credential is fine")

	t.Setenv("TEMPORAL_GRPC_META_AUTHORIZATION", "Bearer t")
	c, err = LoadDev()
	require.NoError(t, err, "plaintext to loopback may carry it")
	err = c.EmbeddedTemporal()
	require.Error(t, err)
	require.Contains(t, err.Error(), "Authorization header")
	require.Contains(t, err.Error(), "TEMPORAL_GRPC_META_AUTHORIZATION")
}
