package deploytest

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/payoutflow/payoutflow/internal/stacktest"
)

// Part names of cmd/dev (-parts).
const (
	partTemporal  = "temporal"
	partSandboxes = "sandboxes"
	partWorker    = "worker"
	partAPI       = "api"
)

// taskQueue is the payout workflows' task queue (workflows.TaskQueue), on which both releases' workers poll.
const taskQueue = "payouts"

// stack is payoutflow run as one process per part of cmd/dev, each from the binary the test gives it, on free
// loopback ports, under one data directory: the parts share keys, the codec key and Temporal's SQLite file.
type stack struct {
	t        *testing.T
	dir      string
	logs     string
	env      []string
	addrs    map[string]string
	apiURL   string
	sandbox  map[string]string // provider → base URL
	mu       sync.Mutex
	procs    map[string]*proc
	temporal client.Client
}

// proc is one running part.
type proc struct {
	part, label, log string
	cmd              *exec.Cmd
	exited           chan struct{}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	a, err := stacktest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// newStack allocates the ports and the environment every part shares; env is added to it.
func newStack(t *testing.T, dir string, env ...string) *stack {
	s := &stack{t: t, dir: dir, logs: filepath.Join(dir, "logs"), addrs: map[string]string{}, procs: map[string]*proc{}}
	for _, name := range []string{"api", "ui", "codec", "temporal", "bank131", "bepaid", "mandarin"} {
		s.addrs[name] = freeAddr(t)
	}
	if err := os.MkdirAll(s.logs, 0o755); err != nil {
		t.Fatal(err)
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
		"TEMPORAL_NAMESPACE=default",
		"TASK_QUEUE="+taskQueue,
		"BANK131_SANDBOX_ADDR="+s.addrs["bank131"],
		"BEPAID_SANDBOX_ADDR="+s.addrs["bepaid"],
		"MANDARIN_SANDBOX_ADDR="+s.addrs["mandarin"],
		"PUBLIC_URL="+s.apiURL,
		"UI_ORIGIN=http://"+s.addrs["ui"],
		"SANDBOX_FAULTS=",
		"CODEC_KEY=",
		"CODEC_KEY_FILE=",
	)
	s.env = append(s.env, env...)
	t.Cleanup(s.stopAll)
	return s
}

// start starts part from bin (label names the binary in logs and messages) with extra environment, and waits
// until it serves: Temporal and the sandboxes take connections, the API answers /healthz, a worker polls the task
// queue.
func (s *stack) start(part, bin, label string, env ...string) *proc {
	s.t.Helper()
	logPath := filepath.Join(s.logs, part+"-"+label+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "-parts", part)
	cmd.Dir, cmd.Stdout, cmd.Stderr = s.dir, logFile, logFile
	cmd.Env = append(append([]string{}, s.env...), env...)
	cmd.SysProcAttr = stacktest.ChildAttr()
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s (%s): %v", part, label, err)
	}
	p := &proc{part: part, label: label, log: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	s.mu.Lock()
	s.procs[part] = p
	s.mu.Unlock()

	ready := func() bool {
		switch part {
		case partTemporal:
			return stacktest.Dials(s.addrs["temporal"])
		case partSandboxes:
			return stacktest.Dials(s.addrs["bank131"]) && stacktest.Dials(s.addrs["bepaid"]) && stacktest.Dials(s.addrs["mandarin"])
		case partAPI:
			return stacktest.Answers(s.apiURL + "/healthz")
		case partWorker:
			return stacktest.Polling(s.temporal, taskQueue, p.cmd.Process.Pid)
		}
		return true
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !ready() {
		select {
		case <-p.exited:
			s.t.Fatalf("%s (%s) exited before it was ready:\n%s", part, label, stacktest.Tail(logPath, 30))
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s (%s) not ready within 2 minutes:\n%s", part, label, stacktest.Tail(logPath, 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if part == partTemporal {
		s.dialTemporal()
	}
	return p
}

// dialTemporal connects the test's own client to the Temporal server, to read histories and task queue pollers.
func (s *stack) dialTemporal() {
	c, err := client.Dial(client.Options{
		HostPort:  s.addrs["temporal"],
		Namespace: "default",
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		s.t.Fatalf("dial Temporal at %s: %v", s.addrs["temporal"], err)
	}
	s.temporal = c
}

// stop stops a part with SIGTERM, as an orchestrator does, and waits until it is gone (SIGKILL after 30 s). It
// returns how long that took.
func (s *stack) stop(part string) time.Duration {
	s.mu.Lock()
	p := s.procs[part]
	delete(s.procs, part)
	s.mu.Unlock()
	if p == nil {
		return 0
	}
	started := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		s.t.Logf("%s (%s) did not stop within 30 s of SIGTERM; killing it", part, p.label)
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	if st := p.cmd.ProcessState; st != nil && !st.Success() {
		s.t.Logf("%s (%s) ended with %s", part, p.label, st)
	}
	return time.Since(started)
}

// stopAll stops every part, the API and the worker first, and closes the test's Temporal client. It may be called
// again.
func (s *stack) stopAll() {
	for _, part := range []string{partAPI, partWorker, partSandboxes} {
		s.stop(part)
	}
	if s.temporal != nil {
		s.temporal.Close()
		s.temporal = nil
	}
	s.stop(partTemporal)
}

// logTails returns the last lines of every part's log, for a failure message.
func (s *stack) logTails(lines int) string { return stacktest.Tails(s.logs, lines) }

// grepLog returns the lines of a log that contain any of the words, case-insensitively.
func grepLog(path string, words ...string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		l := strings.ToLower(line)
		for _, w := range words {
			if strings.Contains(l, strings.ToLower(w)) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

// webhookRelay stands between the Bank 131 sandbox and the webhook receiver: it passes every webhook on, except
// those of payouts made deaf, which it answers 200 and drops, as a bank whose webhooks get lost. Such a payout
// learns where it stands only by asking the bank (polling).
type webhookRelay struct {
	srv    *httptest.Server
	target string
	http   *http.Client
	mu     sync.Mutex
	deaf   map[string]bool
	drops  map[string]int
}

func newWebhookRelay(t *testing.T, target string) *webhookRelay {
	r := &webhookRelay{target: target, http: &http.Client{Timeout: 10 * time.Second}, deaf: map[string]bool{}, drops: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// deafen drops every later webhook that names the payout (the sandbox puts the payout id in the session's
// metadata).
func (r *webhookRelay) deafen(payoutID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deaf[payoutID] = true
}

func (r *webhookRelay) dropped(payoutID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.drops[payoutID]
}

func (r *webhookRelay) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for id := range r.deaf {
		if bytes.Contains(body, []byte(id)) {
			r.drops[id]++
			r.mu.Unlock()
			w.WriteHeader(http.StatusOK) // "delivered": the bank will not send it again
			return
		}
	}
	r.mu.Unlock()
	out, err := http.NewRequestWithContext(req.Context(), req.Method, r.target+req.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out.Header = req.Header.Clone()
	resp, err := r.http.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
