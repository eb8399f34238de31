// Package config reads payoutflow's configuration from environment variables and builds the Temporal client every
// process shares: same namespace, same codec.
package config

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/payoutflow/payoutflow/codec"
	"github.com/payoutflow/payoutflow/internal/telemetry"
	"github.com/payoutflow/payoutflow/metrics"
	"github.com/payoutflow/payoutflow/workflows"
)

// Config is payoutflow's configuration; every field has an environment variable (README, "Configuration").
type Config struct {
	TemporalAddress string        // TEMPORAL_ADDRESS (or the Temporal profile's address)
	Namespace       string        // TEMPORAL_NAMESPACE (or the Temporal profile's namespace)
	TaskQueue       string        // TASK_QUEUE
	APIAddr         string        // API_ADDR
	UIAddr          string        // UI_ADDR
	UIOrigin        string        // UI_ORIGIN: the Temporal UI origin allowed to call the codec endpoint
	CodecAddr       string        // CODEC_ADDR: the codec endpoint's own listener, loopback by default
	MetricsAddr     string        // METRICS_ADDR: the operators' listener (/metrics); "off" serves none
	MetricsRefresh  time.Duration // METRICS_REFRESH: how often the API counts the payout gauges from Temporal
	CodecURL        string        // CODEC_URL: the codec endpoint as Temporal UI reaches it
	CodecToken      string        // CODEC_TOKEN: bearer token for codec callers other than the UI (the CLI)
	APIKeysFile     string        // API_KEYS_FILE: the REST API's keys, hashed
	PolicyFile      string        // POLICY_FILE: the approval policy; none means one person approves each payout
	DataDir         string        // DATA_DIR
	PublicURL       string        // PUBLIC_URL: how the UI and providers reach the API; https outside `make run`
	TrustedProxies  []*net.IPNet  // TRUSTED_PROXIES: proxies whose X-Forwarded-For names the API's client
	CodecKeys       string        // CODEC_KEYS: the keyring, "id:base64key,..." with the current key first
	CodecKey        string        // CODEC_KEY: base64 of 32 bytes, a keyring of one
	CodecKeyFile    string        // CODEC_KEY_FILE: the keyring as a file, "id base64key" a line, current first
	ApprovalTimeout time.Duration // APPROVAL_TIMEOUT
	PollAfter       time.Duration // PROVIDER_POLL_AFTER
	PollMax         time.Duration // PROVIDER_POLL_MAX: the longest wait between two asks of a provider
	PollsPerRun     int           // PROVIDER_POLLS_PER_RUN: asks of a provider in one run before it continues as new
	WatchEvery      time.Duration // PROVIDER_WATCH_EVERY: how often to ask a provider that sends no webhook for the step
	VerifyWait      time.Duration // VERIFY_WAIT: how long a provider's verification waits for its payout's answer
	// HealthEvery and CredentialsEvery are how often readiness checks Temporal (HEALTH_CHECK_EVERY) and the
	// providers' credentials (PROVIDER_CHECK_EVERY).
	HealthEvery, CredentialsEvery time.Duration
	// PendingLimit is how long a provider may keep a payout pending before an operator is told, by provider:
	// PENDING_LIMIT_<PROVIDER> (PENDING_LIMIT_BANK131, ...); where not set, the provider's own (Bank 131 72h, bePaid
	// and Mandarin 24h).
	PendingLimit map[string]time.Duration
	LogLevel     slog.Level // LOG_LEVEL
	LogFormat    string     // LOG_FORMAT: text or json
	// Tracing is the process's tracing, set by its command from OTEL_EXPORTER_OTLP_ENDPOINT (telemetry.Setup); nil
	// is off.
	Tracing *telemetry.Tracing
	// Events are the endpoints backends receive signed events at (EVENTS_URL, EVENTS_SECRET, ...; events.go).
	Events Events
	// Perf sizes the process and what it spends per payout (PPROF, TEMPORAL_GRPC_COMPRESSION, WORKER_*; perf.go).
	Perf Perf

	Bank131  Bank131
	BePaid   BePaid
	Mandarin Mandarin

	temporal temporalConn // TEMPORAL_TLS*, TEMPORAL_API_KEY, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE (temporal.go)
}

// Mandarin configures the Mandarin client and the verification of its callbacks.
type Mandarin struct {
	BaseURL      string // MANDARIN_BASE_URL
	MerchantID   string // MANDARIN_MERCHANT_ID
	Secret       string // MANDARIN_SECRET: signs requests (X-Auth) and verifies callbacks (sign)
	Channel      string // MANDARIN_CHANNEL: the account payouts are paid from, openbank_direct or psb_direct
	BalanceCheck string // MANDARIN_BALANCE_CHECK: off, hold or fail
	PaymentPage  bool   // MANDARIN_PAYMENT_PAGE: allow payouts where the recipient enters the card on Mandarin's page
	DefaultEmail string // MANDARIN_DEFAULT_EMAIL: customerInfo.email when the recipient has none
	DefaultPhone string // MANDARIN_DEFAULT_PHONE: customerInfo.phone when the recipient has none
	SandboxAddr  string // MANDARIN_SANDBOX_ADDR: where `make run` serves the sandbox
}

// BePaid configures the bePaid client and the verification of its notifications.
type BePaid struct {
	BaseURL       string // BEPAID_BASE_URL
	ShopID        string // BEPAID_SHOP_ID
	SecretKey     string // BEPAID_SECRET_KEY
	PublicKeyFile string // BEPAID_PUBLIC_KEY_FILE: bePaid's key, verifies Content-Signature
	NotifyAuth    string // BEPAID_NOTIFY_AUTH: signature (default), basic or both: what authenticates notifications
	Test          bool   // BEPAID_TEST: send test transactions
	SandboxAddr   string // BEPAID_SANDBOX_ADDR: where `make run` serves the sandbox
}

// Bank131 configures the Bank 131 client and webhook verification.
type Bank131 struct {
	BaseURL        string // BANK131_BASE_URL
	Project        string // BANK131_PROJECT
	PrivateKeyFile string // BANK131_PRIVATE_KEY_FILE: our key, signs requests
	PublicKeyFile  string // BANK131_PUBLIC_KEY_FILE: the bank's key, verifies webhooks
	SandboxAddr    string // BANK131_SANDBOX_ADDR: where `make run` serves the sandbox
}

// Load reads the configuration of the worker and the API, which run against real providers: PUBLIC_URL is required
// and https, and so is the base URL of each provider that is on.
func Load() (Config, error) {
	c, err := load(false)
	if err != nil {
		return c, err
	}
	return c, c.checkProduction()
}

// LoadDev reads the configuration of `make run` (cmd/dev), which needs none: PUBLIC_URL defaults to the API on
// loopback and the providers are pointed at the sandboxes.
func LoadDev() (Config, error) { return load(true) }

func load(dev bool) (Config, error) {
	t, err := loadTemporal(dev)
	if err != nil {
		return Config{}, err
	}
	c := Config{
		temporal:        t,
		TemporalAddress: t.options.HostPort,
		Namespace:       t.options.Namespace,
		TaskQueue:       env("TASK_QUEUE", workflows.TaskQueue),
		APIAddr:         env("API_ADDR", ":8080"),
		UIAddr:          env("UI_ADDR", "127.0.0.1:8233"),
		DataDir:         env("DATA_DIR", ".data"),
		CodecKeys:       os.Getenv("CODEC_KEYS"),
		CodecKey:        os.Getenv("CODEC_KEY"),
		CodecKeyFile:    os.Getenv("CODEC_KEY_FILE"),
		Bank131: Bank131{
			BaseURL:        os.Getenv("BANK131_BASE_URL"),
			Project:        os.Getenv("BANK131_PROJECT"),
			PrivateKeyFile: os.Getenv("BANK131_PRIVATE_KEY_FILE"),
			PublicKeyFile:  os.Getenv("BANK131_PUBLIC_KEY_FILE"),
			SandboxAddr:    env("BANK131_SANDBOX_ADDR", "127.0.0.1:8131"),
		},
		BePaid: BePaid{
			BaseURL:       os.Getenv("BEPAID_BASE_URL"),
			ShopID:        os.Getenv("BEPAID_SHOP_ID"),
			SecretKey:     os.Getenv("BEPAID_SECRET_KEY"),
			PublicKeyFile: os.Getenv("BEPAID_PUBLIC_KEY_FILE"),
			NotifyAuth:    os.Getenv("BEPAID_NOTIFY_AUTH"),
			SandboxAddr:   env("BEPAID_SANDBOX_ADDR", "127.0.0.1:8132"),
		},
		Mandarin: Mandarin{
			BaseURL:      os.Getenv("MANDARIN_BASE_URL"),
			MerchantID:   os.Getenv("MANDARIN_MERCHANT_ID"),
			Secret:       os.Getenv("MANDARIN_SECRET"),
			Channel:      env("MANDARIN_CHANNEL", "openbank_direct"),
			BalanceCheck: env("MANDARIN_BALANCE_CHECK", "off"),
			DefaultEmail: os.Getenv("MANDARIN_DEFAULT_EMAIL"),
			DefaultPhone: os.Getenv("MANDARIN_DEFAULT_PHONE"),
			SandboxAddr:  env("MANDARIN_SANDBOX_ADDR", "127.0.0.1:8133"),
		},
	}
	if c.BePaid.Test, err = boolean("BEPAID_TEST", false); err != nil {
		return c, err
	}
	if c.Mandarin.PaymentPage, err = boolean("MANDARIN_PAYMENT_PAGE", true); err != nil {
		return c, err
	}
	switch c.Mandarin.BalanceCheck {
	case "off", workflows.BalanceHold, workflows.BalanceFail:
	default:
		return c, fmt.Errorf("MANDARIN_BALANCE_CHECK: %q is not one of off, hold, fail", c.Mandarin.BalanceCheck)
	}
	switch c.Mandarin.Channel {
	case "openbank_direct", "psb_direct":
	default:
		return c, fmt.Errorf("MANDARIN_CHANNEL: %q is not one of openbank_direct, psb_direct", c.Mandarin.Channel)
	}
	c.PublicURL = strings.TrimRight(os.Getenv("PUBLIC_URL"), "/")
	if c.PublicURL == "" && dev {
		c.PublicURL = "http://" + loopback(c.APIAddr)
	}
	if c.TrustedProxies, err = cidrs("TRUSTED_PROXIES"); err != nil {
		return c, err
	}
	c.UIOrigin = env("UI_ORIGIN", "http://"+loopback(c.UIAddr))
	c.CodecAddr = env("CODEC_ADDR", "127.0.0.1:8081")
	c.CodecURL = env("CODEC_URL", "http://"+loopback(c.CodecAddr)+"/codec")
	c.CodecToken = os.Getenv("CODEC_TOKEN")
	c.MetricsAddr = strings.TrimSpace(os.Getenv("METRICS_ADDR"))
	if c.MetricsRefresh, err = duration("METRICS_REFRESH", 30*time.Second); err != nil {
		return c, err
	}
	c.APIKeysFile = os.Getenv("API_KEYS_FILE")
	c.PolicyFile = os.Getenv("POLICY_FILE")
	if c.ApprovalTimeout, err = duration("APPROVAL_TIMEOUT", workflows.DefaultApprovalTimeout); err != nil {
		return c, err
	}
	if c.PollAfter, err = duration("PROVIDER_POLL_AFTER", workflows.DefaultPollAfter); err != nil {
		return c, err
	}
	if c.PollMax, err = duration("PROVIDER_POLL_MAX", 30*time.Minute); err != nil {
		return c, err
	}
	if c.WatchEvery, err = duration("PROVIDER_WATCH_EVERY", workflows.DefaultWatchEvery); err != nil {
		return c, err
	}
	if c.VerifyWait, err = duration("VERIFY_WAIT", 8*time.Second); err != nil {
		return c, err
	}
	if c.VerifyWait < 2*time.Second {
		return c, fmt.Errorf("VERIFY_WAIT: %s is under 2s: a payout whose worker died could never answer in time", c.VerifyWait)
	}
	if c.HealthEvery, err = duration("HEALTH_CHECK_EVERY", 10*time.Second); err != nil {
		return c, err
	}
	if c.CredentialsEvery, err = duration("PROVIDER_CHECK_EVERY", 5*time.Minute); err != nil {
		return c, err
	}
	if c.PollsPerRun, err = strconv.Atoi(env("PROVIDER_POLLS_PER_RUN", "100")); err != nil || c.PollsPerRun < 1 {
		return c, fmt.Errorf("PROVIDER_POLLS_PER_RUN: %q is not a positive number", os.Getenv("PROVIDER_POLLS_PER_RUN"))
	}
	c.PendingLimit = map[string]time.Duration{}
	for _, kv := range os.Environ() {
		key, _, _ := strings.Cut(kv, "=")
		name, ok := strings.CutPrefix(key, "PENDING_LIMIT_")
		if !ok || name == "" {
			continue
		}
		d, err := duration(key, 0)
		if err != nil {
			return c, err
		}
		if d > 0 {
			c.PendingLimit[strings.ToLower(name)] = d
		}
	}
	if c.Events, err = loadEvents(dev); err != nil {
		return c, err
	}
	if c.Perf, err = loadPerf(); err != nil {
		return c, err
	}
	if err := c.LogLevel.UnmarshalText([]byte(env("LOG_LEVEL", "info"))); err != nil {
		return c, fmt.Errorf("LOG_LEVEL: %w", err)
	}
	if c.LogFormat, err = logFormat(); err != nil {
		return c, err
	}
	return c, nil
}

// checkProduction holds the configuration of processes that face real providers to https addresses given
// explicitly: no default sends providers to a demo host, a production host, or a loopback callback.
func (c Config) checkProduction() error {
	if err := httpsURL("PUBLIC_URL", c.PublicURL, "the address at which providers reach our webhooks, "+
		"e.g. https://payouts.example.com"); err != nil {
		return err
	}
	for _, p := range []struct {
		on          bool
		name, hosts string
		url         string
	}{
		{c.Bank131.Project != "", "BANK131_BASE_URL", "https://demo.bank131.ru (demo) or https://proxy.bank131.ru (live)", c.Bank131.BaseURL},
		{c.BePaid.ShopID != "", "BEPAID_BASE_URL", "https://gateway.bepaid.by", c.BePaid.BaseURL},
		{c.Mandarin.MerchantID != "", "MANDARIN_BASE_URL", "https://secure.mandarinpay.com", c.Mandarin.BaseURL},
	} {
		if p.on || p.url != "" {
			if err := httpsURL(p.name, p.url, p.hosts); err != nil {
				return err
			}
		}
	}
	return nil
}

// httpsURL checks that the variable holds an absolute https URL; what says what belongs there.
func httpsURL(name, v, what string) error {
	if v == "" {
		return fmt.Errorf("%s is required outside make run: %s", name, what)
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", name, err)
	case u.Scheme != "https" || u.Hostname() == "":
		return fmt.Errorf("%s: %q is not an https URL (%s)", name, v, what)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%s: %q has a query, fragment or user: give the base URL only (%s)", name, v, what)
	}
	return nil
}

// cidrs reads a comma-separated list of networks (10.0.0.0/8) or single addresses.
func cidrs(name string) ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, s := range strings.Split(os.Getenv(name), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			ip := net.ParseIP(s)
			if ip == nil {
				return nil, fmt.Errorf("%s: %q is neither an address nor a network such as 10.0.0.0/8", name, s)
			}
			bits := 8 * len(ip.To4())
			if bits == 0 {
				bits = 128
			}
			s = fmt.Sprintf("%s/%d", s, bits)
		}
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is neither an address nor a network such as 10.0.0.0/8", name, s)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// Logger returns the process's structured logger.
func (c Config) Logger() *slog.Logger {
	return slog.New(NewLogHandler(os.Stderr, c.LogFormat, c.LogLevel))
}

// Codec returns the payload codec and its keyring (current key first) from CODEC_KEYS, CODEC_KEY_FILE or CODEC_KEY
// (one of them). With none set, dev reads or makes the keyring file DATA_DIR/keys/codec.key; the worker and the API
// refuse to run without a key (createIfMissing false).
func (c Config) Codec(createIfMissing bool) (*codec.Codec, []codec.Key, error) {
	var keys []codec.Key
	var err error
	from := ""
	for _, v := range []struct{ name, value string }{{"CODEC_KEYS", c.CodecKeys}, {"CODEC_KEY_FILE", c.CodecKeyFile}, {"CODEC_KEY", c.CodecKey}} {
		if v.value != "" && from != "" {
			return nil, nil, fmt.Errorf("set one of CODEC_KEYS, CODEC_KEY_FILE and CODEC_KEY: %s and %s are both set", from, v.name)
		}
		if v.value != "" {
			from = v.name
		}
	}
	switch {
	case c.CodecKeys != "":
		keys, err = codec.ParseKeyring(c.CodecKeys)
	case c.CodecKeyFile != "":
		var b []byte
		if b, err = os.ReadFile(c.CodecKeyFile); err == nil {
			keys, err = codec.ParseKeyring(string(b))
		}
	case c.CodecKey != "":
		var key []byte
		if key, err = codec.ParseKey(c.CodecKey); err == nil {
			keys = []codec.Key{{ID: codec.DerivedID(key), Secret: key}}
		}
	case createIfMissing:
		from = filepath.Join(c.DataDir, "keys", "codec.key")
		keys, err = codec.LoadOrCreateKeyring(from)
	default:
		return nil, nil, fmt.Errorf("set CODEC_KEYS (id:key,… the current first; a key is base64 of 32 random bytes, e.g. `openssl rand -base64 32`), CODEC_KEY_FILE or CODEC_KEY")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", from, err)
	}
	cd, err := codec.NewKeyring(keys)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", from, err)
	}
	return cd.WithLogger(c.Logger().With("component", "codec")), keys, nil
}

// Dial connects to Temporal with the codec on payloads and on failure messages.
func (c Config) Dial(cd *codec.Codec, log *slog.Logger) (client.Client, converter.DataConverter, error) {
	return c.dial(cd, log, client.Dial)
}

// DialLazy is Dial that does not fail when nothing answers at TEMPORAL_ADDRESS: it then returns a client that
// connects on its first call and again on each call until Temporal answers, so that a process started while
// Temporal is down serves its probes (readiness says temporal failing) and goes on once it is up. What can never
// work (an untrusted certificate, a refused client certificate, ...) fails as Dial does.
func (c Config) DialLazy(cd *codec.Codec, log *slog.Logger) (client.Client, converter.DataConverter, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, dc, err := c.dial(cd, log, func(o client.Options) (client.Client, error) { return client.DialContext(ctx, o) })
	if err == nil || !strings.Contains(err.Error(), hintNothingAnswers) {
		return cl, dc, err
	}
	log.Warn("Temporal does not answer: serving the probes (/readyz: temporal failing) and connecting in the background",
		"temporal", c.TemporalAddress, "error", err)
	return c.dial(cd, log, client.NewLazyClient)
}

func (c Config) dial(cd *codec.Codec, log *slog.Logger, dial func(client.Options) (client.Client, error)) (client.Client, converter.DataConverter, error) {
	opts, dc := c.clientOptions(cd, log)
	if err := c.traceClient(&opts); err != nil {
		return nil, nil, err
	}
	cl, err := dial(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("dial Temporal at %s (TEMPORAL_ADDRESS, namespace %s, %s): %w; %s",
			c.TemporalAddress, c.Namespace, c.TemporalTLS(), err, dialHint(opts, err))
	}
	return cl, dc, nil
}

// clientOptions are the Temporal client's options: the connection as configured, the codec, the SDK's logs and
// metrics, and what it spends (perf.go).
func (c Config) clientOptions(cd *codec.Codec, log *slog.Logger) (client.Options, converter.DataConverter) {
	dc := codec.DataConverter(cd)
	opts := c.temporal.options // TLS, API key and headers as configured (temporal.go)
	opts.HostPort, opts.Namespace = c.TemporalAddress, c.Namespace
	opts.ConnectionOptions.GrpcCompression = c.Perf.grpcCompression(opts.HostPort)
	opts.PayloadLimits.MemoSizeWarning = MemoSizeWarning
	opts.DataConverter, opts.FailureConverter = dc, codec.FailureConverter(dc)
	opts.Logger = SDKLogger(log)
	opts.MetricsHandler = metrics.SDK()
	return opts, dc
}

func env(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// boolean reads a true/false variable as strconv.ParseBool does (1, t, true, TRUE, True; 0, f, false, ...); anything
// else is an error, never a quiet default.
func boolean(name string, def bool) (bool, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: %q is not true or false", name, v)
	}
	return b, nil
}

func duration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive duration such as 30m or 24h", name, v)
	}
	return d, nil
}

// MetricsListen is where the process serves its operators' listener: METRICS_ADDR, def when it is not set, and
// nowhere ("") when it is "off".
func (c Config) MetricsListen(def string) string {
	switch c.MetricsAddr {
	case "":
		return def
	case "off":
		return ""
	}
	return c.MetricsAddr
}

// CodecPrivate reports whether the codec endpoint listens on loopback only. Beyond loopback its Origin check stops
// other web pages, not programs: it then belongs behind the operators' authenticating proxy.
func (c Config) CodecPrivate() bool {
	host, _, err := net.SplitHostPort(c.CodecAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// loopback turns a listen address like ":8080" into one a local client can dial, "127.0.0.1:8080".
func loopback(addr string) string {
	if strings.HasPrefix(addr, ":") {
		return "127.0.0.1" + addr
	}
	return strings.Replace(addr, "0.0.0.0:", "127.0.0.1:", 1)
}

// BalanceChecks are the balance checks before submit, by provider, as the API gives them to new payouts.
func (c Config) BalanceChecks() map[string]string {
	m := map[string]string{}
	if c.Mandarin.BalanceCheck != "off" {
		m["mandarin"] = c.Mandarin.BalanceCheck
	}
	return m
}
