package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

func TestLoad_GRPCCompressionIsOffTowardsLoopbackByDefault(t *testing.T) {
	none, gzip := &client.GrpcCompressionNone{}, &client.GrpcCompressionGzip{}
	for _, tc := range []struct {
		name, setting, address string
		want                   client.GrpcCompression
	}{
		{"default, loopback", "", "127.0.0.1:7233", none},
		{"default, localhost", "", "localhost:7233", none},
		{"default, IPv6 loopback", "", "[::1]:7233", none},
		{"default, a cluster", "", "temporal.example.com:7233", gzip},
		{"default, Temporal Cloud", "auto", "ns.acct.tmprl.cloud:7233", gzip},
		{"gzip asked for on loopback", "gzip", "127.0.0.1:7233", gzip},
		{"none asked for towards a cluster", "NONE", "temporal.example.com:7233", none},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			t.Setenv("TEMPORAL_GRPC_COMPRESSION", tc.setting)
			c, err := LoadDev()
			require.NoError(t, err)
			require.Equal(t, tc.want, c.Perf.grpcCompression(tc.address))
		})
	}
}

func TestLoad_PerformanceSettingsAreCheckedOrRefused(t *testing.T) {
	sized := func(w Worker) Perf { return Perf{Compression: CompressionAuto, Worker: w} }
	withCache := DefaultWorker
	withCache.CacheSize = 3000
	withPollers := DefaultWorker
	withPollers.WorkflowPollers, withPollers.ActivityPollers = 4, 8
	withStop := DefaultWorker
	withStop.StopTimeout = time.Minute
	for _, tc := range []struct {
		name, variable, value string
		want                  Perf
		wantErr               string
	}{
		{"nothing set: PPROF off, the measured worker sizing", "PPROF", "", sized(DefaultWorker), ""},
		{"PPROF on", "PPROF", "true", Perf{Pprof: true, Compression: CompressionAuto, Worker: DefaultWorker}, ""},
		{"PPROF not a boolean", "PPROF", "yes please", Perf{}, "PPROF"},
		{"an unknown compression", "TEMPORAL_GRPC_COMPRESSION", "zstd", Perf{}, "TEMPORAL_GRPC_COMPRESSION"},
		{"a cache size", "WORKER_CACHE_SIZE", "3000", sized(withCache), ""},
		{"pollers", "WORKER_WORKFLOW_POLLERS=4 WORKER_ACTIVITY_POLLERS", "8", sized(withPollers), ""},
		{"a cache of none", "WORKER_CACHE_SIZE", "0", Perf{}, "WORKER_CACHE_SIZE"},
		{"not a number", "WORKER_ACTIVITIES", "many", Perf{}, "WORKER_ACTIVITIES"},
		{"one workflow poller cannot poll both queues", "WORKER_WORKFLOW_POLLERS", "1", Perf{}, "WORKER_WORKFLOW_POLLERS"},
		{"a longer stop", "WORKER_STOP_TIMEOUT", "1m", sized(withStop), ""},
		{"a stop timeout without a unit", "WORKER_STOP_TIMEOUT", "20", Perf{}, "WORKER_STOP_TIMEOUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			vars := strings.Fields(tc.variable + "=" + tc.value)
			for _, kv := range vars {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			c, err := LoadDev()
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, c.Perf)
		})
	}
}

func TestClientOptions_NoGzipTowardsMakeRunsServerAndNoMemoWarningForAPayoutsState(t *testing.T) {
	isolate(t)
	c, err := LoadDev()
	require.NoError(t, err)
	c.TemporalAddress = "127.0.0.1:7233" // make run's own server
	c.DataDir = t.TempDir()
	cd, _, err := c.Codec(true)
	require.NoError(t, err)

	opts, _ := c.clientOptions(cd, slog.New(slog.DiscardHandler))

	require.Equal(t, &client.GrpcCompressionNone{}, opts.ConnectionOptions.GrpcCompression)
	require.Greater(t, opts.PayloadLimits.MemoSizeWarning, 3<<10, "a card payout's memo (about 3 KB) is no warning")
	require.NotNil(t, opts.DataConverter, "payloads go through the codec")
}
