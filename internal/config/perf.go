package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
)

// Perf are the settings that size a process and what it spends per payout (README, "Performance").
type Perf struct {
	// Pprof serves Go's profiles under /debug/pprof/ on the operators' listener (PPROF; off by default).
	Pprof bool
	// Compression is how requests to Temporal are compressed (TEMPORAL_GRPC_COMPRESSION): gzip, none, or auto
	// (the default: none towards a loopback address, where gzip costs CPU and saves nothing, gzip elsewhere).
	Compression string
	Worker      Worker
}

// Worker sizes a worker (WORKER_*): how many payouts' workflows it keeps in memory between their tasks, and how much
// it runs at once. The defaults are measured (README, "Performance").
type Worker struct {
	CacheSize       int // WORKER_CACHE_SIZE: workflows kept in memory (the SDK's sticky cache); beyond it, replayed
	WorkflowTasks   int // WORKER_WORKFLOW_TASKS: workflow tasks run at once
	Activities      int // WORKER_ACTIVITIES: activities (provider calls, event deliveries) run at once
	WorkflowPollers int // WORKER_WORKFLOW_POLLERS: long polls for workflow tasks
	ActivityPollers int // WORKER_ACTIVITY_POLLERS: long polls for activity tasks
	// StopTimeout is WORKER_STOP_TIMEOUT: how long a worker told to stop (SIGTERM) lets the calls under way finish
	// before it cuts them short; a provider call that moves money and is cut short has an unknown outcome.
	StopTimeout time.Duration
}

// DefaultWorker is the worker's sizing when no WORKER_* variable says otherwise. A payout's workflow in the cache
// holds about 150 KB (measured: 600 payouts left waiting, worker RSS +149 KB each with the SDK's cache of 10,000,
// +27 KB with a cache of 100), so the SDK's 10,000 alone would take 1.5 GB with 10,000 payouts waiting; 1,000 holds
// twice the 500 in flight that `make bench` runs, and a payout that waits beyond it is replayed from its history
// at its next task (a few milliseconds). The rest are the SDK's own defaults: no measurement asked for others.
// The stop timeout leaves a provider's answer time to come (they answer in seconds) within Kubernetes' default
// grace period of 30 s.
var DefaultWorker = Worker{CacheSize: 1000, WorkflowTasks: 1000, Activities: 1000, WorkflowPollers: 2, ActivityPollers: 2,
	StopTimeout: 20 * time.Second}

// Compression settings (TEMPORAL_GRPC_COMPRESSION).
const (
	CompressionAuto = "auto"
	CompressionGzip = "gzip"
	CompressionNone = "none"
)

func loadPerf() (Perf, error) {
	var p Perf
	var err error
	if p.Pprof, err = boolean("PPROF", false); err != nil {
		return p, err
	}
	w := DefaultWorker
	for _, v := range []struct {
		name string
		n    *int
	}{
		{"WORKER_CACHE_SIZE", &w.CacheSize}, {"WORKER_WORKFLOW_TASKS", &w.WorkflowTasks}, {"WORKER_ACTIVITIES", &w.Activities},
		{"WORKER_WORKFLOW_POLLERS", &w.WorkflowPollers}, {"WORKER_ACTIVITY_POLLERS", &w.ActivityPollers},
	} {
		if *v.n, err = positive(v.name, *v.n); err != nil {
			return p, err
		}
	}
	if w.WorkflowPollers < 2 {
		return p, fmt.Errorf("WORKER_WORKFLOW_POLLERS: %d is fewer than 2 (the SDK needs one for the task queue and one for the worker's own sticky queue)", w.WorkflowPollers)
	}
	if w.StopTimeout, err = duration("WORKER_STOP_TIMEOUT", w.StopTimeout); err != nil {
		return p, err
	}
	p.Worker = w
	switch p.Compression = strings.ToLower(env("TEMPORAL_GRPC_COMPRESSION", CompressionAuto)); p.Compression {
	case CompressionAuto, CompressionGzip, CompressionNone:
	default:
		return p, fmt.Errorf("TEMPORAL_GRPC_COMPRESSION: %q is not one of auto, gzip, none", os.Getenv("TEMPORAL_GRPC_COMPRESSION"))
	}
	return p, nil
}

// grpcCompression is the compression of the client's requests to Temporal at hostPort.
func (p Perf) grpcCompression(hostPort string) client.GrpcCompression {
	if p.Compression == CompressionNone || p.Compression != CompressionGzip && loopbackHost(hostPort) {
		return &client.GrpcCompressionNone{}
	}
	return &client.GrpcCompressionGzip{}
}

// MemoSizeWarning is the memo size above which the SDK warns. A payout publishes its state in its memo (about 3 KB
// for a card payout, so that reads need no worker); the SDK's default of 2 KiB logged a WARN line at every change of
// every payout. The embedded server (internal/devserver) warns from the same size.
const MemoSizeWarning = 16 << 10

// positive reads a whole number of at least 1; def when it is not set.
func positive(name string, def int) (int, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s: %q is not a whole number of at least 1", name, v)
	}
	return n, nil
}
