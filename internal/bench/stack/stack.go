// Package stack starts what `make bench` measures, one process per part so that each one's CPU and memory can be
// read: payoutflow's parts from cmd/dev (the embedded Temporal server on SQLite, the sandboxes, the worker, the API)
// and the peer's (its worker with the webhook receiver, its bank), all on free loopback ports, under one directory.
package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/payoutflow/payoutflow/internal/stacktest"
)

// Process names, as the report shows them.
const (
	Temporal   = "temporal"
	Sandboxes  = "sandboxes"
	Worker     = "worker"
	API        = "api"
	PeerWorker = "peer-worker"
	PeerBank   = "peer-bank"
)

// Options say which binaries to run where.
type Options struct {
	Dev  string   // cmd/dev's binary
	Peer string   // cmd/benchpeer's binary
	Dir  string   // data and logs go here
	Env  []string // added to this process's environment for every part (LOG_LEVEL passes through as it is)
}

// Stack is the running processes.
type Stack struct {
	APIURL       string // payoutflow's REST API
	APIKey       string // its development key (every scope)
	TemporalAddr string // the embedded server's frontend
	Namespace    string // payoutflow's and the peer's namespace
	DataDir      string // Temporal's SQLite file, the sandboxes' state, the keys
	Logs         string
	OpsAddrs     map[string]string // each of payoutflow's parts' operators' listener (metrics; /debug/pprof/ with PPROF=true)
	procs        []*stacktest.Proc
}

// Start starts every part, each once the one before answers, and returns when all are ready.
func Start(opts Options) (s *Stack, err error) {
	addrs := map[string]string{}
	for _, name := range []string{"api", "ui", "codec", "temporal", "bank131", "bepaid", "mandarin", "metrics-worker",
		"metrics-api", "metrics-temporal", "metrics-sandboxes", "peer-receiver", "peer-bank"} {
		if addrs[name], err = stacktest.FreeAddr(); err != nil {
			return nil, err
		}
	}
	s = &Stack{APIURL: "http://" + addrs["api"], TemporalAddr: addrs["temporal"], Namespace: "default",
		DataDir: filepath.Join(opts.Dir, "data"), Logs: filepath.Join(opts.Dir, "logs")}
	if err := os.MkdirAll(s.Logs, 0o755); err != nil {
		return nil, err
	}
	started := s // a failed start returns a nil *Stack: what did start is stopped here
	defer func() {
		if err != nil {
			started.Stop()
		}
	}()
	env := append(os.Environ(),
		"DATA_DIR="+s.DataDir,
		"API_ADDR="+addrs["api"],
		"PUBLIC_URL="+s.APIURL,
		"UI_ADDR="+addrs["ui"],
		"UI_ORIGIN=http://"+addrs["ui"],
		"CODEC_ADDR="+addrs["codec"],
		"CODEC_URL=http://"+addrs["codec"]+"/codec",
		"TEMPORAL_ADDRESS="+addrs["temporal"],
		"TEMPORAL_NAMESPACE="+s.Namespace,
		"BANK131_SANDBOX_ADDR="+addrs["bank131"],
		"BEPAID_SANDBOX_ADDR="+addrs["bepaid"],
		"MANDARIN_SANDBOX_ADDR="+addrs["mandarin"],
	)
	env = append(env, opts.Env...)
	const ready = 3 * time.Minute
	start := func(name string, bin string, args []string, env []string, up func() bool) error {
		p, err := stacktest.Start(name, s.Logs, opts.Dir, bin, args, env)
		if err != nil {
			return err
		}
		s.procs = append(s.procs, p)
		return p.WaitReady(ready, up)
	}
	dev := func(part string, extra ...string) error {
		return start(part, opts.Dev, []string{"-parts", part}, append(env, extra...), func() bool { return true })
	}
	// make run serves /metrics (and counts the payout gauges); so does each part here, on a port of its own.
	s.OpsAddrs = map[string]string{Temporal: addrs["metrics-temporal"], Sandboxes: addrs["metrics-sandboxes"],
		Worker: addrs["metrics-worker"], API: addrs["metrics-api"]}
	if err := start(Temporal, opts.Dev, []string{"-parts", Temporal}, append(env, "METRICS_ADDR="+addrs["metrics-temporal"]), func() bool { return stacktest.Dials(addrs["temporal"]) }); err != nil {
		return nil, err
	}
	if err := start(Sandboxes, opts.Dev, []string{"-parts", Sandboxes}, append(env, "METRICS_ADDR="+addrs["metrics-sandboxes"]), func() bool {
		return stacktest.Dials(addrs["bank131"]) && stacktest.Dials(addrs["bepaid"]) && stacktest.Dials(addrs["mandarin"])
	}); err != nil {
		return nil, err
	}
	if err := dev(Worker, "METRICS_ADDR="+addrs["metrics-worker"]); err != nil {
		return nil, err
	}
	if err := start(API, opts.Dev, []string{"-parts", API}, append(env, "METRICS_ADDR="+addrs["metrics-api"]), func() bool {
		return stacktest.Answers(s.APIURL + "/readyz")
	}); err != nil {
		return nil, err
	}
	key, err := os.ReadFile(filepath.Join(s.DataDir, "dev-api-key"))
	if err != nil {
		return nil, fmt.Errorf("the API's development key: %w", err)
	}
	s.APIKey = strings.TrimSpace(string(key))

	if err := start(PeerBank, opts.Peer, []string{"-part", "bank", "-listen", addrs["peer-bank"],
		"-webhook", "http://" + addrs["peer-receiver"] + "/webhook"}, env, func() bool { return stacktest.Dials(addrs["peer-bank"]) }); err != nil {
		return nil, err
	}
	if err := start(PeerWorker, opts.Peer, []string{"-part", "worker", "-listen", addrs["peer-receiver"],
		"-temporal", addrs["temporal"], "-namespace", s.Namespace, "-bank", "http://" + addrs["peer-bank"]}, env,
		func() bool { return stacktest.Dials(addrs["peer-receiver"]) }); err != nil {
		return nil, err
	}
	return s, nil
}

// Pids are the processes' ids by name.
func (s *Stack) Pids() map[string]int {
	m := map[string]int{}
	for _, p := range s.procs {
		m[p.Name] = p.Pid()
	}
	return m
}

// Exited names a process that has ended, with its log's tail, or is "" while all run.
func (s *Stack) Exited() string {
	for _, p := range s.procs {
		select {
		case <-p.Exited():
			return fmt.Sprintf("%s exited:\n%s", p.Name, stacktest.Tail(p.Log, 20))
		default:
		}
	}
	return ""
}

// Stop stops every process, the last started first.
func (s *Stack) Stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].Stop()
	}
	s.procs = nil
}
