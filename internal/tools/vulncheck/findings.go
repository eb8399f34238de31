package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// The parts of govulncheck's -format json stream (golang.org/x/vuln/internal/govulncheck) read here.
type (
	message struct {
		Config  *scanConfig `json:"config,omitempty"`
		OSV     *osvEntry   `json:"osv,omitempty"`
		Finding *finding    `json:"finding,omitempty"`
	}
	scanConfig struct {
		ScannerVersion string `json:"scanner_version"`
		DB             string `json:"db"`
		GoVersion      string `json:"go_version"`
		ScanLevel      string `json:"scan_level"`
	}
	osvEntry struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	}
	finding struct {
		OSV          string   `json:"osv"`
		FixedVersion string   `json:"fixed_version"`
		Trace        []*frame `json:"trace"`
	}
	frame struct {
		Module   string `json:"module"`
		Version  string `json:"version"`
		Package  string `json:"package"`
		Function string `json:"function"`
		Receiver string `json:"receiver"`
		Position *struct {
			Filename string `json:"filename"`
			Line     int    `json:"line"`
		} `json:"position"`
	}
)

// vuln is one vulnerability that the code reaches: a call path leads to one of its symbols.
type vuln struct {
	ID, Summary     string
	Module, Version string // the vulnerable module and the version in use ("stdlib" and the Go version for the standard library)
	Fixed           string // the version that fixes it; "" if none does yet
	Traces          [][]*frame
}

// report is what a scan found.
type report struct {
	Config    scanConfig
	Reachable []vuln // sorted by ID
	Imported  int    // vulnerabilities in packages or modules in use whose vulnerable symbols no call path reaches
}

// readReport reads govulncheck's JSON stream.
func readReport(r io.Reader) (report, error) {
	var rep report
	var haveConfig bool
	summaries := map[string]string{}
	byID := map[string]*vuln{}
	unreached := map[string]bool{}
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return rep, fmt.Errorf("read govulncheck output: %w", err)
		}
		switch {
		case m.Config != nil:
			rep.Config, haveConfig = *m.Config, true
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			f := m.Finding
			if f.Trace[0].Function == "" { // module or package level: imported, not called
				unreached[f.OSV] = true
				continue
			}
			v := byID[f.OSV]
			if v == nil {
				v = &vuln{ID: f.OSV, Module: f.Trace[0].Module, Version: f.Trace[0].Version, Fixed: f.FixedVersion}
				byID[f.OSV] = v
			}
			v.Traces = append(v.Traces, f.Trace)
		}
	}
	if !haveConfig {
		return rep, errors.New("read govulncheck output: no config message")
	}
	for id, v := range byID {
		v.Summary = summaries[id]
		rep.Reachable = append(rep.Reachable, *v)
		delete(unreached, id)
	}
	sort.Slice(rep.Reachable, func(i, j int) bool { return rep.Reachable[i].ID < rep.Reachable[j].ID })
	rep.Imported = len(unreached)
	return rep, nil
}

// fixable returns the reachable vulnerabilities that have a fix.
func (r report) fixable() []vuln {
	var out []vuln
	for _, v := range r.Reachable {
		if v.Fixed != "" {
			out = append(out, v)
		}
	}
	return out
}

// write prints the reachable vulnerabilities with the call path of each (at most maxTraces per vulnerability).
func (r report) write(w io.Writer, maxTraces int) {
	for _, v := range r.Reachable {
		fix := "fixed in " + v.Fixed
		if v.Fixed == "" {
			fix = "no fix yet"
		}
		_, _ = fmt.Fprintf(w, "%s: %s@%s, %s: %s\n", v.ID, v.Module, v.Version, fix, v.Summary)
		for i, t := range v.Traces {
			if i == maxTraces {
				_, _ = fmt.Fprintf(w, "    ... %d more call paths\n", len(v.Traces)-maxTraces)
				break
			}
			_, _ = fmt.Fprintf(w, "    %s\n", traceString(t))
		}
	}
}

// traceString renders a trace from the entry point to the vulnerable symbol (govulncheck lists it the other way).
func traceString(t []*frame) string {
	parts := make([]string, 0, len(t))
	for i := len(t) - 1; i >= 0; i-- {
		f := t[i]
		name := f.Package + "." + f.Function
		if f.Receiver != "" {
			name = f.Package + "." + strings.TrimPrefix(f.Receiver, "*") + "." + f.Function
		}
		if f.Position != nil && f.Position.Filename != "" {
			name += fmt.Sprintf(" (%s:%d)", f.Position.Filename, f.Position.Line)
		}
		parts = append(parts, name)
	}
	return strings.Join(parts, " -> ")
}
