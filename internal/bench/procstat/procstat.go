// Package procstat reads a process's CPU time and memory from Linux's /proc, for CPU per payout and RSS of each
// process of the benchmark.
package procstat

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux architecture Go supports.
const clockTicks = 100

// Sample is what /proc tells of one process at one moment.
type Sample struct {
	CPU time.Duration // user + system time since the process started
	RSS int64         // resident set size now, bytes (VmRSS)
	HWM int64         // peak resident set size, bytes (VmHWM)
}

// Read samples process pid.
func Read(pid int) (Sample, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Sample{}, fmt.Errorf("read CPU time of process %d: %w", pid, err)
	}
	cpu, err := ParseStat(string(stat))
	if err != nil {
		return Sample{}, fmt.Errorf("process %d: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Sample{}, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	rss, hwm, err := ParseStatus(string(status))
	if err != nil {
		return Sample{}, fmt.Errorf("process %d: %w", pid, err)
	}
	return Sample{CPU: cpu, RSS: rss, HWM: hwm}, nil
}

// ParseStat is utime + stime of a /proc/<pid>/stat line. The command name (field 2, in parentheses) may hold spaces
// and parentheses, so fields are counted from its last ')'.
func ParseStat(line string) (time.Duration, error) {
	end := strings.LastIndexByte(line, ')')
	if end < 0 {
		return 0, fmt.Errorf("stat %q: no command name", line)
	}
	f := strings.Fields(line[end+1:])
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("stat %q: %d fields after the command name, want at least 13", line, len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: CPU time %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// ParseStatus is VmRSS and VmHWM of a /proc/<pid>/status, in bytes.
func ParseStatus(status string) (rss, hwm int64, err error) {
	found := 0
	sc := bufio.NewScanner(strings.NewReader(status))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("status: %s %q is not a size in kB", key, val)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("status: %s: %w", key, err)
		}
		if key == "VmRSS" {
			rss = kb * 1024
		} else {
			hwm = kb * 1024
		}
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("status: VmRSS or VmHWM missing (a kernel thread or a zombie has none)")
	}
	return rss, hwm, nil
}
