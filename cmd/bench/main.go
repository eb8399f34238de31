// Command bench is `make bench`'s side-by-side measurement: payoutflow end to end through its REST API and sandboxes,
// against a payout of the same shape written with nothing but the Temporal SDK (cmd/benchpeer), on the same embedded
// Temporal server, each part its own process. For each number in flight it alternates the two sides, several
// repetitions, and reports medians: payouts per second, latency, CPU per payout and memory of each process, history
// events per payout, and the ratio. It writes docs/bench/latest.{json,md,svg}. With -scale N it instead creates N
// payouts, leaves them waiting for approval, measures memory, the SQLite file and reads, then approves them all.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/payoutflow/payoutflow/internal/bench/driver"
	"github.com/payoutflow/payoutflow/internal/bench/report"
	"github.com/payoutflow/payoutflow/internal/bench/stack"
	"github.com/payoutflow/payoutflow/internal/config"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	dev, peer, out, dir   string
	only                  string
	levels                []int
	reps                  int
	window                float64
	minWindow             int
	minDuration, maxDur   time.Duration
	warmUp, payoutTimeout time.Duration
	samples               int
	wait                  string
	pollEvery             time.Duration
	scale, scaleConc      int
	keep                  bool
	readme                string
	render                bool
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	levels := fs.String("levels", "20,100,500", "payouts in flight, comma-separated")
	fs.StringVar(&o.dev, "dev", "bin/dev", "cmd/dev's binary")
	fs.StringVar(&o.peer, "peer", "bin/benchpeer", "cmd/benchpeer's binary")
	fs.StringVar(&o.out, "out", "docs/bench", "where latest.json, latest.md and latest.svg go")
	fs.StringVar(&o.dir, "dir", "", "the processes' data and logs (default: a new temporary directory, removed after)")
	fs.IntVar(&o.reps, "reps", 3, "repetitions of each side at each load")
	fs.Float64Var(&o.window, "window", 1, "a measured window ends after this many times the in-flight count of completed payouts…")
	fs.IntVar(&o.minWindow, "min-window", 200, "…and at least this many…")
	fs.DurationVar(&o.minDuration, "min-duration", 10*time.Second, "…and at least this long")
	fs.DurationVar(&o.maxDur, "max-duration", 5*time.Minute, "a warm-up or a window ends after this long in any case")
	fs.DurationVar(&o.warmUp, "warm-up", 5*time.Second, "warm-up: at least this long, and until the in-flight count of payouts completed")
	fs.DurationVar(&o.payoutTimeout, "payout-timeout", 5*time.Minute, "one payout's limit, and how long those in flight get to finish after a window")
	fs.IntVar(&o.samples, "samples", 5, "payouts of each window whose history events are counted")
	fs.StringVar(&o.wait, "wait", "auto", "how payoutflow's driver waits for a status: long-poll (GET ?wait=30s&until=…), poll, or auto (long-poll when the API holds such a GET)")
	fs.DurationVar(&o.pollEvery, "poll-every", 100*time.Millisecond, "the GET interval when polling")
	fs.IntVar(&o.scale, "scale", 0, "instead of the side-by-side runs: create this many payouts (10000 in make bench-scale), leave them waiting, read, approve all")
	fs.IntVar(&o.scaleConc, "scale-concurrency", 50, "creates and confirms at once in -scale")
	fs.StringVar(&o.only, "only", "", "run one side only (payoutflow or peer), to profile or compare builds; the table needs both")
	fs.BoolVar(&o.keep, "keep", false, "keep -dir's data and logs")
	fs.BoolVar(&o.render, "render", false, "run nothing: print the table of -out's latest.json and write its Markdown, plot and -readme again")
	fs.StringVar(&o.readme, "readme", "", "also put the table between the <!-- bench:table --> markers of this file (make bench: README.md)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, s := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-levels: %q is not a positive count", s)
		}
		o.levels = append(o.levels, n)
	}
	switch {
	case o.reps < 1:
		return o, fmt.Errorf("-reps: at least 1")
	case o.only != "" && o.only != "payoutflow" && o.only != "peer":
		return o, fmt.Errorf("-only: %q is not payoutflow or peer", o.only)
	case o.wait != "auto" && o.wait != "long-poll" && o.wait != "poll":
		return o, fmt.Errorf("-wait: %q is not auto, long-poll or poll", o.wait)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if o.render {
		rep, err := report.Load(filepath.Join(o.out, "latest.json"))
		if err != nil {
			return err
		}
		return write(o.out, o.readme, rep, stdout)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, time.Now().Format("15:04:05 ")+format+"\n", a...)
	}
	cfg, err := config.LoadDev()
	if err != nil {
		return err
	}
	level := "LOG_LEVEL=" + strings.ToLower(cfg.LogLevel.String())
	if os.Getenv("LOG_LEVEL") == "" {
		level += " (unset: make run's default)"
	}
	if o.dir == "" {
		if o.dir, err = os.MkdirTemp("", "payoutflow-bench-"); err != nil {
			return err
		}
		if !o.keep {
			defer os.RemoveAll(o.dir)
		}
	}
	for _, b := range []*string{&o.dev, &o.peer} {
		if *b, err = filepath.Abs(*b); err != nil {
			return err
		}
	}
	logf("starting the stack under %s (logs in %s)", o.dir, filepath.Join(o.dir, "logs"))
	st, err := stack.Start(stack.Options{Dev: o.dev, Peer: o.peer, Dir: o.dir})
	if err != nil {
		return err
	}
	defer st.Stop()
	logf("operators' listeners (metrics; /debug/pprof/ with PPROF=true): %v", st.OpsAddrs)
	tc, err := client.Dial(client.Options{HostPort: st.TemporalAddr, Namespace: st.Namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		return fmt.Errorf("dial Temporal: %w", err)
	}
	defer tc.Close()
	prefix := fmt.Sprintf("bench-%d", time.Now().Unix())
	maxInFlight := max(o.scaleConc, 10)
	for _, n := range o.levels {
		maxInFlight = max(maxInFlight, n)
	}
	pf := &driver.Payoutflow{URL: st.APIURL, Key: st.APIKey, HTTP: driver.NewHTTPClient(maxInFlight),
		PollEvery: o.pollEvery, Temporal: tc, LongPoll: o.wait == "long-poll", Logf: logf}
	if o.wait == "auto" {
		lp, err := pf.ProbeLongPoll(ctx, prefix+"-probe")
		if err != nil {
			return err
		}
		logf("the API %s long-poll GETs", map[bool]string{true: "holds", false: "does not hold"}[lp])
	}
	waits := fmt.Sprintf("payoutflow's driver waits with GET every %s", o.pollEvery)
	if pf.LongPoll {
		waits = "payoutflow's driver waits with long-poll GET ?wait=30s&until=…"
	}
	rep, err := report.Load(filepath.Join(o.out, "latest.json"))
	if err != nil {
		return err
	}
	rep.Machine = machine()
	now := time.Now().UTC().Format("2006-01-02 15:04 UTC")

	if o.scale > 0 {
		res, err := driver.Scale(ctx, pf, driver.ScaleOptions{Payouts: o.scale, Concurrency: o.scaleConc, Reads: 200,
			Lists: 10, Timeout: 30 * time.Minute, Procs: st.Pids(), DataDir: st.DataDir, Namespace: st.Namespace,
			KeyPrefix: prefix + "-scale", Logf: logf})
		rep.Scale, rep.ScaleAt = &res, now+"; "+level
		if err != nil {
			logf("scale: %v", err)
		}
		if werr := write(o.out, o.readme, rep, stdout); werr != nil {
			return werr
		}
		return err
	}

	rep.Time = now
	rep.Settings = fmt.Sprintf("%s; the embedded Temporal server on SQLite (1 shard) as make run has it, each part "+
		"its own process; %s, the peer's confirms by an Update that awaits ready_to_confirm; windows: at least "+
		"max(%g×in-flight, %d) payouts and %s after a warm-up of in-flight payouts; %d repetitions, sides alternating",
		level, waits, o.window, o.minWindow, o.minDuration, o.reps)
	peerSide := &driver.Peer{Client: tc, Logf: logf}
	procs := st.Pids()
	procs["driver"] = os.Getpid() // this process: its CPU per payout is in the JSON, to show what driving costs
	var runs []driver.Result
	runErr := func() error {
		for _, n := range o.levels {
			for r := 1; r <= o.reps; r++ {
				sides := []driver.Side{pf, peerSide}
				if r%2 == 0 {
					sides = []driver.Side{peerSide, pf}
				}
				for _, side := range sides {
					if o.only != "" && side.Name() != o.only {
						continue
					}
					if msg := st.Exited(); msg != "" {
						return fmt.Errorf("a process of the stack ended: %s", msg)
					}
					logf("%s at %d in flight, repetition %d of %d", side.Name(), n, r, o.reps)
					res, err := driver.Run(ctx, side, driver.Options{InFlight: n, WindowFactor: o.window,
						MinWindow: o.minWindow, MinDuration: o.minDuration, MaxDuration: o.maxDur, WarmUp: o.warmUp,
						PayoutTimeout: o.payoutTimeout, Procs: procs, Samples: o.samples,
						KeyPrefix: fmt.Sprintf("%s-%s-%d-%d", prefix, side.Name(), n, r), Logf: logf})
					if err != nil {
						return err
					}
					res.Rep = r
					logf("  %.1f payouts/s over %.0f s (%d payouts), p50 %.0f ms, p99 %.0f ms, %.0f events, errors %v; CPU ms per payout %s",
						res.PerSecond, res.WindowSeconds, res.Completed, res.P50Ms, res.P99Ms, res.Events, res.Errors, cpuLine(res.CPUMs))
					runs = append(runs, res)
				}
			}
		}
		return nil
	}()
	// What was measured is written even when a later run failed; the failure is said after it.
	if len(runs) == 0 {
		return runErr
	}
	rep.Runs, rep.Levels = runs, report.Summarize(runs)
	if err := write(o.out, o.readme, rep, stdout); err != nil {
		return errors.Join(runErr, err)
	}
	return runErr
}

// write prints the table and writes the JSON, the Markdown and the plot, and the table to the README when asked.
func write(dir, readme string, rep report.Report, stdout io.Writer) error {
	fmt.Fprint(stdout, "\n"+rep.Table())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := rep.Write(filepath.Join(dir, "latest.json")); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "latest.md"), []byte(rep.Markdown()), 0o644); err != nil {
		return err
	}
	if len(rep.Levels) > 0 {
		if err := plotLevels(rep.Levels, filepath.Join(dir, "latest.svg")); err != nil {
			return err
		}
	}
	written := []string{filepath.Join(dir, "latest.json"), filepath.Join(dir, "latest.md"), filepath.Join(dir, "latest.svg")}
	if readme != "" {
		if err := fillReadme(readme, rep.Markdown()); err != nil {
			return err
		}
		written = append(written, readme)
	}
	fmt.Fprintf(stdout, "\nwritten: %s\n", strings.Join(written, ", "))
	return nil
}

// machine names the CPU and the core count.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s/%s, %d cores (%s), %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), model,
		cmp.Or(runtime.Version(), "go"))
}

// cpuLine is each process's CPU per payout, by name, in name order.
func cpuLine(cpu map[string]float64) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(cpu)) {
		parts = append(parts, fmt.Sprintf("%s %.1f", name, cpu[name]))
	}
	return strings.Join(parts, ", ")
}
