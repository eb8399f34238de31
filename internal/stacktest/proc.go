// Package stacktest runs payoutflow's processes for the tests that start them as an operator does (the cluster
// test, the deploy test): processes with their logs, free loopback ports, the REST API as a backend and operators
// call it, the sandboxes' ledgers and the payouts' histories.
package stacktest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one running process, its output appended to its log file.
type Proc struct {
	Name, Log string
	Cmd       *exec.Cmd
	exited    chan struct{}
}

// Start starts bin with args and exactly the environment env (nothing is inherited), its output appended to
// logDir/name.log.
func Start(name, logDir, dir, bin string, args, env []string) (*Proc, error) {
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, logFile, logFile
	cmd.SysProcAttr = ChildAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Log: logPath, Cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Exited is closed once the process has ended.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// WaitReady polls ready until it holds, the process exits or timeout passes; the error quotes the log's tail.
func (p *Proc) WaitReady(timeout time.Duration, ready func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ready() {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before it was ready:\n%s", p.Name, Tail(p.Log, 30))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %s:\n%s", p.Name, timeout, Tail(p.Log, 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// Stop sends SIGTERM, as an orchestrator does, and waits until the process is gone (SIGKILL after 30 s).
func (p *Proc) Stop() {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-p.exited
	}
}

// Kill sends SIGKILL, as a crash or an out-of-memory kill, and waits until the process is gone.
func (p *Proc) Kill() {
	_ = p.Cmd.Process.Kill()
	<-p.exited
}

// FreeAddr is a loopback address with a port free now, for a process the test starts to listen on. The port is
// outside the kernel's ephemeral range, from which every process that listens on port 0 or connects out is handed
// one: a port from that range may be taken by another before the process binds it. A port is handed out once per
// process: the processes a test starts may bind theirs all at once, later.
func FreeAddr() (string, error) {
	if r, ok := quietPorts(); ok {
		for range 100 {
			port := r[0] + rand.IntN(r[1]-r[0])
			if _, taken := handedOut.LoadOrStore(port, true); taken {
				continue
			}
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			if ln, err := net.Listen("tcp", addr); err == nil {
				ln.Close()
				return addr, nil
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// handedOut are the ports FreeAddr has handed out.
var handedOut sync.Map

// quietPorts is a range of ports [r[0], r[1]) the kernel hands out to no one (Linux: below or above
// ip_local_port_range, never below 10000), and whether there is one of at least 5,000 ports; read once.
var quietPorts = sync.OnceValues(readQuietPorts)

func readQuietPorts() (r [2]int, ok bool) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return r, false
	}
	var low, high int
	if _, err := fmt.Sscan(string(b), &low, &high); err != nil {
		return r, false
	}
	const floor, size = 10000, 5000
	switch {
	case low-floor >= size:
		return [2]int{floor, low}, true
	case 65536-(high+1) >= size:
		return [2]int{high + 1, 65536}, true
	}
	return r, false
}

// Dials reports whether addr takes TCP connections.
func Dials(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// Answers reports whether a GET of url answers 200.
func Answers(url string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Tail is the last n lines of a file.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Tails is the last lines of every log in dir, for a failure message.
func Tails(dir string, lines int) string {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	var b strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&b, "--- %s (last %d lines)\n%s\n", filepath.Base(p), lines, Tail(p, lines))
	}
	return b.String()
}
