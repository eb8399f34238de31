// Package report summarizes the benchmark's runs (medians of the repetitions, the ratio of the two sides) and writes
// them as a table, Markdown and JSON.
package report

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/payoutflow/payoutflow/internal/bench/driver"
	"github.com/payoutflow/payoutflow/internal/bench/stack"
	"github.com/payoutflow/payoutflow/internal/bench/stats"
)

// Sides are the two sides, in the report's order.
var Sides = []string{"payoutflow", "peer"}

// Roles group each side's processes: the Temporal server they share, the application, and the bank it talks to.
type Roles struct{ Server, App, Bank []string }

// RolesOf are each side's processes by role.
var RolesOf = map[string]Roles{
	"payoutflow": {Server: []string{stack.Temporal}, App: []string{stack.Worker, stack.API}, Bank: []string{stack.Sandboxes}},
	"peer":       {Server: []string{stack.Temporal}, App: []string{stack.PeerWorker}, Bank: []string{stack.PeerBank}},
}

// Side is one side's figures at one load: medians over the repetitions (RSS: the largest seen; errors: all).
type Side struct {
	Runs        int                `json:"runs"`
	PerSecond   float64            `json:"payouts_per_second"`
	P50Ms       float64            `json:"latency_p50_ms"`
	P99Ms       float64            `json:"latency_p99_ms"`
	Events      float64            `json:"history_events_per_payout"`
	ServerCPUMs float64            `json:"server_cpu_ms_per_payout"`
	AppCPUMs    float64            `json:"app_cpu_ms_per_payout"`
	BankCPUMs   float64            `json:"bank_cpu_ms_per_payout"`
	CPUMs       map[string]float64 `json:"cpu_ms_per_payout"`
	RSSMB       map[string]float64 `json:"rss_mb"`
	HWMMB       map[string]float64 `json:"peak_rss_mb"`
	Errors      map[string]int     `json:"errors,omitempty"`
}

// Level is both sides at one number in flight.
type Level struct {
	InFlight   int     `json:"in_flight"`
	Payoutflow Side    `json:"payoutflow"`
	Peer       Side    `json:"peer"`
	Ratio      float64 `json:"throughput_ratio"` // payoutflow's payouts per second over the peer's
}

// Report is what a `make bench` wrote.
type Report struct {
	Time     string              `json:"time"`
	Machine  string              `json:"machine"`
	Settings string              `json:"settings"`
	Levels   []Level             `json:"levels,omitempty"`
	Runs     []driver.Result     `json:"runs,omitempty"`
	Scale    *driver.ScaleResult `json:"scale,omitempty"`
	ScaleAt  string              `json:"scale_time,omitempty"`
}

// Summarize groups runs by load and side and takes their medians.
func Summarize(runs []driver.Result) []Level {
	byLoad := map[int]map[string][]driver.Result{}
	for _, r := range runs {
		if byLoad[r.InFlight] == nil {
			byLoad[r.InFlight] = map[string][]driver.Result{}
		}
		byLoad[r.InFlight][r.Side] = append(byLoad[r.InFlight][r.Side], r)
	}
	var levels []Level
	for _, n := range slices.Sorted(maps.Keys(byLoad)) {
		l := Level{InFlight: n, Payoutflow: side("payoutflow", byLoad[n]["payoutflow"]), Peer: side("peer", byLoad[n]["peer"])}
		l.Ratio = stats.Ratio(l.Payoutflow.PerSecond, l.Peer.PerSecond)
		levels = append(levels, l)
	}
	return levels
}

func side(name string, runs []driver.Result) Side {
	s := Side{Runs: len(runs), CPUMs: map[string]float64{}, RSSMB: map[string]float64{}, HWMMB: map[string]float64{}}
	if len(runs) == 0 {
		return s
	}
	median := func(f func(driver.Result) float64) float64 {
		var xs []float64
		for _, r := range runs {
			xs = append(xs, f(r))
		}
		return stats.Median(xs)
	}
	roles := RolesOf[name]
	sum := func(r driver.Result, procs []string) float64 {
		t := 0.0
		for _, p := range procs {
			t += r.CPUMs[p]
		}
		return t
	}
	s.PerSecond = median(func(r driver.Result) float64 { return r.PerSecond })
	s.P50Ms = median(func(r driver.Result) float64 { return r.P50Ms })
	s.P99Ms = median(func(r driver.Result) float64 { return r.P99Ms })
	s.Events = median(func(r driver.Result) float64 { return r.Events })
	s.ServerCPUMs = median(func(r driver.Result) float64 { return sum(r, roles.Server) })
	s.AppCPUMs = median(func(r driver.Result) float64 { return sum(r, roles.App) })
	s.BankCPUMs = median(func(r driver.Result) float64 { return sum(r, roles.Bank) })
	for _, p := range slices.Concat(roles.Server, roles.App, roles.Bank) {
		s.CPUMs[p] = median(func(r driver.Result) float64 { return r.CPUMs[p] })
		for _, r := range runs {
			s.RSSMB[p] = max(s.RSSMB[p], r.RSSMB[p])
			s.HWMMB[p] = max(s.HWMMB[p], r.HWMMB[p])
		}
	}
	for _, r := range runs {
		for k, v := range r.Errors {
			if s.Errors == nil {
				s.Errors = map[string]int{}
			}
			s.Errors[k] += v
		}
	}
	return s
}

func (s Side) rss(procs []string) float64 {
	t := 0.0
	for _, p := range procs {
		t += s.RSSMB[p]
	}
	return t
}

func errorsText(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// errorCount is how many errors, and how many of them were 5xx answers.
func errorCount(m map[string]int) string {
	total, fivexx := 0, 0
	for k, v := range m {
		total += v
		if strings.Contains(k, "HTTP 5") {
			fivexx += v
		}
	}
	if total == 0 {
		return "none"
	}
	return fmt.Sprintf("%d (5xx: %d)", total, fivexx)
}

type row struct {
	inFlight int
	name     string
	s        Side
	ratio    string
}

func (r Report) rows() []row {
	var rows []row
	for _, l := range r.Levels {
		rows = append(rows, row{l.InFlight, "payoutflow", l.Payoutflow, fmt.Sprintf("%.2f×", l.Ratio)},
			row{l.InFlight, "peer", l.Peer, ""})
	}
	return rows
}

var header = []string{"in flight", "side", "payouts/s", "vs peer", "p50 ms", "p99 ms", "events/payout",
	"CPU ms/payout: server", "CPU app", "CPU bank", "RSS MB: server", "RSS app", "RSS bank", "errors"}

func (r Report) cells(w row) []string {
	roles := RolesOf[w.name]
	return []string{fmt.Sprint(w.inFlight), w.name, fmt.Sprintf("%.1f", w.s.PerSecond), w.ratio,
		fmt.Sprintf("%.0f", w.s.P50Ms), fmt.Sprintf("%.0f", w.s.P99Ms), fmt.Sprintf("%.0f", w.s.Events),
		fmt.Sprintf("%.1f", w.s.ServerCPUMs), fmt.Sprintf("%.1f", w.s.AppCPUMs), fmt.Sprintf("%.1f", w.s.BankCPUMs),
		fmt.Sprintf("%.0f", w.s.rss(roles.Server)), fmt.Sprintf("%.0f", w.s.rss(roles.App)),
		fmt.Sprintf("%.0f", w.s.rss(roles.Bank)), errorCount(w.s.Errors)}
}

// Table is the side-by-side table for a terminal, with the failures called out below it.
func (r Report) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n\n", r.Machine, r.Settings)
	if len(r.Levels) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, w := range r.rows() {
			fmt.Fprintln(tw, strings.Join(r.cells(w), "\t"))
		}
		_ = tw.Flush()
		fmt.Fprintln(&b, "\nserver: the Temporal server (shared; its CPU while one side runs, per payout of that side); app: "+
			"payoutflow's worker + API, the peer's worker + webhook receiver; bank: the Bank 131 sandbox, the peer's bank. "+
			"Medians of the repetitions; RSS the largest seen.")
		b.WriteString(r.notes())
	}
	if r.Scale != nil {
		b.WriteString("\n" + r.scaleText())
	}
	return b.String()
}

// notes list the runs cut short and every side's errors at each load, a 5xx answer called out with !!!.
func (r Report) notes() string {
	var b strings.Builder
	for _, run := range r.Runs {
		if run.Cut || run.Undrained > 0 {
			fmt.Fprintf(&b, "note: %s at %d in flight, repetition %d: warm-up or window cut at -max-duration (%d payouts "+
				"in %.0f s); %d payouts still in flight after -payout-timeout\n", run.Side, run.InFlight, run.Rep,
				run.Completed, run.WindowSeconds, run.Undrained)
		}
	}
	for _, l := range r.Levels {
		for _, s := range []struct {
			name string
			s    Side
		}{{"payoutflow", l.Payoutflow}, {"peer", l.Peer}} {
			if len(s.s.Errors) == 0 {
				continue
			}
			mark := "errors"
			if !strings.Contains(errorCount(s.s.Errors), "(5xx: 0)") {
				mark = "!!! errors, 5xx among them"
			}
			fmt.Fprintf(&b, "%s: %s at %d in flight: %s\n", mark, s.name, l.InFlight, errorsText(s.s.Errors))
		}
	}
	return b.String()
}

func (r Report) scaleText() string {
	s := r.Scale
	var b strings.Builder
	fmt.Fprintf(&b, "Scale (%s): %d payouts created (%d answered) in %.0f s, %.1f/s (create p99 %.0f ms); all waiting for approval after %.0f s\n",
		r.ScaleAt, s.Payouts, s.Created, s.CreateSeconds, s.CreatePerSecond, s.CreateP99Ms, s.WaitingSeconds)
	fmt.Fprintf(&b, "  with them waiting: RSS MB %s; SQLite %.0f MB; GET p50 %.0f ms p99 %.0f ms; list (100) p50 %.0f ms p99 %.0f ms\n",
		mbText(s.RSSMB), s.SQLiteMB, s.GetP50Ms, s.GetP99Ms, s.ListP50Ms, s.ListP99Ms)
	fmt.Fprintf(&b, "  approving all: confirm p50 %.0f ms p99 %.0f ms; drained in %.0f s (%d succeeded); peak RSS MB %s; errors: %s\n",
		s.ConfirmP50Ms, s.ConfirmP99Ms, s.DrainSeconds, s.Succeeded, mbText(s.HWMMB), errorsText(s.Errors))
	return b.String()
}

// mbText lists payoutflow's processes' sizes.
func mbText(m map[string]float64) string {
	var parts []string
	roles := RolesOf["payoutflow"]
	for _, k := range slices.Concat(roles.Server, roles.App, roles.Bank) {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// Markdown is the table for the README and docs/bench/latest.md.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s; %s.\n\n", r.Machine, r.Settings)
	if len(r.Levels) > 0 {
		fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
		for _, w := range r.rows() {
			fmt.Fprintf(&b, "| %s |\n", strings.Join(r.cells(w), " | "))
		}
		if errs := r.notes(); errs != "" {
			fmt.Fprintf(&b, "\n```\n%s```\n", errs)
		}
	}
	if r.Scale != nil {
		fmt.Fprintf(&b, "\n```\n%s```\n", r.scaleText())
	}
	return b.String()
}

// Load reads a report written before; a missing file is an empty report.
func Load(path string) (Report, error) {
	var r Report
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Write writes the report as JSON.
func (r Report) Write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// SortRuns orders runs by load, then as they ran.
func SortRuns(runs []driver.Result) {
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].InFlight < runs[j].InFlight })
}
