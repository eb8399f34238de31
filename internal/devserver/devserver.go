// Package devserver runs, in the current process, a Temporal server persisted in a SQLite file
// and the Temporal Web UI, for local development (`make run`). It is modelled on the Temporal
// CLI's `temporal server start-dev`. SQLite persistence is for development only.
//
// Namespaces are created with a 24h retention (sqliteschema.NewNamespaceConfig): closed
// workflows are purged a day after they close, even though the database file persists.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const (
	defaultFrontendAddr = "127.0.0.1:7233"
	defaultUIAddr       = "127.0.0.1:8233"
	defaultNamespace    = "default"
	dbFileName          = "temporal.db"
	clusterName         = "active"
	loopback            = "127.0.0.1"
	readyTimeout        = 30 * time.Second
	startAttempts       = 3 // starts on newly picked ports after a start lost one of its ports to another program
)

// Options configures Start; the zero value of each field selects its default.
type Options struct {
	DataDir          string                              // SQLite file is DataDir/temporal.db; the dir is created if missing (required)
	FrontendAddr     string                              // frontend gRPC ip:port; default 127.0.0.1:7233; empty host or localhost means 127.0.0.1; port 0 picks a free one
	UIAddr           string                              // Web UI ip:port; default 127.0.0.1:8233; empty host or localhost means 127.0.0.1; port 0 picks a free one
	DisableUI        bool                                // do not start the Web UI
	Namespace        string                              // namespace created besides "default"; default "default"
	SearchAttributes map[string]enumspb.IndexedValueType // custom search attributes registered on the namespaces
	CodecEndpoint    string                              // codec server URL for the UI, e.g. http://127.0.0.1:8080/codec
	Logger           *slog.Logger                        // receives server logs at LogLevel and above; nil discards them
	LogLevel         slog.Leveler                        // minimum level of server logs; nil means slog.LevelWarn
}

// Server is a running embedded Temporal server and, unless disabled, its Web UI.
type Server struct {
	srv          temporal.Server
	ui           *uiserver.Server
	uiDone       chan struct{}
	frontendAddr string
	uiURL        string
	quietLogs    *atomic.Bool
	stopOnce     sync.Once
	stopErr      error
}

// Start starts the server and the UI and returns once both answer (or ctx ends, or 30s pass).
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("devserver: DataDir is required")
	}
	if opts.Namespace == "" {
		opts.Namespace = defaultNamespace
	}
	namespaces := []string{defaultNamespace}
	if opts.Namespace != defaultNamespace {
		namespaces = append(namespaces, opts.Namespace)
	}

	feHost, fePort, err := splitAddr(opts.FrontendAddr, defaultFrontendAddr)
	if err != nil {
		return nil, fmt.Errorf("devserver: frontend address (TEMPORAL_ADDRESS): %w", err)
	}
	if fePort != 0 {
		if err := checkPortFree(feHost, fePort); err != nil {
			return nil, fmt.Errorf("devserver: Temporal frontend port %d is not free: %w; stop whatever listens there or set TEMPORAL_ADDRESS to another host:port", fePort, err)
		}
	}
	var uiHost string
	var uiPort int
	if !opts.DisableUI {
		if uiHost, uiPort, err = splitAddr(opts.UIAddr, defaultUIAddr); err != nil {
			return nil, fmt.Errorf("devserver: UI address (UI_ADDR): %w", err)
		}
		if uiPort != 0 && uiPort == fePort {
			return nil, fmt.Errorf("devserver: UI port %d is the frontend port; set UI_ADDR to another host:port", uiPort)
		}
		if uiPort != 0 {
			if err := checkPortFree(uiHost, uiPort); err != nil {
				return nil, uiPortError(uiPort, err)
			}
		}
	}

	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("devserver: create data dir: %w", err)
	}
	sqlConf, err := prepareDB(filepath.Join(opts.DataDir, dbFileName), namespaces, opts.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	quietLogs := new(atomic.Bool)
	var srv temporal.Server
	var feAddr string
	dc := &devConfig{static: dynamicConfig()}
	for attempt := 1; ; attempt++ {
		srv, feAddr, err = startServer(opts, feHost, fePort, sqlConf, quietLogs, dc)
		if err == nil {
			break
		}
		if attempt == startAttempts || !isAddrInUse(err) {
			return nil, fmt.Errorf("devserver: %w", err)
		}
		if opts.Logger != nil {
			opts.Logger.Warn("another program took a port the dev server had picked; starting again on other ports", "attempt", attempt, "error", err)
		}
	}
	s := &Server{srv: srv, quietLogs: quietLogs, frontendAddr: feAddr}

	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := s.awaitFrontend(ctx, namespaces, opts.SearchAttributes); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("devserver: %w", err)
	}
	dc.settle(time.Now())
	if !opts.DisableUI {
		if uiPort == 0 {
			if uiPort, err = pickPort("ui"); err != nil {
				_ = s.Stop()
				return nil, fmt.Errorf("devserver: pick a free port for the UI: %w", err)
			}
		}
		if err := s.startUI(ctx, uiHost, uiPort, opts.Namespace, opts.CodecEndpoint); err != nil {
			_ = s.Stop()
			return nil, fmt.Errorf("devserver: %w", err)
		}
	}
	return s, nil
}

// startServer creates and starts the Temporal server on newly picked internal ports (and frontend port, if
// fePort is 0) and returns it with the frontend's host:port. A listener that cannot bind is an error: Temporal
// reports it through the logger's Fatal and would go on with a nil listener, which panics once served.
func startServer(opts Options, feHost string, fePort int, sqlConf *config.SQL, quietLogs *atomic.Bool, dc *devConfig) (temporal.Server, string, error) {
	if fePort == 0 {
		p, err := pickPort("frontend")
		if err != nil {
			return nil, "", fmt.Errorf("pick a free port for the frontend: %w", err)
		}
		fePort = p
	}
	conf, hosts, err := buildConfig(feHost, fePort, sqlConf)
	if err != nil {
		return nil, "", err
	}
	fatal := new(fatalLog)
	srv, err := newServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(newServerLogger(opts.Logger, opts.LogLevel, quietLogs, fatal)),
		temporal.WithDynamicConfigClient(dc),
	)
	if ferr := fatal.Err(); ferr != nil {
		// The listeners are made here, and a server with a nil one must not start. The Fatal names the cause;
		// an error that follows from it (a panic on the nil listener) says less.
		err = ferr
	}
	if err != nil {
		// Not started, so there is nothing to stop; a listener that did bind stays open until the process exits.
		return nil, "", fmt.Errorf("create server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, "", fmt.Errorf("start server: %w", errors.Join(err, fatal.Err(), stopQuietly(srv)))
	}
	if err := fatal.Err(); err != nil {
		return nil, "", fmt.Errorf("start server: %w", errors.Join(err, stopQuietly(srv)))
	}
	return srv, net.JoinHostPort(dialHost(feHost), strconv.Itoa(fePort)), nil
}

// newServer is temporal.NewServer, with a panic while building the server (as a nil listener causes) turned into an error.
func newServer(opts ...temporal.ServerOption) (srv temporal.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			srv, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return temporal.NewServer(opts...)
}

// stopQuietly stops a server that failed to start, returning a panic of its Stop as an error.
func stopQuietly(srv temporal.Server) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("stop after the failed start panicked: %v", r)
		}
	}()
	if err := srv.Stop(); err != nil {
		return fmt.Errorf("stop after the failed start: %w", err)
	}
	return nil
}

// isAddrInUse reports whether err comes from binding a port that something else holds.
func isAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}

// FrontendAddr returns the host:port clients dial, e.g. "127.0.0.1:7233".
func (s *Server) FrontendAddr() string { return s.frontendAddr }

// UIURL returns the Web UI base URL, e.g. "http://127.0.0.1:8233", or "" if the UI is disabled.
func (s *Server) UIURL() string { return s.uiURL }

// Stop stops the UI and the server (logging only errors meanwhile); it is safe to call more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.quietLogs.Store(true) // shutting down logs many connection warnings
		if s.ui != nil {
			s.ui.Stop()
			select {
			case <-s.uiDone:
			case <-time.After(5 * time.Second):
			}
		}
		s.stopErr = s.srv.Stop()
	})
	return s.stopErr
}

// prepareDB creates the schema if the file is new (setupSchema) and the namespaces if missing, and returns the SQL
// config.
func prepareDB(path string, namespaces []string, sas map[string]enumspb.IndexedValueType) (*config.SQL, error) {
	conf := sqlConfig(path)
	nsConfs := make([]*sqliteschema.NamespaceConfig, 0, len(namespaces))
	for _, ns := range namespaces {
		nsConf, err := sqliteschema.NewNamespaceConfig(clusterName, ns, false, sas) // fails on too many of a type
		if err != nil {
			return nil, fmt.Errorf("namespace %q: %w", ns, err)
		}
		nsConf.Detail.Config.CustomSearchAttributeAliases = columnAliases(sas)
		nsConfs = append(nsConfs, nsConf)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := setupSchema(conf, nsConfs); err != nil {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				_ = os.Remove(path + suffix) // do not leave a half-made schema behind
			}
			return nil, fmt.Errorf("set up SQLite schema in %s: %w", path, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if err := sqliteschema.CreateNamespaces(conf, nsConfs...); err != nil {
		return nil, fmt.Errorf("create namespaces in %s: %w", path, err)
	}
	return conf, nil
}

// sqlConfig returns the SQL config of the SQLite file at path.
func sqlConfig(path string) *config.SQL {
	return &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: path,
		ConnectAttributes: map[string]string{
			"mode":         "rwc",
			"journal_mode": "wal",
			"synchronous":  "normal",
			"busy_timeout": "10000",
		},
		// One connection: measured here (300 workflows, 50 in flight) WAL + 1 conn ran at 60-90 wf/s
		// with no errors, while 2 or 4 conns ran at 33-49 wf/s and logged "database is locked"
		// (SQLITE_BUSY on read-to-write upgrades, which busy_timeout does not retry). Without WAL: ~30 wf/s.
		MaxConns:     1,
		MaxIdleConns: 1,
	}
}

// buildConfig returns the server config: one process, one shard, internal services on free loopback ports.
func buildConfig(feHost string, fePort int, sqlConf *config.SQL) (*config.Config, map[primitives.ServiceName]static.Hosts, error) {
	ports := map[string]int{}
	taken := map[int]bool{fePort: true}
	for _, name := range []string{"frontend-http", "history", "matching", "worker"} {
		p, err := pickPort(name)
		for tries := 0; err == nil && taken[p] && tries < 10; tries++ {
			p, err = pickPort(name) // the same port twice: one port for each service
		}
		if err != nil {
			return nil, nil, fmt.Errorf("pick a free port for %s: %w", name, err)
		}
		ports[name] = p
		taken[p] = true
	}
	feAddr := net.JoinHostPort(dialHost(feHost), strconv.Itoa(fePort))
	local := func(port int) string { return net.JoinHostPort(loopback, strconv.Itoa(port)) }

	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = loopback
	conf.Persistence.DefaultStore = "sqlite-default"
	conf.Persistence.VisibilityStore = "sqlite-default"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: sqlConf}}
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{clusterName: {
			Enabled:                true,
			InitialFailoverVersion: 1,
			RPCAddress:             feAddr,
			HTTPAddress:            local(ports["frontend-http"]),
		}},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	service := func(port int) config.Service {
		var svc config.Service
		svc.RPC.GRPCPort = port
		svc.RPC.BindOnIP = loopback
		return svc
	}
	frontend := service(fePort)
	frontend.RPC.BindOnIP = feHost
	frontend.RPC.HTTPPort = ports["frontend-http"]
	conf.Services = map[string]config.Service{
		"frontend": frontend,
		"history":  service(ports["history"]),
		"matching": service(ports["matching"]),
		"worker":   service(ports["worker"]),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = feAddr // the server's internal worker dials this

	hosts := map[primitives.ServiceName]static.Hosts{
		primitives.FrontendService: static.SingleLocalHost(feAddr),
		primitives.HistoryService:  static.SingleLocalHost(local(ports["history"])),
		primitives.MatchingService: static.SingleLocalHost(local(ports["matching"])),
		primitives.WorkerService:   static.SingleLocalHost(local(ports["worker"])),
	}
	return &conf, hosts, nil
}

// searchAttributesSettle is how long after this server registered its search attributes each service still reads
// them from the database at every use: longer than the services' cache of them lives (60 s), so that none keeps a
// list from before the registration.
const searchAttributesSettle = 65 * time.Second

// devConfig is the server's dynamic config: dynamicConfig, and search attributes read fresh from the database at
// every use (ForceSearchAttributesCacheRefreshOnRead, as the Temporal CLI's dev server has it) only until
// searchAttributesSettle after the registration. A fresh read costs a database query at every visibility write and
// every start, upsert or list that names one: about 4 ms of the server's CPU per payout (make bench, issue 17). An
// attribute added later by hand (temporal operator search-attribute create) is usable within a minute.
type devConfig struct {
	static     dynamicconfig.StaticClient
	freshUntil atomic.Int64 // Unix nanoseconds; 0 until settle
}

// settle starts the countdown at registered, when this server's search attributes were all registered.
func (d *devConfig) settle(registered time.Time) {
	d.freshUntil.Store(registered.Add(searchAttributesSettle).UnixNano())
}

// GetValue implements dynamicconfig.Client.
func (d *devConfig) GetValue(key dynamicconfig.Key) []dynamicconfig.ConstrainedValue {
	if key == dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key() {
		until := d.freshUntil.Load()
		return []dynamicconfig.ConstrainedValue{{Value: until == 0 || time.Now().UnixNano() < until}}
	}
	return d.static.GetValue(key)
}

// dynamicConfig returns the dynamic config the Temporal CLI's dev server uses, less its search-attribute refresh
// (devConfig).
func dynamicConfig() dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8096,
		dynamicconfig.FrontendPersistenceMaxQPS.Key():                    10000,
		dynamicconfig.HistoryPersistenceMaxQPS.Key():                     45000,
		dynamicconfig.EnableServerVersionCheck.Key():                     false, // no phoning home
		// A payout's memo is its published state, about 3 KB: a WARN line at every change above the 2 KiB default
		// is noise. Warned from the size the worker's SDK warns from (config.MemoSizeWarning).
		dynamicconfig.MemoSizeLimitWarn.Key(): 16 << 10,
	}
}

// awaitFrontend polls until the frontend answers health checks, then registers missing search attributes.
func (s *Server) awaitFrontend(ctx context.Context, namespaces []string, sas map[string]enumspb.IndexedValueType) error {
	var c client.Client
	var lastErr error
	for c == nil {
		attemptCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		cl, err := client.DialContext(attemptCtx, client.Options{
			HostPort: s.frontendAddr,
			Logger:   sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
		})
		if err == nil {
			if _, err = cl.CheckHealth(attemptCtx, &client.CheckHealthRequest{}); err == nil {
				c = cl
			} else {
				cl.Close()
			}
		}
		cancel()
		if err != nil {
			lastErr = err
			select {
			case <-ctx.Done():
				return fmt.Errorf("frontend %s did not become ready: %w (last error: %v)", s.frontendAddr, ctx.Err(), lastErr)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	defer c.Close()
	for _, ns := range namespaces {
		if _, err := ensureSearchAttributes(ctx, c.OperatorService(), ns, sas); err != nil {
			return err
		}
	}
	return nil
}

// ensureSearchAttributes adds the attributes in want that namespace ns lacks and returns their sorted names.
// It fails if an attribute exists with another type (reset it by deleting the data dir).
func ensureSearchAttributes(ctx context.Context, op operatorservice.OperatorServiceClient, ns string, want map[string]enumspb.IndexedValueType) ([]string, error) {
	if len(want) == 0 {
		return nil, nil
	}
	resp, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		return nil, fmt.Errorf("list search attributes of namespace %q: %w", ns, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range want {
		if have, ok := resp.GetCustomAttributes()[name]; ok {
			if have != typ {
				return nil, fmt.Errorf("search attribute %q of namespace %q has type %s, want %s (delete the data dir to reset it)", name, ns, have, typ)
			}
			continue
		}
		if _, ok := resp.GetSystemAttributes()[name]; ok {
			return nil, fmt.Errorf("search attribute %q clashes with a system search attribute", name)
		}
		missing[name] = typ
	}
	if len(missing) == 0 {
		return nil, nil
	}
	if _, err := op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: ns, SearchAttributes: missing}); err != nil {
		return nil, fmt.Errorf("add search attributes to namespace %q: %w", ns, err)
	}
	names := make([]string, 0, len(missing))
	for name := range missing {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// startUI starts the Web UI in a goroutine and waits until it serves its root page.
func (s *Server) startUI(ctx context.Context, host string, port int, namespace, codecEndpoint string) error {
	// The UI server exits the process on a listen error, so re-check the port right before.
	if err := checkPortFree(host, port); err != nil {
		return uiPortError(port, err)
	}
	uiHost := host
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		uiHost = "[" + host + "]" // the UI server formats "%s:%d"
	}
	ui, err := newUIServer(&uiconfig.Config{
		Host:                uiHost,
		Port:                port,
		TemporalGRPCAddress: s.frontendAddr,
		EnableUI:            true,
		DefaultNamespace:    namespace,
		Codec:               uiconfig.Codec{Endpoint: codecEndpoint},
		CORS:                uiconfig.CORS{CookieInsecure: true}, // CSRF cookie over plain http
		HideLogs:            true,
		DisableNewsFetch:    true,
	})
	if err != nil {
		return err
	}
	s.ui, s.uiDone = ui, make(chan struct{})
	s.uiURL = "http://" + net.JoinHostPort(dialHost(host), strconv.Itoa(port))
	go func() {
		defer close(s.uiDone)
		_ = ui.Start() // blocks; returns nil after Stop
	}()

	httpClient := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.uiURL+"/", nil)
		if err != nil {
			return err
		}
		resp, err := httpClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET / returned %s", resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("UI %s did not become ready: %w (last error: %v)", s.uiURL, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// newUIServer builds the UI server, turning its panics on bad config into errors.
func newUIServer(cfg *uiconfig.Config) (ui *uiserver.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("create UI server: %v", r)
		}
	}()
	return uiserver.NewServer(uiserveroptions.WithConfigProvider(cfg)), nil
}

func uiPortError(port int, err error) error {
	return fmt.Errorf("devserver: Temporal UI port %d is not free: %w; stop whatever listens there or set UI_ADDR to another host:port (or disable the UI)", port, err)
}

// splitAddr parses host:port (def if addr is empty); an empty host or localhost means 127.0.0.1; port 0 means pick one.
func splitAddr(addr, def string) (string, int, error) {
	if addr == "" {
		addr = def
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("invalid port in %q", addr)
	}
	switch {
	case host == "" || host == "localhost":
		host = loopback
	case net.ParseIP(host) == nil:
		return "", 0, fmt.Errorf("host in %q must be an IP address or localhost", addr)
	}
	return host, port, nil
}

// dialHost returns host, or 127.0.0.1 if host is a wildcard address such as 0.0.0.0.
func dialHost(host string) string {
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return loopback
	}
	return host
}

// checkPortFree returns an error if host:port cannot be listened on.
func checkPortFree(host string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return l.Close()
}

// pickPort picks the port of a service: the internal ones, and the frontend and the UI when asked for port 0
// (a variable so that tests can make a start lose a port).
var pickPort = func(service string) (int, error) { return freePort() }

// freePort returns a loopback TCP port that is free now and that the kernel does not hand out by itself: one
// below the ephemeral range (ip_local_port_range), from which outgoing connections and other programs' port-0
// listeners take theirs. Such a program (a test's Temporal server, say) could otherwise take the port between this
// check and the server's bind. Where the range cannot be read, the kernel picks.
func freePort() (int, error) {
	if lo, hi, ok := explicitPortRange(); ok {
		for range 50 {
			p := lo + rand.IntN(hi-lo)
			if checkPortFree(loopback, p) == nil {
				return p, nil
			}
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(loopback, "0"))
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// explicitPortRange returns the ports [lo, hi) from 10000 up to the kernel's ephemeral range.
func explicitPortRange() (lo, hi int, ok bool) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, false
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return 0, 0, false
	}
	ephemeralLo, err := strconv.Atoi(fields[0])
	if err != nil || ephemeralLo < 11000 {
		return 0, 0, false
	}
	return 10000, ephemeralLo, true
}
