// Package chaos proves that payouts are paid at most once and never lost, whatever the network, the providers and
// payoutflow's own processes do: it starts the stack as separate processes (Temporal, the sandboxes with faults
// injected, the worker, the API), runs payouts across every provider and method, kills and restarts processes
// during the run, and reports what became of each payout against the sandboxes' ledgers.
package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/payoutflow/payoutflow/internal/stacktest"
)

// Part names of cmd/dev (-parts).
const (
	partTemporal  = "temporal"
	partSandboxes = "sandboxes"
	partWorker    = "worker"
	partAPI       = "api"
)

// stack is payoutflow run as one process per part, on free loopback ports, under one data directory.
type stack struct {
	bin     string
	dir     string
	env     []string
	addrs   map[string]string
	mu      sync.Mutex
	procs   map[string]*proc
	logs    string
	logf    func(format string, args ...any)
	apiURL  string
	sandbox map[string]string // provider → base URL
}

type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func newStack(bin, dir string, extraEnv []string, logf func(string, ...any)) (*stack, error) {
	s := &stack{bin: bin, dir: dir, procs: map[string]*proc{}, logs: filepath.Join(dir, "logs"), logf: logf,
		addrs: map[string]string{}, sandbox: map[string]string{}}
	for _, name := range []string{"api", "ui", "codec", "temporal", "bank131", "bepaid", "mandarin"} {
		a, err := stacktest.FreeAddr()
		if err != nil {
			return nil, err
		}
		s.addrs[name] = a
	}
	if err := os.MkdirAll(s.logs, 0o755); err != nil {
		return nil, err
	}
	s.apiURL = "http://" + s.addrs["api"]
	s.sandbox = map[string]string{"bank131": "http://" + s.addrs["bank131"], "bepaid": "http://" + s.addrs["bepaid"],
		"mandarin": "http://" + s.addrs["mandarin"]}
	s.env = append(os.Environ(),
		"DATA_DIR="+filepath.Join(dir, "data"),
		"API_ADDR="+s.addrs["api"],
		"UI_ADDR="+s.addrs["ui"],
		"CODEC_ADDR="+s.addrs["codec"],
		"CODEC_URL=http://"+s.addrs["codec"]+"/codec",
		"TEMPORAL_ADDRESS="+s.addrs["temporal"],
		"BANK131_SANDBOX_ADDR="+s.addrs["bank131"],
		"BEPAID_SANDBOX_ADDR="+s.addrs["bepaid"],
		"MANDARIN_SANDBOX_ADDR="+s.addrs["mandarin"],
		"PUBLIC_URL="+s.apiURL,
		"UI_ORIGIN=http://"+s.addrs["ui"],
	)
	s.env = append(s.env, extraEnv...)
	return s, nil
}

// start starts a part and waits until it answers.
func (s *stack) start(part string) error {
	log, err := os.OpenFile(filepath.Join(s.logs, part+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(s.bin, "-parts", part)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.dir, s.env, log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", part, err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	s.mu.Lock()
	s.procs[part] = p
	s.mu.Unlock()
	return s.waitReady(part, p)
}

func (s *stack) waitReady(part string, p *proc) error {
	ready := func() bool {
		switch part {
		case partTemporal:
			return stacktest.Dials(s.addrs["temporal"])
		case partSandboxes:
			return stacktest.Dials(s.addrs["bank131"]) && stacktest.Dials(s.addrs["bepaid"]) && stacktest.Dials(s.addrs["mandarin"])
		case partAPI:
			return stacktest.Answers(s.apiURL + "/healthz")
		}
		return true
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !ready() {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before it was ready; see %s", part, filepath.Join(s.logs, part+".log"))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within 2 minutes; see %s", part, filepath.Join(s.logs, part+".log"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if part == partWorker {
		time.Sleep(time.Second) // it polls once connected; nothing to ask it
	}
	return nil
}

// kill stops a part with SIGKILL (hard) or SIGTERM, and waits until it is gone.
func (s *stack) kill(part string, hard bool) {
	s.mu.Lock()
	p := s.procs[part]
	delete(s.procs, part)
	s.mu.Unlock()
	if p == nil {
		return
	}
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// restart kills a part and starts it again.
func (s *stack) restart(part string, hard bool) error {
	how := "stopped"
	if hard {
		how = "killed (SIGKILL)"
	}
	s.kill(part, hard)
	s.logf("chaos: %s %s; starting it again", part, how)
	return s.start(part)
}

// stopAll stops every part, the API and the worker first.
func (s *stack) stopAll() {
	for _, part := range []string{partAPI, partWorker, partSandboxes, partTemporal} {
		s.kill(part, false)
	}
}
