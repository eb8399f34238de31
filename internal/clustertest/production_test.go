package clustertest

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/chaos"
	"github.com/payoutflow/payoutflow/internal/stacktest"
)

// productionBlock reads the variables README's production block ("Running against a real Temporal cluster")
// exports, starts the worker and the API with exactly those variables (and nothing else of payoutflow's), each
// given a value that fits this machine: the local cluster, the sandboxes behind their https fronts, keys and files
// the test makes, free loopback ports. A Bank 131 payout then goes through. A variable the block leaves out is one
// a production start goes without; a value the test cannot fill fails the test.
func productionBlock(t *testing.T, c *cluster) {
	names, literal := readmeProductionVariables(t, filepath.Join(c.root, "README.md"))
	t.Logf("the production block exports %s", strings.Join(names, " "))

	dir := t.TempDir()
	keys, err := stacktest.WriteAPIKeys(filepath.Join(dir, "api-keys.json"), "backend", "approver")
	require.NoError(t, err)
	codecKey := newCodecKey(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "codec.key"), []byte("2026-12 "+codecKey+"\n"), 0o600))
	sandbox := envMap(c.sandboxEnv())
	apiAddr := ""
	env := append(append([]string{}, c.base...), "SSL_CERT_FILE="+c.ca) // trust the https fronts, as a system CA
	for _, name := range names {
		var v string
		switch {
		case name == "TEMPORAL_ADDRESS":
			v = c.frontend
		case name == "TEMPORAL_NAMESPACE":
			require.Equal(t, c.namespace, literal[name], "the block's namespace is the cluster's (deploy/temporal/cluster.env)")
			v = literal[name]
		case name == "CODEC_KEY":
			v = codecKey
		case name == "CODEC_KEY_FILE":
			v = filepath.Join(dir, "codec.key")
		case name == "API_KEYS_FILE":
			v = filepath.Join(dir, "api-keys.json")
		case name == "POLICY_FILE":
			v = filepath.Join(c.root, literal[name])
			require.FileExists(t, v, "POLICY_FILE names a file of the repository")
		case name == "PUBLIC_URL":
			v = c.public.URL()
		case name == "API_ADDR":
			apiAddr = c.freeAddr(t)
			v = apiAddr
		case name == "CODEC_ADDR":
			v = c.freeAddr(t)
		case sandbox[name] != "":
			v = sandbox[name] // the providers' addresses, credentials and keys, pointed at the sandboxes
		default:
			v = literal[name]
			require.False(t, strings.Contains(v, "…") || strings.Contains(v, "$("),
				"%s=%s: the test does not know what to put there", name, v)
		}
		env = append(env, name+"="+v)
	}
	require.NotEmpty(t, apiAddr, "the block sets API_ADDR (else the API listens on every interface's port 8080)")
	c.public.setTarget(t, "http://"+apiAddr)

	w := c.startWorker(t, "production-worker", env)
	api := c.start(t, "production-api", c.bin("api"), nil, env)
	require.NoError(t, api.WaitReady(2*time.Minute, func() bool { return stacktest.Answers("http://" + apiAddr + "/healthz") }))
	t.Logf("the worker (pid %d) and the API run with the block's variables", w.Pid())

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a := &stacktest.API{URL: "http://" + apiAddr, Keys: keys}
	p, err := a.Create(ctx, "backend", "production-block", chaos.Mix(13)) // Bank 131, a card that is paid
	require.NoError(t, err)
	require.Equal(t, "bank131", p.Provider)
	for !p.Final() {
		if p.Status == "awaiting_approval" && (len(p.Approvals) == 0 || p.ApprovalsRequired > len(p.Approvals)) {
			for _, who := range []string{"backend", "approver"} {
				status, body, err := a.Call(ctx, who, http.MethodPost, "/v1/payouts/"+p.ID+"/confirm", nil, `{"reason":"production block"}`)
				require.NoError(t, err)
				require.Contains(t, []int{http.StatusAccepted, http.StatusConflict}, status, "confirm: %s", body)
			}
		}
		require.NoError(t, ctx.Err(), "the payout did not end: %s\n%s", p, c.tails())
		time.Sleep(300 * time.Millisecond)
		if p, err = a.Get(ctx, "backend", p.ID); err != nil {
			t.Fatalf("%v\n%s", err, c.tails())
		}
	}
	require.Equal(t, "succeeded", string(p.Status), p.String())
	paid, err := stacktest.Ledgers(c.sandbox)
	require.NoError(t, err)
	require.Equal(t, 1, paid[p.ID], "paid once")
}

// readmeProductionVariables returns the names of the variables the README's production block exports, in order,
// and their values as the block writes them.
func readmeProductionVariables(t *testing.T, readme string) ([]string, map[string]string) {
	t.Helper()
	b, err := os.ReadFile(readme)
	require.NoError(t, err)
	text := string(b)
	i := strings.Index(text, "\n## Running against a real Temporal cluster\n")
	require.GreaterOrEqual(t, i, 0, "README has the section")
	text = text[i:]
	start := strings.Index(text, "```sh\n")
	require.GreaterOrEqual(t, start, 0, "the section has a sh block")
	text = text[start+len("```sh\n"):]
	block := text[:strings.Index(text, "```")]
	block = strings.ReplaceAll(block, "\\\n", " ")
	assign := regexp.MustCompile(`([A-Z][A-Z0-9_]*)=(\$\([^)]*\)|"[^"]*"|'[^']*'|[^\s#]+)`)
	var names []string
	values := map[string]string{}
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "export ") {
			continue
		}
		if j := strings.Index(line, " #"); j >= 0 {
			line = line[:j]
		}
		for _, m := range assign.FindAllStringSubmatch(strings.TrimPrefix(line, "export "), -1) {
			if _, seen := values[m[1]]; !seen {
				names = append(names, m[1])
			}
			values[m[1]] = strings.Trim(m[2], `"'`)
		}
	}
	require.NotEmpty(t, names, "the block exports variables")
	return names, values
}
