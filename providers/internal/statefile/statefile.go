// Package statefile keeps a program's state in one file of JSON records, one a line: the whole state first, then
// each change appended after it (Log). A change costs one write(2) of the records it touched, not a rewrite of the
// whole state; the file is compacted back to one record when the changes outgrow the state. A file that cannot be
// decoded is moved aside rather than lost or fatal, and a last record cut short by a kill is ignored.
//
// Durability: appends are not synced. A record whose write(2) returned is in the kernel's page cache, which
// survives the program being killed (SIGKILL included), what the sandboxes' users (make run, the chaos run, the
// tests) do to them; a machine that stops may lose the last changes. The whole state (Write, Create, Compact) is
// synced before it replaces the file, so that a machine crash never leaves an empty or half file in its place.
package statefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Compaction thresholds: a Log is Grown when its changes take more than compactFactor times its first record and
// at least minCompact bytes.
const (
	compactFactor = 4
	minCompact    = 1 << 20
)

// Load reads the state file at path: its first record, a whole T, then each change appended after it, a T too
// (holding only what changed), in order. Every record's "version" must be version, the version of the format T
// is; check, when not nil, accepts a record read or says what is wrong with it (a record without its id, say).
//
// A missing file gives no records. A last record that is not whole JSON (the program was killed in the middle of
// appending it) is ignored and logged as a warning. A file whose first record is missing or cannot be decoded, or
// with any other record that is not JSON, not of the version or refused by check, is corrupt: it is renamed to
// <path>.corrupt-<unix seconds>, logged to log as an error, and Load gives no records, so that the program starts
// empty and the old file is kept for a person to look at. Load fails only when the file cannot be read or moved
// aside.
func Load[T any](path string, version int, log *slog.Logger, check func(*T) error) ([]T, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, err
	}
	records, err := decodeAll(data, version, check, func(line int, err error) {
		log.Warn("state file: last record cut short, ignored", "file", path, "line", line, "err", err)
	})
	if err != nil {
		bad := fmt.Sprintf("%s.corrupt-%d", path, time.Now().Unix())
		if rerr := os.Rename(path, bad); rerr != nil {
			return nil, fmt.Errorf("corrupt (%w), and cannot move it aside: %w", err, rerr)
		}
		log.Error("state file is corrupt: moved aside, starting empty", "file", path, "moved_to", bad, "err", err)
		return nil, nil
	}
	return records, nil
}

// decodeAll decodes the records of data, one a line, calling torn for a last record that is not whole JSON.
func decodeAll[T any](data []byte, version int, check func(*T) error, torn func(line int, err error)) ([]T, error) {
	lines := bytes.Split(data, []byte("\n"))
	last := len(lines) - 1
	for last > 0 && len(bytes.TrimSpace(lines[last])) == 0 {
		last--
	}
	var records []T
	for i, line := range lines[:last+1] {
		if i > 0 && len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		v, err := decode(line, version, check)
		switch {
		case err == nil:
			records = append(records, v)
		case i == last && i > 0 && !json.Valid(line):
			torn(i+1, err)
		default:
			return nil, fmt.Errorf("record on line %d: %w", i+1, err)
		}
	}
	return records, nil
}

// decode reads one record.
func decode[T any](data []byte, version int, check func(*T) error) (T, error) {
	var zero, v T
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return zero, err
	}
	if head.Version != version {
		return zero, fmt.Errorf("version %d, want %d", head.Version, version)
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return zero, err
	}
	if check != nil {
		if err := check(&v); err != nil {
			return zero, err
		}
	}
	return v, nil
}

// Write replaces the file at path with v as its only record, atomically: a private (mode 0600) temporary file in
// the same directory, synced, then renamed over it. No temporary file is left behind, whatever fails.
func Write(path string, v any) error {
	_, err := write(path, v)
	return err
}

// write is Write, giving the size of the file written.
func write(path string, v any) (int64, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	data = append(data, '\n')
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return 0, err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return int64(len(data)), err
}

// Log is a state file open for appending changes. It is not safe for concurrent use: its owner's lock guards it.
type Log struct {
	path string
	f    *os.File
	size int64 // the file's size
	base int64 // the size of its first record
	// broken is set when an append failed: only Compact writes again.
	broken bool
	buf    bytes.Buffer
}

// Create replaces the file at path with v as its only record, as Write does, and opens it for appending.
func Create(path string, v any) (*Log, error) {
	l := &Log{path: path}
	if err := l.Compact(v); err != nil {
		return nil, err
	}
	return l, nil
}

// Append adds v to the file as one record, in one write(2), not synced (see the package's doc). When it fails, what
// it wrote is cut off again, and the Log refuses to append until Compact has written the whole state: no record
// follows a change missing from the file.
func (l *Log) Append(v any) error {
	if l.broken || l.f == nil {
		return errors.New("a change is missing from the state file: it needs the whole state")
	}
	l.buf.Reset()
	if err := json.NewEncoder(&l.buf).Encode(v); err != nil { // one line, with its newline
		l.broken = true
		return err
	}
	n, err := l.f.Write(l.buf.Bytes())
	if err != nil {
		l.broken = true
		_ = l.f.Truncate(l.size) // a torn record is ignored as the last one, but none may follow it
		return err
	}
	l.size += int64(n)
	return nil
}

// Grown reports whether the file is worth compacting: its changes take more than four times its first record,
// and at least 1 MiB.
func (l *Log) Grown() bool {
	changes := l.size - l.base
	return changes >= minCompact && changes > compactFactor*l.base
}

// Compact replaces the file with v, the whole state, as its only record (as Write does), and appends after it.
func (l *Log) Compact(v any) error {
	size, err := write(l.path, v)
	if err != nil {
		return err
	}
	if l.f != nil {
		_ = l.f.Close() // the file replaced
	}
	l.f, l.broken = nil, true
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	l.f, l.size, l.base, l.broken = f, size, size, false
	return nil
}

// Close closes the file.
func (l *Log) Close() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
