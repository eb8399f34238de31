// Package e2e tests payoutflow as an operator sees it: the whole dev stack (`make run`) as a subprocess, and
// Debian's Chromium, driven by chromedp, approving or cancelling a payout in Temporal UI.
//
// Run: go test ./e2e/ -v -count=1 (Chromium: make e2e-deps, or sudo apt-get install chromium). Screenshots of every
// step, and of the page at a failure, go to e2e/artifacts/.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"
)

const (
	chromiumPath = "/usr/bin/chromium"
	operator     = "e2e-operator"
	reason       = "checked in the UI"

	buildTimeout   = 15 * time.Minute // a cold build cache compiles the Temporal server: ~9 min on two cores
	startTimeout   = 60 * time.Second
	stepTimeout    = 30 * time.Second // one browser step: find an element, click, type
	payoutTimeout  = 60 * time.Second // a payout reaching the status we wait for
	listRefreshGap = 3 * time.Second  // how long the workflow list gets before we ask it again
)

var (
	stack        *devStack // the running `make run` stack; nil when Chromium is missing
	e2eDir       = thisDir()
	artifactsDir = filepath.Join(e2eDir, "artifacts")
)

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	if !chromiumInstalled() {
		return m.Run() // every test skips, or fails under CI, in newBrowser
	}
	tmp, err := os.MkdirTemp("", "payoutflow-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	bin, err := buildDev(tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	stack, err = startStack(bin, tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	code := m.Run()
	if err := stack.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stop the stack:", err)
		code = 1
	}
	if code != 0 {
		stack.dumpLog()
	}
	return code
}

// An operator finds the payout by its status in Temporal UI and confirms it there; the bank pays it out.
func TestOperatorApprovesInTemporalUI(t *testing.T) {
	operatorDecidesInUI(t, "confirm", "succeeded")
}

// An operator finds the payout by its status in Temporal UI and cancels it there; nothing is paid.
func TestOperatorCancelsInTemporalUI(t *testing.T) {
	operatorDecidesInUI(t, "cancel", "cancelled")
}

// operatorDecidesInUI creates a Bank 131 payout by REST, sends the signal (confirm or cancel) as an operator would in
// Temporal UI, and checks by REST that the payout ends with wantStatus and records the operator's decision.
func operatorDecidesInUI(t *testing.T, signal, wantStatus string) {
	b := newBrowser(t, signal)

	id := createPayout(t)
	waitForStatus(t, id, "awaiting_approval")

	// 1. The workflow list, filtered by the payout's search attribute with the UI's own query input.
	b.do("open the workflow list", chromedp.Navigate(stack.uiURL+"/namespaces/default/workflows"))
	b.searchWorkflows(`PayoutStatus="awaiting_approval"`, workflowLink(id))
	require.Equal(t, `PayoutStatus="awaiting_approval"`, b.urlQuery("query"), "the list shows the query's results")
	b.screenshot("01-list")

	// 2. The payout's workflow page.
	b.do("open the workflow", chromedp.Click(visible(workflowLink(id))))
	b.do("wait for the workflow page",
		chromedp.WaitVisible(visible(`//h1[@data-testid="workflow-id-heading"][contains(., "`+id+`")]`)),
		chromedp.WaitVisible(visible(executionStatus("Running"))))
	b.screenshot("02-workflow")

	// 3. More Actions → Send a Signal → the signal, with the decision as JSON.
	b.do("open More Actions", chromedp.Click(visible(`//button[normalize-space()="More Actions"]`)))
	b.do("choose Send a Signal", chromedp.Click(visible(`//*[@role="menuitem"][normalize-space()="Send a Signal"]`)))
	b.do("open the signal picker", chromedp.Click(visible(signalDialog+`//button[@data-testid="signal-select-button"]`)))
	b.do("pick "+signal, chromedp.Click(visible(signalDialog+`//*[@role="option"][.//span[normalize-space()="`+signal+`"]]`)))
	decision := fmt.Sprintf(`{"by": %q, "reason": %q}`, operator, reason)
	b.do("type the data",
		chromedp.SendKeys(visible(signalEditor), decision),
		chromedp.KeyEvent(kb.Tab)) // leave the editor: the UI re-formats the JSON and moves the buttons
	require.JSONEq(t, decision, b.text(signalEditor), "the signal data in the editor")
	b.screenshot("03-signal-form")
	b.do("submit the signal",
		chromedp.Click(visible(signalDialog+`//button[@data-testid="confirm-modal-button"][not(@disabled)]`)),
		chromedp.WaitVisible(visible(`//*[@id="workflow-signal-success-toast"][contains(., "Workflow signaled.")]`)))

	// 4. The payout ends as the operator decided, and says who decided.
	p := waitForStatus(t, id, wantStatus)
	require.NotNil(t, p.Approval, "the payout records the decision")
	require.Equal(t, operator, p.Approval.By)
	require.Equal(t, reason, p.Approval.Reason)
	require.Equal(t, signal == "confirm", p.Approval.Approved)
	b.do("see the workflow completed", chromedp.WaitVisible(visible(executionStatus("Completed")))) // at its next poll
	b.screenshot("04-done")
}

// Selectors, as XPath for visible(): they use roles, text and data-testid, as a person reading the page would.
const (
	signalDialog = `//dialog[@id="signal-confirmation-modal"]`
	signalEditor = signalDialog + `//*[contains(@class, "cm-content")][@role="textbox"]` // CodeMirror
)

func workflowLink(id string) string {
	return `//a[contains(@href, "/namespaces/default/workflows/` + id + `/")][normalize-space()="` + id + `"]`
}

func executionStatus(status string) string {
	return `//*[@data-testid="execution-status"][normalize-space()="` + status + `"]`
}

// visible selects the first element that the XPath expression matches and that is visible. Temporal UI keeps
// hidden copies of its menus, buttons and modals (for other screen sizes, or closed), so a plain query may find one
// that cannot be clicked. Until a visible element matches, the query waits.
func visible(xpath string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(`(() => {
		const found = document.evaluate(%q, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
		for (let i = 0; i < found.snapshotLength; i++) {
			const e = found.snapshotItem(i);
			if (e.checkVisibility({opacityProperty: true, visibilityProperty: true})) return e;
		}
	})()`, xpath))
}

// ---- The browser ----

type browser struct {
	t      *testing.T
	ctx    context.Context
	prefix string // of the screenshots' file names
}

// newBrowser starts headless Chromium with a fresh profile for the test, or skips the test (fails it under CI) when
// Chromium is not installed. At the end of a failed test it saves a screenshot and the page's HTML.
func newBrowser(t *testing.T, prefix string) *browser {
	t.Helper()
	if !chromiumInstalled() {
		install := "install it with `make e2e-deps` (e2e/install-chromium.sh) or `sudo apt-get install chromium`"
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and the browser tests need Chromium, but %s is missing: %s", chromiumPath, install)
		}
		t.Skipf("%s not found, so no browser test: %s", chromiumPath, install)
	}
	profile, err := os.MkdirTemp("", "payoutflow-e2e-chromium-")
	require.NoError(t, err)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1440, 1300),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	b := &browser{t: t, ctx: ctx, prefix: prefix}
	t.Cleanup(func() {
		if t.Failed() {
			b.saveFailure()
		}
		cancelTab()
		cancelAlloc() // waits for Chromium to exit
		_ = os.RemoveAll(profile)
	})
	// Start Chromium now, on a context without a deadline: a step's timeout must not end the browser.
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	return b
}

// do runs browser actions as one step of the test, failing it if they do not finish within stepTimeout. The UI
// polls the server all the time, so steps wait for elements, never for the network to go idle.
func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, actions...), step)
}

// try is do that reports a timeout instead of failing.
func (b *browser) try(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// searchWorkflows types the query into the workflow list's raw query input and waits for want to show. The list
// reads Temporal's visibility store, which may lag the workflow by a moment, so it presses Refresh until want shows.
func (b *browser) searchWorkflows(query, want string) {
	b.t.Helper()
	input := visible(`//input[@data-testid="workflow-manual-search-input"]`)
	b.do("open the raw query input", chromedp.Click(visible(`//button[@data-testid="toggle-manual-query"]`)))
	b.do("search "+query, chromedp.SendKeys(input, query+kb.Enter))
	deadline := time.Now().Add(payoutTimeout)
	for b.try(listRefreshGap, chromedp.WaitVisible(visible(want))) != nil {
		require.True(b.t, time.Now().Before(deadline), "the workflow list never showed %s for %s", want, query)
		b.do("refresh the list", chromedp.Click(visible(`//button[normalize-space()="Refresh"]`)))
	}
}

func (b *browser) text(xpath string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(visible(xpath)))
	require.NoError(b.t, err, "read the text of %s", xpath)
	return s
}

// urlQuery returns a parameter of the page's URL.
func (b *browser) urlQuery(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(b.t, err)
	u, err := url.Parse(loc)
	require.NoError(b.t, err)
	return u.Query().Get(name)
}

// screenshot saves a full-page PNG as e2e/artifacts/<prefix>-<name>.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 means PNG
	require.NoError(b.t, err, "screenshot %s", name)
	b.save(name+".png", png)
}

// saveFailure keeps what the page showed when the test failed: a screenshot and the HTML.
func (b *browser) saveFailure() {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		b.save("failure.png", png)
	}
	if html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); err == nil {
		b.save("failure.html", []byte(html))
	}
}

func (b *browser) save(name string, data []byte) {
	path := filepath.Join(artifactsDir, b.prefix+"-"+name)
	err := os.MkdirAll(artifactsDir, 0o755)
	if err == nil {
		err = os.WriteFile(path, data, 0o644)
	}
	if err != nil {
		b.t.Logf("could not save %s: %v", path, err)
		return
	}
	b.t.Logf("saved %s", path)
}

func chromiumInstalled() bool {
	_, err := os.Stat(chromiumPath)
	return err == nil
}

// ---- The REST API ----

type payout struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Approval *struct {
		Approved bool   `json:"approved"`
		By       string `json:"by"`
		Reason   string `json:"reason"`
	} `json:"approval"`
	Timeline []struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	} `json:"timeline"`
}

// createPayout creates a Bank 131 payout to a card the sandbox pays out, and returns its id.
func createPayout(t *testing.T) string {
	t.Helper()
	body := `{"provider": "bank131",
		"amount": {"value": 10000, "currency": "RUB"},
		"destination": {"type": "card", "card": {"number": "4242424242424242"}},
		"recipient": {"full_name": "Ivanov Ivan"},
		"description": "e2e: ` + t.Name() + `"}`
	key := fmt.Sprintf("e2e-%s-%d", t.Name(), time.Now().UnixNano())
	status, resp := callAPI(t, http.MethodPost, "/v1/payouts", body, "Idempotency-Key", key)
	require.Equal(t, http.StatusCreated, status, "create the payout: %s", resp)
	var p payout
	require.NoError(t, json.Unmarshal(resp, &p))
	require.NotEmpty(t, p.ID)
	return p.ID
}

// waitForStatus polls the payout until it has the status, and fails if it does not get there in time.
func waitForStatus(t *testing.T, id, want string) payout {
	t.Helper()
	var p payout
	for deadline := time.Now().Add(payoutTimeout); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		status, resp := callAPI(t, http.MethodGet, "/v1/payouts/"+id, "")
		require.Equal(t, http.StatusOK, status, "get the payout: %s", resp)
		p = payout{}
		require.NoError(t, json.Unmarshal(resp, &p))
		if p.Status == want {
			return p
		}
	}
	t.Fatalf("payout %s is %s, not %s, after %s; timeline: %+v", id, p.Status, want, payoutTimeout, p.Timeline)
	return p
}

// callAPI calls payoutflow's REST API with the development API key, when the stack wrote one, and returns the
// status and body. Header is name, value pairs.
func callAPI(t *testing.T, method, path, body string, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, stack.apiURL+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	stack.authorize(req)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "%s %s", method, path)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// ---- The stack under test: cmd/dev, as `make run` starts it ----

type devStack struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited; then waitErr is set
	waitErr error
	logPath string
	dataDir string
	apiURL  string
	uiURL   string
}

// buildDev builds cmd/dev into dir.
func buildDev(dir string) (string, error) {
	bin := filepath.Join(dir, "payoutflow-dev")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", bin, "./cmd/dev")
	cmd.Dir = filepath.Dir(e2eDir)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=go1.27.3")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/dev: %w\n%s", err, out)
	}
	fmt.Printf("e2e: built cmd/dev in %s\n", time.Since(start).Round(time.Second))
	return bin, nil
}

// startStack starts the stack on free loopback ports, so that it never meets a running `make run`, and waits until
// the API and the UI answer. A port picked free can be taken before the stack listens on it: then it tries again.
func startStack(bin, dir string) (*devStack, error) {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		var s *devStack
		if s, err = startStackOnce(bin, filepath.Join(dir, fmt.Sprintf("run-%d", attempt))); err == nil {
			return s, nil
		}
		if s != nil {
			_ = s.stop()
			s.dumpLog()
		}
	}
	return nil, err
}

func startStackOnce(bin, dir string) (*devStack, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	api, ui, temporal, codec, bank131, bepaid := freeAddr(), freeAddr(), freeAddr(), freeAddr(), freeAddr(), freeAddr()
	s := &devStack{
		exited:  make(chan struct{}),
		logPath: filepath.Join(dir, "payoutflow-dev.log"),
		dataDir: filepath.Join(dir, "data"),
		apiURL:  "http://" + api,
		uiURL:   "http://" + ui,
	}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the process has its own copy
	s.cmd = exec.Command(bin)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.Env = append(os.Environ(),
		"DATA_DIR="+s.dataDir,
		"API_ADDR="+api,
		"UI_ADDR="+ui,
		"TEMPORAL_ADDRESS="+temporal,
		"CODEC_ADDR="+codec,
		"BANK131_SANDBOX_ADDR="+bank131,
		"BEPAID_SANDBOX_ADDR="+bepaid,
		"PUBLIC_URL="+s.apiURL,
		"UI_ORIGIN="+s.uiURL,
		"CODEC_URL=http://"+codec+"/codec",
		"METRICS_ADDR=off",
	)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.exited) }()

	start := time.Now()
	for deadline := start.Add(startTimeout); ; time.Sleep(200 * time.Millisecond) {
		select {
		case <-s.exited:
			return s, fmt.Errorf("the stack exited before it was ready: %v", s.waitErr)
		default:
		}
		if s.answers(s.apiURL+"/healthz") && s.answers(s.uiURL+"/") {
			fmt.Printf("e2e: stack ready in %s (API %s, UI %s)\n", time.Since(start).Round(time.Millisecond), s.apiURL, s.uiURL)
			return s, nil
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("the stack did not answer on %s/healthz and %s/ within %s", s.apiURL, s.uiURL, startTimeout)
		}
	}
}

// answers tells whether GET url answers 200.
func (s *devStack) answers(url string) bool {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	s.authorize(req)
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// authorize adds the development API key that the stack writes to DATA_DIR/dev-api-key, if it wrote one. The key
// is read at each call, since the stack writes it during its first start.
func (s *devStack) authorize(req *http.Request) {
	if key, err := os.ReadFile(filepath.Join(s.dataDir, "dev-api-key")); err == nil {
		if k := strings.TrimSpace(string(key)); k != "" {
			req.Header.Set("Authorization", "Bearer "+k)
		}
	}
}

// stop interrupts the stack as Ctrl-C would, and waits for it to exit (kills it after 30 s).
func (s *devStack) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.New("the stack did not exit within 30 s of SIGINT; killed it")
	}
	if s.waitErr != nil {
		return fmt.Errorf("the stack exited with %w after SIGINT", s.waitErr)
	}
	return nil
}

// dumpLog prints the stack's log, and keeps a copy in e2e/artifacts.
func (s *devStack) dumpLog() {
	log, err := os.ReadFile(s.logPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: read the stack's log:", err)
		return
	}
	fmt.Fprintf(os.Stderr, "---- log of the payoutflow dev stack (%s) ----\n%s---- end of log ----\n", s.logPath, bytes.TrimLeft(log, "\n"))
	if err := os.MkdirAll(artifactsDir, 0o755); err == nil {
		_ = os.WriteFile(filepath.Join(artifactsDir, "payoutflow-dev.log"), log, 0o644)
	}
}

// freeAddr returns a loopback address with a port that is free now.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// thisDir returns the directory of this file, e2e/ in the repository.
func thisDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("e2e: cannot find the test's source file")
	}
	return filepath.Dir(file)
}
