// Package sandboxkit is the machinery the provider sandboxes share: keeping a sandbox's state in its file (the
// whole state, then each change appended) and resuming it after a restart, its background steps and retried
// deliveries, and where it shows its ledger.
package sandboxkit

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"

	"github.com/payoutflow/payoutflow/providers/internal/statefile"
)

// Format is how a sandbox's state of type T goes to and from its file. Its functions run with the sandbox's lock
// held.
type Format[T any] struct {
	// Version is the version of the format, every record's "version".
	Version int
	// IDs lists the ids of a record's sessions or transactions: a file with an empty one is corrupt.
	IDs func(*T) []string
	// Snapshot is the whole state, written when the file is opened, compacted or closed.
	Snapshot func() T
	// Restore merges a record read into the sandbox's state: the file's whole state first, then each change
	// appended after it, in order (a record replaces the one of its id; a ledger's entries are appended).
	Restore func(T)
	// Resume goes on with what was in flight, once the state read is written back.
	Resume func()
}

// State keeps a sandbox's state in a file of JSON records (see statefile): read once when the sandbox opens, then
// each change appended, as a T that holds only what it touched. The zero State keeps nothing: the sandbox lives in
// memory only.
type State[T any] struct {
	name     string
	log      *slog.Logger
	snapshot func() T
	file     *statefile.Log
}

// Open makes s keep the state of the sandbox named name (in errors and logs) in the file at path; with no path it
// keeps nothing. It reads the file, then, with mu (the sandbox's lock) held, restores each record read, writes the
// whole state back at once as the file's only record (compacted, and a file that cannot be written fails now, not
// at the first change) and resumes it. A file that cannot be decoded, or whose records cannot be told apart, is
// moved aside and logged, and the sandbox starts empty; a last change cut short by a kill is ignored. Open fails
// when the file cannot be read, moved aside or written.
func (s *State[T]) Open(name, path string, log *slog.Logger, mu sync.Locker, f Format[T]) error {
	if path == "" {
		return nil
	}
	records, err := statefile.Load(path, f.Version, log, func(st *T) error {
		for _, id := range f.IDs(st) {
			if id == "" {
				return errors.New("a record has no id")
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s state %s: %w", name, path, err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, st := range records {
		f.Restore(st)
	}
	file, err := statefile.Create(path, f.Snapshot())
	if err != nil {
		return fmt.Errorf("%s state %s: %w", name, path, err)
	}
	s.name, s.log, s.snapshot, s.file = name, log, f.Snapshot, file
	f.Resume()
	return nil
}

// Save appends change(), what a change of the sandbox touched, to the file, if there is one (change is not called
// otherwise), and compacts the file when its changes outgrow the whole state. A change that cannot be appended is
// saved by writing the whole state; a failure of that is logged, and the sandbox goes on in memory. Call it with
// the sandbox's lock held.
func (s *State[T]) Save(change func() T) {
	if s.file == nil {
		return
	}
	if err := s.file.Append(change()); err != nil {
		s.log.Error("sandbox state change not appended: writing the whole state", "sandbox", s.name, "err", err)
		s.compact()
		return
	}
	if s.file.Grown() {
		s.compact()
	}
}

// compact writes the whole state as the file's only record.
func (s *State[T]) compact() {
	if err := s.file.Compact(s.snapshot()); err != nil {
		s.log.Error("sandbox state not saved", "sandbox", s.name, "err", err)
	}
}

// Close writes the whole state as the file's only record and closes the file; the State keeps nothing after.
// Call it with the sandbox's lock held, once its background work has stopped.
func (s *State[T]) Close() {
	if s.file == nil {
		return
	}
	s.compact()
	if err := s.file.Close(); err != nil {
		s.log.Error("sandbox state file not closed", "sandbox", s.name, "err", err)
	}
	s.file = nil
}

// InIDOrder calls f with each record of a sandbox, in the order of their ids: resuming them in a stable order.
func InIDOrder[R any](records map[string]R, f func(R)) {
	for _, id := range slices.Sorted(maps.Keys(records)) {
		f(records[id])
	}
}

// IDs is the id of each of records, for Format.IDs.
func IDs[R any](records []R, id func(R) string) []string {
	out := make([]string, len(records))
	for i, r := range records {
		out[i] = id(r)
	}
	return out
}

// NewEntries returns the entries of an append-only list (a ledger) after the first *saved, for a change, and sets
// *saved to the list's length.
func NewEntries[E any](saved *int, list []E) []E {
	out := list[min(*saved, len(list)):]
	*saved = len(list)
	return out
}
