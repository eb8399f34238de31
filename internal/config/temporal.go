package config

import (
	"fmt"
	"net"
	"os"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
)

// temporalConn is how a process connects to Temporal, read the way every Temporal tool reads it (envconfig).
type temporalConn struct {
	options client.Options // address, namespace, TLS, API key and gRPC headers; no codec, no logger
	profile envconfig.ClientConfigProfile
	from    string // where it was read, for errors
}

// temporalEnv is the environment as envconfig reads it, except that a variable set to empty is unset, as for every
// other payoutflow variable (envconfig would turn TLS on for an empty TEMPORAL_TLS_CLIENT_CERT_PATH).
type temporalEnv struct{}

func (temporalEnv) Environ() []string { return os.Environ() }

func (temporalEnv) LookupEnv(name string) (string, bool) {
	v := strings.TrimSpace(os.Getenv(name))
	return v, v != ""
}

// loadTemporal reads the Temporal connection: the TEMPORAL_* variables over a profile (TEMPORAL_PROFILE, default
// "default") of the config file (TEMPORAL_CONFIG_FILE, default the Temporal CLI's own). `make run` (dev) reads a file
// only when TEMPORAL_CONFIG_FILE or TEMPORAL_PROFILE asks for one, so that a CLI profile for another cluster does not
// leak into it. A setting that cannot be honoured is an error, never a quiet plaintext connection.
func loadTemporal(dev bool) (temporalConn, error) {
	env := temporalEnv{}
	for _, name := range []string{"TEMPORAL_TLS", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"} {
		if v, ok := env.LookupEnv(name); ok {
			switch strings.ToLower(v) {
			case "true", "false", "1", "0":
			default:
				return temporalConn{}, fmt.Errorf("%s: %q is not true or false", name, v)
			}
		}
	}
	file, fileSet := env.LookupEnv("TEMPORAL_CONFIG_FILE")
	profile, profileSet := env.LookupEnv("TEMPORAL_PROFILE")
	if fileSet {
		if _, err := os.Stat(file); err != nil {
			return temporalConn{}, fmt.Errorf("TEMPORAL_CONFIG_FILE: %w", err)
		}
	}
	noFile := dev && !fileSet && !profileSet
	t := temporalConn{from: "the TEMPORAL_* variables"}
	if !noFile {
		if !fileSet {
			file = envconfig.DefaultConfigFilePath()
		}
		if profile == "" {
			profile = envconfig.DefaultConfigFileProfile
		}
		if _, err := os.Stat(file); err == nil {
			t.from += fmt.Sprintf(" over profile %q of %s", profile, file)
		}
	}
	var err error
	t.profile, err = envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{
		ConfigFilePath:   file,
		ConfigFileStrict: true, // a misspelt key is a setting not honoured
		DisableFile:      noFile,
		EnvLookup:        env,
	})
	if err != nil {
		return t, fmt.Errorf("Temporal client configuration (%s): %w", t.from, err)
	}
	p := t.profile
	if p.Codec != nil {
		return t, fmt.Errorf("TEMPORAL_CODEC_ENDPOINT (or the profile's codec, %s): payoutflow encrypts payloads "+
			"with its own codec (CODEC_KEY) and sends no payload to a remote codec; unset it", t.from)
	}
	if p.TLS != nil && p.TLS.Disabled {
		if set := tlsSettings(p.TLS); len(set) > 0 {
			return t, fmt.Errorf("TEMPORAL_TLS is false (%s) but %s given: it would be ignored; set TEMPORAL_TLS=true "+
				"or remove it", t.from, strings.Join(set, ", "))
		}
		if p.APIKey != "" && !loopbackHost(p.Address) {
			return t, fmt.Errorf("TEMPORAL_API_KEY would travel in plaintext to %s (TEMPORAL_TLS is false, %s); "+
				"set TEMPORAL_TLS=true", p.Address, t.from)
		}
	}
	if t.options, err = p.ToClientOptions(envconfig.ToClientOptionsRequest{}); err != nil {
		return t, fmt.Errorf("Temporal TLS settings (%s): %w", t.from, err)
	}
	if t.options.HostPort == "" {
		t.options.HostPort = "localhost:7233"
	}
	if h := t.authHeader(); h != "" && t.options.ConnectionOptions.TLS == nil && !loopbackHost(t.options.HostPort) {
		return t, fmt.Errorf("the gRPC header %s (TEMPORAL_GRPC_META_AUTHORIZATION or the profile's grpc_meta) would "+
			"travel in plaintext to %s (%s); set TEMPORAL_TLS=true", h, t.options.HostPort, t.from)
	}
	if t.options.Namespace == "" {
		t.options.Namespace = "default"
	}
	return t, nil
}

// authHeader names the gRPC header that carries a credential (Authorization, in any case), or "" when none is sent.
func (t temporalConn) authHeader() string {
	for k := range t.profile.GRPCMeta {
		if strings.EqualFold(k, "authorization") {
			return k
		}
	}
	return ""
}

// tlsSettings names the TLS settings given.
func tlsSettings(c *envconfig.ClientConfigTLS) []string {
	var set []string
	for _, s := range []struct {
		name string
		on   bool
	}{
		{"TEMPORAL_TLS_CLIENT_CERT_PATH/DATA", c.ClientCertPath != "" || len(c.ClientCertData) > 0},
		{"TEMPORAL_TLS_CLIENT_KEY_PATH/DATA", c.ClientKeyPath != "" || len(c.ClientKeyData) > 0},
		{"TEMPORAL_TLS_SERVER_CA_CERT_PATH/DATA", c.ServerCACertPath != "" || len(c.ServerCACertData) > 0},
		{"TEMPORAL_TLS_SERVER_NAME", c.ServerName != ""},
		{"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", c.DisableHostVerification},
	} {
		if s.on {
			set = append(set, s.name)
		}
	}
	return set
}

// loopbackHost reports whether host:port names this machine.
func loopbackHost(hostPort string) bool {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		host = hostPort
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// TemporalTLS describes how the client reaches Temporal: "plaintext", or TLS with what it presents and trusts.
func (c Config) TemporalTLS() string {
	o := c.temporal.options
	auth := ""
	if c.temporal.authHeader() != "" {
		auth = ", Authorization header"
	}
	if o.ConnectionOptions.TLS == nil {
		if o.Credentials != nil {
			return "plaintext, API key" + auth
		}
		return "plaintext" + auth
	}
	parts := []string{"TLS"}
	if tc := c.temporal.profile.TLS; tc != nil {
		if tc.ServerCACertPath != "" || len(tc.ServerCACertData) > 0 {
			parts = append(parts, "private CA")
		}
		if tc.ClientCertPath != "" || len(tc.ClientCertData) > 0 {
			parts = append(parts, "client certificate")
		}
		if tc.DisableHostVerification {
			parts = append(parts, "host NOT verified")
		}
	}
	if o.Credentials != nil {
		parts = append(parts, "API key")
	}
	return strings.Join(parts, ", ") + auth
}

// EmbeddedTemporal checks that the client may connect to `make run`'s own Temporal server, which serves plaintext on
// loopback: TLS, an API key or an Authorization header asked for cannot be honoured there.
func (c Config) EmbeddedTemporal() error {
	o := c.temporal.options
	if o.ConnectionOptions.TLS != nil || o.Credentials != nil || c.temporal.authHeader() != "" {
		return fmt.Errorf("the Temporal connection asks for %s (%s), but make run's own Temporal server serves "+
			"plaintext on loopback: unset TEMPORAL_TLS*, TEMPORAL_API_KEY, TEMPORAL_GRPC_META_AUTHORIZATION, "+
			"TEMPORAL_PROFILE and TEMPORAL_CONFIG_FILE, "+
			"or run only -parts worker,api against your cluster", c.TemporalTLS(), c.temporal.from)
	}
	return nil
}

// dialHint says what to check when the client cannot reach Temporal, from what it tried and how it failed.
// hintNothingAnswers is dialHint's for an address where nothing answers (yet): Temporal down, not a misconfiguration
// that can never work.
const hintNothingAnswers = "nothing answers there: check TEMPORAL_ADDRESS"

func dialHint(o client.Options, err error) string {
	msg := err.Error()
	has := func(subs ...string) bool {
		for _, sub := range subs {
			if strings.Contains(msg, sub) {
				return true
			}
		}
		return false
	}
	mtls := "set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH to a certificate its CA signed"
	tc := o.ConnectionOptions.TLS
	switch {
	case has("x509:"):
		return "the frontend's certificate is not trusted: set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA that " +
			"signed it (and TEMPORAL_TLS_SERVER_NAME if it names another host)"
	case has("certificate required", "bad certificate", "unknown certificate authority"):
		return "the frontend wants a client certificate (mTLS) and refused ours or none: " + mtls
	case has("connection refused", "no such host", "i/o timeout", "context deadline exceeded"):
		return hintNothingAnswers
	case tc == nil:
		return "the connection is plaintext: if the frontend takes TLS, set TEMPORAL_TLS=true (and " +
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH for a private CA)"
	case has("first record does not look like a TLS handshake"):
		return "the frontend does not speak TLS there: check TEMPORAL_ADDRESS, or set TEMPORAL_TLS=false"
	case len(tc.Certificates) == 0 && tc.GetClientCertificate == nil && has("broken pipe", "connection reset", "EOF"):
		// TLS 1.3 refuses a missing client certificate after the handshake: the client may see only a closed pipe.
		return "the frontend closed the connection after the TLS handshake: if it wants a client certificate " +
			"(mTLS), " + mtls
	}
	return "check TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_API_KEY"
}
