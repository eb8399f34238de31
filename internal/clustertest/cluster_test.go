package clustertest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/payoutflow/payoutflow/internal/chaos"
	"github.com/payoutflow/payoutflow/internal/stacktest"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131"
	"github.com/payoutflow/payoutflow/providers/bepaid"
	"github.com/payoutflow/payoutflow/providers/mandarin"
	"github.com/payoutflow/payoutflow/workflows"
)

// The credentials cmd/dev's sandboxes accept (cmd/dev/main.go). They open nothing but the local sandboxes.
const (
	sandboxProject    = "payoutflow-dev"
	sandboxShopID     = "payoutflow-dev-shop"
	sandboxShopSecret = "payoutflow-dev-secret"
	sandboxMerchantID = "1"
	sandboxMandarin   = "payoutflow-dev-mandarin-secret"
)

// payouts is how many payouts of the chaos mix the test runs: every provider and method twice.
const payouts = 26

// TestCluster runs the production topology: PostgreSQL, the Temporal server as its own process, set up with its
// own SQL tool (twice: the setup is safe to repeat), the namespace and search attributes, and the sandboxes; then
// payoutflow's processes on it, as each subtest says.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("the cluster test builds the Temporal server and runs PostgreSQL")
	}
	started := time.Now()
	c := startCluster(t)
	t.Logf("cluster up in %s", time.Since(started).Round(time.Second))
	t.Run("EveryPayoutFinishesOnTheOtherWorkerWhenOneIsKilled", func(t *testing.T) { everyPayoutFinishes(t, c) })
	t.Run("TheREADMEProductionBlockRunsAsItIs", func(t *testing.T) { productionBlock(t, c) })
}

// everyPayoutFinishes starts two workers and the API, creates payouts of every provider and method, kills one
// worker (SIGKILL) while they are under way, and requires every payout to end as it should on the other worker,
// paid once by the sandboxes' ledgers (a failed one never).
func everyPayoutFinishes(t *testing.T, c *cluster) {
	started := time.Now()
	dir := t.TempDir()
	keys, err := stacktest.WriteAPIKeys(filepath.Join(dir, "api-keys.json"), "backend", "approver")
	require.NoError(t, err)
	policyFile := filepath.Join(dir, "policy.json")
	require.NoError(t, os.WriteFile(policyFile, []byte(chaos.Policy), 0o600))
	apiAddr, codecAddr := c.freeAddr(t), c.freeAddr(t)
	c.public.setTarget(t, "http://"+apiAddr)
	env := append(c.sandboxEnv(), c.base...)
	env = append(env,
		"TEMPORAL_ADDRESS="+c.frontend,
		"TEMPORAL_NAMESPACE="+c.namespace,
		"CODEC_KEY="+newCodecKey(t),
		"API_ADDR="+apiAddr,
		"CODEC_ADDR="+codecAddr,
		"METRICS_ADDR=off", // two workers on one host: each would take the default :9090; each gets its own below
		"PUBLIC_URL="+c.public.URL(),
		"TRUSTED_PROXIES=127.0.0.1",
		"SSL_CERT_FILE="+c.ca,
		"API_KEYS_FILE="+filepath.Join(dir, "api-keys.json"),
		"POLICY_FILE="+policyFile,
		"PROVIDER_POLL_AFTER=3s",
		"PROVIDER_POLL_MAX=20s",
		"PROVIDER_WATCH_EVERY=500ms",
		"LOG_LEVEL=warn",
	)
	// Each worker's operators' listener on a port of its own, for its /readyz.
	w1Ops, w2Ops := c.freeAddr(t), c.freeAddr(t)
	w1 := c.startWorker(t, "worker-1", append(slices.Clone(env), "METRICS_ADDR="+w1Ops))
	w2 := c.startWorker(t, "worker-2", append(slices.Clone(env), "METRICS_ADDR="+w2Ops))
	api := c.start(t, "api", c.bin("api"), nil, env)
	// Ready: Temporal, the namespace, a worker polling, the codec and the providers' credentials checked.
	require.NoError(t, api.WaitReady(2*time.Minute, func() bool { return stacktest.Answers("http://" + apiAddr + "/readyz") }))
	for _, addr := range []string{w1Ops, w2Ops} {
		require.Eventually(t, func() bool { return stacktest.Answers("http://" + addr + "/readyz") }, time.Minute,
			200*time.Millisecond, "the worker at %s never became ready\n%s", addr, c.tails())
	}
	t.Logf("workers (pids %d, %d) and API up at %s", w1.Pid(), w2.Pid(), time.Since(started).Round(time.Second))

	a := &stacktest.API{URL: "http://" + apiAddr, Keys: keys}
	// The calls get a minute beyond the run's deadline: one under way then ends, and the report names what did not.
	deadline := time.Now().Add(runFor(t))
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(time.Minute))
	defer cancel()
	ids := make([]string, payouts)
	for i := range payouts {
		p, err := a.Create(ctx, "backend", fmt.Sprintf("cluster-%d", i), chaos.Mix(i))
		require.NoError(t, err, "payout %d", i)
		ids[i] = p.ID
	}

	// Drive the payouts: approve those waiting for a person, pass the payer's 3-D Secure; kill worker 1 once a third
	// of them have ended, while the rest are under way.
	states := map[string]stacktest.Payout{}
	approved, passed := map[string]bool{}, map[string]bool{}
	var killedAt time.Time
	openAtKill, reported := 0, time.Now()
	for {
		open := 0
		for _, id := range ids {
			if states[id].Final() {
				continue
			}
			p, err := a.Get(ctx, "backend", id)
			require.NoError(t, err, c.tails())
			states[id] = p
			if p.Final() {
				continue
			}
			open++
			switch {
			case p.Status == "awaiting_approval" && !approved[id]:
				status, body, err := a.Call(ctx, "approver", http.MethodPost, "/v1/payouts/"+id+"/confirm", nil,
					`{"reason":"cluster test"}`)
				require.NoError(t, err)
				require.Contains(t, []int{http.StatusAccepted, http.StatusConflict}, status, "confirm %s: %s", id, body)
				approved[id] = true
			case p.PayerAction != nil && !passed[id]:
				resp, err := c.https.Get(p.PayerAction.RedirectURL)
				require.NoError(t, err)
				resp.Body.Close()
				passed[id] = resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusConflict
			}
		}
		if open == 0 {
			break
		}
		if killedAt.IsZero() && open <= payouts*2/3 {
			w1.Kill()
			killedAt, openAtKill = time.Now(), open
			t.Logf("worker 1 killed (SIGKILL) at %s with %d of %d payouts under way", killedAt.Sub(started).Round(time.Second),
				open, payouts)
		}
		if time.Since(reported) >= time.Minute { // a payout waiting out its provider's settling period shows here
			reported = time.Now()
			var under []string
			for _, id := range ids {
				if st := states[id]; !st.Final() {
					under = append(under, fmt.Sprintf("%s (%s) %s", id, st.Provider, st.Status))
				}
			}
			t.Logf("%s: %d under way: %s", time.Since(started).Round(time.Second), open, strings.Join(under, ", "))
		}
		if time.Now().After(deadline) {
			var under []string
			for _, id := range ids {
				if !states[id].Final() {
					under = append(under, states[id].String())
				}
			}
			kill := "worker 1 not killed"
			if !killedAt.IsZero() {
				kill = "worker 1 killed at " + killedAt.Sub(started).Round(time.Second).String()
			}
			// The payouts last: what a CI log keeps of a failure is its end.
			t.Fatalf("%d payouts did not end in %s\n%s\n%d payouts did not end (%s):\n%s", open,
				time.Since(started).Round(time.Second), c.tails(), open, kill, strings.Join(under, "\n"))
		}
		time.Sleep(300 * time.Millisecond)
	}
	require.False(t, killedAt.IsZero(), "worker 1 was killed during the run")
	require.Positive(t, openAtKill)
	t.Logf("every payout ended %s after worker 1 was killed (%s in all)", time.Since(killedAt).Round(time.Second),
		time.Since(started).Round(time.Second))
	require.True(t, stacktest.Answers("http://"+apiAddr+"/readyz"), "the API stays ready: worker 2 polls")

	// Each ended as it should, and the ledgers agree: a succeeded payout paid once, any other never.
	paid, err := stacktest.Ledgers(c.sandbox)
	require.NoError(t, err)
	for i, id := range ids {
		st := states[id]
		want := "succeeded"
		if i%13 == 4 { // the card the sandbox declines
			want = "failed"
		}
		require.Equal(t, want, string(st.Status), "payout %d: %s", i, st)
		if want == "succeeded" {
			require.Equal(t, 1, paid[id], "payout %d paid once: %s", i, st)
		} else {
			require.Zero(t, paid[id], "payout %d never paid: %s", i, st)
		}
	}

	// Both workers ran payouts, and payouts worker 1 had begun were finished by worker 2.
	byWorker := map[int]int{}
	handedOver := 0
	for _, id := range ids {
		h, err := stacktest.Histories(c.temporal, c.namespace, id)
		require.NoError(t, err)
		require.Empty(t, h.Pending, "payout %s", id)
		on1, on2 := h.RanOn(w1.Pid()), h.RanOn(w2.Pid())
		if on1 {
			byWorker[1]++
		}
		if on2 {
			byWorker[2]++
		}
		if on1 && on2 {
			handedOver++
		}
	}
	t.Logf("payouts with workflow tasks on worker 1: %d, on worker 2: %d, on both: %d", byWorker[1], byWorker[2], handedOver)
	require.Positive(t, byWorker[1], "worker 1 ran payouts before it was killed")
	require.Positive(t, handedOver, "payouts begun on worker 1 finished on worker 2")
}

// runFor is how long the payouts may take to end, counted from before they are created. Worker 1 may die while it
// sends a payout: the submit's heartbeat stops and it times out (30 s), the provider is asked, and a payout the
// provider shows none of is sent again only once it has shown none for its settling period (bePaid's: 10 minutes),
// and a backoff (10 s) after that: about 11 minutes after the kill. Four minutes are left for the rest on a slow
// machine: the creates, the run up to the kill, the handover of the killed worker's sticky tasks (5 s), the
// provider's answer to the resend.
func runFor(t *testing.T) time.Duration {
	t.Helper()
	plugins := map[string]providers.Plugin{"bank131": &bank131.Provider{}, "bepaid": &bepaid.Provider{}, "mandarin": &mandarin.Provider{}}
	var settle time.Duration
	for i := range payouts {
		var req payout.Request
		require.NoError(t, json.Unmarshal([]byte(chaos.Mix(i)), &req), "payout %d", i)
		p, ok := plugins[req.Provider]
		require.True(t, ok, "payout %d: provider %q", i, req.Provider)
		settle = max(settle, p.Capabilities(req).SettlePeriod)
	}
	return 30*time.Second + settle + 4*time.Minute
}

// cluster is the Temporal server on PostgreSQL, with the namespace set up, and the binaries the test built.
type cluster struct {
	root, dir, logs, bins string
	base                  []string // what every process inherits: PATH and HOME, nothing of payoutflow's
	frontend, namespace   string
	temporal              client.Client
	sandbox               map[string]string // provider → the sandbox's own http URL (its ledger, its faults)
	sandboxHTTPS          map[string]string // provider → the sandbox over https, as the worker and the API reach it
	sandboxData           string
	public                *httpsProxy  // PUBLIC_URL: the https front of the API
	ca                    string       // the https fronts' certificate, for SSL_CERT_FILE
	https                 *http.Client // the test's client, trusting ca
}

// startCluster builds the binaries, starts PostgreSQL and the Temporal server, and sets up the namespace and its
// search attributes, as deploy/temporal says.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	c := &cluster{root: filepath.Join(filepath.Dir(file), "..", ".."), dir: t.TempDir()}
	c.logs, c.bins = filepath.Join(c.dir, "logs"), filepath.Join(c.dir, "bin")
	require.NoError(t, os.MkdirAll(c.logs, 0o755))
	if keep := os.Getenv("CLUSTERTEST_LOGS"); keep != "" {
		c.logs = keep
		require.NoError(t, os.MkdirAll(c.logs, 0o755))
	}
	for _, k := range []string{"PATH", "HOME"} {
		c.base = append(c.base, k+"="+os.Getenv(k))
	}
	c.build(t)

	settings := readEnvFile(t, filepath.Join(c.root, "deploy", "temporal", "cluster.env"))
	vars := envMap(settings)
	c.namespace = vars["TEMPORAL_NAMESPACE"]
	retention, err := time.ParseDuration(vars["NAMESPACE_RETENTION"])
	require.NoError(t, err, "NAMESPACE_RETENTION")
	pg := startPostgres(t, vars["POSTGRES_USER"], vars["POSTGRES_PWD"])

	// The network is all this machine adds to the cluster's settings: PostgreSQL's and the server's ports.
	env := append(append(append([]string{}, c.base...), settings...), "POSTGRES_SEEDS=127.0.0.1", "DB_PORT="+pg.port)
	for i := range 2 {
		started := time.Now()
		setup := exec.Command("sh", filepath.Join(c.root, "deploy", "temporal", "setup-schema.sh"))
		setup.Env = append(append([]string{}, env...), "TEMPORAL_SQL_TOOL="+c.bin("sql"))
		out, err := setup.CombinedOutput()
		require.NoError(t, err, "setup-schema.sh (run %d): %s", i+1, out)
		t.Logf("setup-schema.sh run %d took %s", i+1, time.Since(started).Round(time.Millisecond))
	}

	c.frontend = c.freeAddr(t)
	env = append(env, "BIND_ON_IP=127.0.0.1", "FRONTEND_GRPC_PORT="+port(c.frontend),
		"DYNAMIC_CONFIG_FILE_PATH="+filepath.Join(c.root, "deploy", "dynamicconfig", "payoutflow.yaml"))
	for _, name := range []string{"FRONTEND_HTTP_PORT", "HISTORY_GRPC_PORT", "MATCHING_GRPC_PORT", "WORKER_GRPC_PORT"} {
		env = append(env, name+"="+port(c.freeAddr(t)))
	}
	// The membership table keeps ports as smallint: below 32768, where the system hands out no ephemeral ports.
	for _, name := range []string{"FRONTEND_MEMBERSHIP_PORT", "HISTORY_MEMBERSHIP_PORT", "MATCHING_MEMBERSHIP_PORT",
		"WORKER_MEMBERSHIP_PORT"} {
		env = append(env, name+"="+lowFreePort(t))
	}
	started := time.Now()
	server := c.start(t, "temporal-server", c.bin("server"), []string{"start"}, env)
	var tc client.Client
	require.NoError(t, server.WaitReady(3*time.Minute, func() bool {
		var err error
		tc, err = client.Dial(client.Options{HostPort: c.frontend, Namespace: c.namespace,
			Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
		return err == nil // Dial checks the frontend's health
	}))
	c.temporal = tc
	t.Cleanup(tc.Close)
	t.Logf("Temporal server up in %s", time.Since(started).Round(time.Millisecond))

	// The namespace and its search attributes, as docker-compose.temporal.yml's temporal-setup does with the CLI.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	nc, err := client.NewNamespaceClient(client.Options{HostPort: c.frontend,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: c.namespace, WorkflowExecutionRetentionPeriod: durationpb.New(retention),
	}))
	require.NoError(t, waitFor(ctx, func() error {
		_, err := tc.DescribeTaskQueue(ctx, workflows.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		return err
	}), "the namespace is served")
	require.NoError(t, workflows.EnsureSearchAttributes(ctx, tc, c.namespace))
	require.NoError(t, waitFor(ctx, func() error {
		_, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: c.namespace, Query: "PayoutStatus = 'created' AND NeedsAttention = true"})
		return err
	}), "the search attributes are served")
	desc, err := nc.Describe(ctx, c.namespace)
	require.NoError(t, err)
	require.Equal(t, retention, desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration())

	// The API's https front (pointed at an API later) and the sandboxes, which call back through it.
	c.public = newHTTPSProxy(t, "http://127.0.0.1:1")
	c.ca = filepath.Join(c.dir, "tls", "ca.pem")
	c.https = writeCA(t, c.public, c.ca)
	c.startSandboxes(t)
	return c
}

// build builds the Temporal server and its SQL tool (go.mod's version, the tool directives), the worker, the API
// and cmd/dev (its sandboxes) into c.bins.
func (c *cluster) build(t *testing.T) {
	started := time.Now()
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", c.bins+string(filepath.Separator),
		"go.temporal.io/server/cmd/server", "go.temporal.io/server/cmd/tools/sql", "./cmd/worker", "./cmd/api", "./cmd/dev")
	cmd.Dir = c.root
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=go1.27.3")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	t.Logf("binaries built in %s", time.Since(started).Round(time.Second))
}

func (c *cluster) bin(name string) string { return filepath.Join(c.bins, name) }

func (c *cluster) freeAddr(t *testing.T) string {
	a, err := stacktest.FreeAddr()
	require.NoError(t, err)
	return a
}

// start starts a process with exactly env; it is stopped (SIGTERM) when the test ends.
func (c *cluster) start(t *testing.T, name, bin string, args, env []string) *stacktest.Proc {
	t.Helper()
	p, err := stacktest.Start(name, c.logs, c.dir, bin, args, env)
	require.NoError(t, err)
	t.Cleanup(p.Stop)
	return p
}

// startSandboxes serves the three providers' sandboxes (cmd/dev -parts sandboxes), each behind an https front,
// their webhooks sent to the API's https front.
func (c *cluster) startSandboxes(t *testing.T) {
	t.Helper()
	c.sandboxData = filepath.Join(c.dir, "sandboxes")
	addrs := map[string]string{"bank131": c.freeAddr(t), "bepaid": c.freeAddr(t), "mandarin": c.freeAddr(t)}
	c.sandbox, c.sandboxHTTPS = map[string]string{}, map[string]string{}
	for name, a := range addrs {
		c.sandbox[name] = "http://" + a
		c.sandboxHTTPS[name] = newHTTPSProxy(t, "http://"+a).URL()
	}
	env := append(append([]string{}, c.base...),
		"DATA_DIR="+c.sandboxData,
		"PUBLIC_URL="+c.public.URL(),
		"SSL_CERT_FILE="+c.ca,
		"BANK131_SANDBOX_ADDR="+addrs["bank131"],
		"BEPAID_SANDBOX_ADDR="+addrs["bepaid"],
		"MANDARIN_SANDBOX_ADDR="+addrs["mandarin"],
		"LOG_LEVEL=warn",
	)
	p := c.start(t, "sandboxes", c.bin("dev"), []string{"-parts", "sandboxes"}, env)
	require.NoError(t, p.WaitReady(time.Minute, func() bool {
		for _, kv := range c.sandboxEnv() { // the keys it makes for the providers' clients, then its listeners
			if k, v, _ := strings.Cut(kv, "="); strings.HasSuffix(k, "_FILE") {
				if _, err := os.Stat(v); err != nil {
					return false
				}
			}
		}
		return stacktest.Answers(c.sandbox["bank131"]+"/_sandbox/ledger") && stacktest.Answers(c.sandbox["bepaid"]+"/_sandbox/ledger") &&
			stacktest.Answers(c.sandbox["mandarin"]+"/_sandbox/ledger")
	}))
}

// sandboxEnv configures the three providers against the sandboxes, with the keys cmd/dev made for them.
func (c *cluster) sandboxEnv() []string {
	keys := filepath.Join(c.sandboxData, "keys")
	return []string{
		"BANK131_BASE_URL=" + c.sandboxHTTPS["bank131"],
		"BANK131_PROJECT=" + sandboxProject,
		"BANK131_PRIVATE_KEY_FILE=" + filepath.Join(keys, "bank131-partner.pem"),
		"BANK131_PUBLIC_KEY_FILE=" + filepath.Join(keys, "bank131-sandbox.pub.pem"),
		"BEPAID_BASE_URL=" + c.sandboxHTTPS["bepaid"],
		"BEPAID_SHOP_ID=" + sandboxShopID,
		"BEPAID_SECRET_KEY=" + sandboxShopSecret,
		"BEPAID_PUBLIC_KEY_FILE=" + filepath.Join(keys, "bepaid-sandbox.pub"),
		"BEPAID_TEST=true",
		"MANDARIN_BASE_URL=" + c.sandboxHTTPS["mandarin"],
		"MANDARIN_MERCHANT_ID=" + sandboxMerchantID,
		"MANDARIN_SECRET=" + sandboxMandarin,
		"MANDARIN_DEFAULT_EMAIL=payouts@example.com",
		"MANDARIN_DEFAULT_PHONE=+79000000000",
	}
}

// startWorker starts cmd/worker and waits until it polls the payouts' task queue.
func (c *cluster) startWorker(t *testing.T, name string, env []string) *stacktest.Proc {
	t.Helper()
	p := c.start(t, name, c.bin("worker"), nil, env)
	require.NoError(t, p.WaitReady(2*time.Minute, func() bool { return stacktest.Polling(c.temporal, workflows.TaskQueue, p.Pid()) }))
	return p
}

// tails is the end of every process's log, for a failure message.
func (c *cluster) tails() string { return stacktest.Tails(c.logs, 20) }

// readEnvFile reads a KEY=VALUE file (comments and blank lines skipped), as docker compose's env_file does.
func readEnvFile(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		require.Contains(t, line, "=", "%s: %q", path, line)
		out = append(out, line)
	}
	require.NoError(t, sc.Err())
	return out
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// lowFreePort is a loopback port below 32768 that is free now: one of FreeAddr's (below the kernel's ephemeral
// range, and never handed out twice), or, where the kernel's range starts lower, one picked at random.
func lowFreePort(t *testing.T) string {
	for range 100 {
		a, err := stacktest.FreeAddr()
		require.NoError(t, err)
		if n, _ := strconv.Atoi(port(a)); n < 32768 {
			return port(a)
		}
	}
	for range 100 {
		p := strconv.Itoa(20000 + mathrand.IntN(12000))
		if ln, err := net.Listen("tcp", "127.0.0.1:"+p); err == nil {
			ln.Close()
			return p
		}
	}
	t.Fatal("no free port below 32768")
	return ""
}

func port(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

func newCodecKey(t *testing.T) string {
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(b)
}

// waitFor calls f until it succeeds or ctx ends, and returns its last error then.
func waitFor(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}
