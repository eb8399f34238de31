package devserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"
)

func TestServer_PersistsWorkflowsAcrossRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	const codec = "http://127.0.0.1:8080/codec"
	opts := Options{
		DataDir:      t.TempDir(),
		FrontendAddr: "127.0.0.1:0", // the server picks free ports
		UIAddr:       "127.0.0.1:0",
		SearchAttributes: map[string]enumspb.IndexedValueType{
			"PayoutStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
			"PayoutAmount": enumspb.INDEXED_VALUE_TYPE_INT,
		},
		CodecEndpoint: codec,
		Logger:        slog.New(slog.NewTextHandler(newTestWriter(t), nil)),
	}

	start := time.Now()
	s, err := Start(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Stop() })
	t.Logf("first start took %s", time.Since(start))
	require.NotEqual(t, "127.0.0.1:0", s.FrontendAddr())
	require.True(t, strings.HasPrefix(s.UIURL(), "http://127.0.0.1:"), s.UIURL())

	c := dial(t, s.FrontendAddr())
	requireSearchAttributes(ctx, t, c, opts.SearchAttributes)

	// UI serves its page and shows the codec endpoint in its settings.
	require.Contains(t, httpGet(t, s.UIURL()+"/"), "<html")
	require.Contains(t, httpGet(t, s.UIURL()+"/api/v1/settings"), codec)

	// A tiny workflow runs to completion.
	const taskQueue = "devserver-test"
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(func(_ workflow.Context, name string) (string, error) {
		return "hello " + name, nil
	}, workflow.RegisterOptions{Name: "Greet"})
	require.NoError(t, w.Start())
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "devserver-test-greet",
		TaskQueue: taskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword("PayoutStatus").ValueSet("PAID"),
			temporal.NewSearchAttributeKeyInt64("PayoutAmount").ValueSet(1250),
		),
	}, "Greet", "payout")
	require.NoError(t, err)
	var greeting string
	require.NoError(t, run.Get(ctx, &greeting))
	require.Equal(t, "hello payout", greeting)
	w.Stop()
	c.Close()

	start = time.Now()
	require.NoError(t, s.Stop())
	t.Logf("stop took %s", time.Since(start))

	// Restart on the same data dir (on other ports: another server may have taken the ones just freed), with one
	// search attribute more (as a later version would add).
	opts.SearchAttributes["PayoutCurrency"] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	start = time.Now()
	s2, err := Start(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s2.Stop() })
	t.Logf("restart took %s", time.Since(start))

	c2 := dial(t, s2.FrontendAddr())
	desc, err := c2.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.GetWorkflowExecutionInfo().GetStatus())
	requireSearchAttributes(ctx, t, c2, opts.SearchAttributes)
	require.Contains(t, httpGet(t, s2.UIURL()+"/api/v1/settings"), codec)
	require.NoError(t, s2.Stop())
}

func TestEnsureSearchAttributes(t *testing.T) {
	ctx := context.Background()
	op := &fakeOperator{have: map[string]enumspb.IndexedValueType{"PayoutStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD}}

	added, err := ensureSearchAttributes(ctx, op, "default", map[string]enumspb.IndexedValueType{
		"PayoutStatus":   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"PayoutCurrency": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"PayoutAmount":   enumspb.INDEXED_VALUE_TYPE_INT,
	})
	require.NoError(t, err)
	require.Equal(t, []string{"PayoutAmount", "PayoutCurrency"}, added)
	require.Equal(t, map[string]enumspb.IndexedValueType{
		"PayoutCurrency": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"PayoutAmount":   enumspb.INDEXED_VALUE_TYPE_INT,
	}, op.added)

	op.added = nil
	added, err = ensureSearchAttributes(ctx, op, "default", map[string]enumspb.IndexedValueType{
		"PayoutStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	})
	require.NoError(t, err)
	require.Empty(t, added)
	require.Nil(t, op.added, "nothing to add must not call AddSearchAttributes")

	_, err = ensureSearchAttributes(ctx, op, "default", map[string]enumspb.IndexedValueType{
		"PayoutStatus": enumspb.INDEXED_VALUE_TYPE_INT,
	})
	require.ErrorContains(t, err, `"PayoutStatus"`)

	_, err = ensureSearchAttributes(ctx, op, "default", map[string]enumspb.IndexedValueType{
		"WorkflowId": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	})
	require.ErrorContains(t, err, "system")
}

func TestStart_PortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l.Close() }()

	_, err = Start(context.Background(), Options{DataDir: t.TempDir(), FrontendAddr: l.Addr().String(), DisableUI: true})
	require.ErrorContains(t, err, "TEMPORAL_ADDRESS")

	_, err = Start(context.Background(), Options{DataDir: t.TempDir(), FrontendAddr: "127.0.0.1:0", UIAddr: l.Addr().String()})
	require.ErrorContains(t, err, "UI_ADDR")
}

type fakeOperator struct {
	operatorservice.OperatorServiceClient // nil: other methods panic
	have                                  map[string]enumspb.IndexedValueType
	added                                 map[string]enumspb.IndexedValueType
}

func (f *fakeOperator) ListSearchAttributes(context.Context, *operatorservice.ListSearchAttributesRequest, ...grpc.CallOption) (*operatorservice.ListSearchAttributesResponse, error) {
	return &operatorservice.ListSearchAttributesResponse{
		CustomAttributes: f.have,
		SystemAttributes: map[string]enumspb.IndexedValueType{"WorkflowId": enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	}, nil
}

func (f *fakeOperator) AddSearchAttributes(_ context.Context, req *operatorservice.AddSearchAttributesRequest, _ ...grpc.CallOption) (*operatorservice.AddSearchAttributesResponse, error) {
	if req.GetNamespace() == "" {
		return nil, errors.New("namespace is required")
	}
	f.added = req.GetSearchAttributes()
	return &operatorservice.AddSearchAttributesResponse{}, nil
}

func requireSearchAttributes(ctx context.Context, t *testing.T, c client.Client, want map[string]enumspb.IndexedValueType) {
	t.Helper()
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	require.NoError(t, err)
	for name, typ := range want {
		require.Equal(t, typ, resp.GetCustomAttributes()[name], "search attribute %s", name)
	}
}

func dial(t *testing.T, addr string) client.Client {
	t.Helper()
	return dialNamespace(t, addr, "default")
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", url, body)
	return string(body)
}

// testWriter sends server logs (warn and above) to the test log until the test ends.
type testWriter struct {
	t    *testing.T
	mu   sync.Mutex
	done bool
}

func newTestWriter(t *testing.T) *testWriter {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return w
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func TestSplitAddr(t *testing.T) {
	for _, tc := range []struct {
		in, host string
		port     int
	}{
		{"", "127.0.0.1", 7233},
		{":9000", "127.0.0.1", 9000},
		{"localhost:9000", "127.0.0.1", 9000},
		{"0.0.0.0:9000", "0.0.0.0", 9000},
		{"[::1]:9000", "::1", 9000},
		{"127.0.0.1:0", "127.0.0.1", 0}, // pick a free port
	} {
		host, port, err := splitAddr(tc.in, defaultFrontendAddr)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.host, host, tc.in)
		require.Equal(t, tc.port, port, tc.in)
	}
	for _, bad := range []string{"example.com:7233", "127.0.0.1", "127.0.0.1:x", "127.0.0.1:-1", "127.0.0.1:65536"} {
		_, _, err := splitAddr(bad, defaultFrontendAddr)
		require.Error(t, err, bad)
	}
	require.Equal(t, "127.0.0.1", dialHost("0.0.0.0"))
}

func TestStart_PortTakenBeforeTheServerBindsItIsAnErrorNotAPanic(t *testing.T) {
	for _, service := range []string{"frontend", "frontend-http", "history", "matching", "worker"} {
		t.Run(service, func(t *testing.T) {
			taken := takePort(t)
			losePort(t, taken, func(name string, attempt int) bool { return name == service }) // on every attempt

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := Start(ctx, Options{DataDir: t.TempDir(), FrontendAddr: "127.0.0.1:0", DisableUI: true})
			t.Log(err)
			require.ErrorContains(t, err, "address already in use")
			require.ErrorContains(t, err, fmt.Sprintf("127.0.0.1:%d", taken))
		})
	}
}

func TestStart_AfterLosingAPortStartsAgainOnOthers(t *testing.T) {
	losePort(t, takePort(t), func(name string, attempt int) bool { return name == "history" && attempt == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var logs syncBuilder
	s, err := Start(ctx, Options{DataDir: t.TempDir(), FrontendAddr: "127.0.0.1:0", DisableUI: true,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Stop() })
	_, err = dial(t, s.FrontendAddr()).CheckHealth(ctx, &client.CheckHealthRequest{})
	require.NoError(t, err)
	require.Contains(t, logs.String(), "starting again on other ports")
	require.NoError(t, s.Stop())
}

// takePort listens on a loopback port until the test ends, as another program would, and returns it.
func takePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// losePort makes pickPort hand out the taken port to a service when lose says so (attempts counted from 1 by
// the frontend's pick, the first of each), as if another program had bound the port first.
func losePort(t *testing.T, taken int, lose func(service string, attempt int) bool) {
	t.Helper()
	attempt := 0
	pickPort = func(service string) (int, error) {
		if service == "frontend" {
			attempt++
		}
		if lose(service, attempt) {
			return taken, nil
		}
		return freePort()
	}
	t.Cleanup(func() { pickPort = func(string) (int, error) { return freePort() } })
}

// syncBuilder is a strings.Builder safe for the server's goroutines.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuilder) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuilder) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestFreePort_IsOutsideTheKernelsEphemeralRange(t *testing.T) {
	lo, hi, ok := explicitPortRange()
	if !ok {
		t.Skip("no /proc/sys/net/ipv4/ip_local_port_range here: the kernel picks")
	}
	for range 20 {
		p, err := freePort()
		require.NoError(t, err)
		require.GreaterOrEqual(t, p, lo)
		require.Less(t, p, hi)
	}
}
