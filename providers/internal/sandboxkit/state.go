// Package sandboxkit is the machinery the provider sandboxes share: keeping a sandbox's state in its file and
// resuming it after a restart, its background steps and retried deliveries, and where it shows its ledger.
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
	// Version is the version of the format, the file's "version".
	Version int
	// IDs lists the ids of a state's records: a state read with an empty one is corrupt.
	IDs func(*T) []string
	// Snapshot is the state to save.
	Snapshot func() T
	// Restore takes the state read.
	Restore func(T)
	// Resume goes on with what was in flight, once the state read is written back.
	Resume func()
}

// State keeps a sandbox's state in a JSON file (see statefile): read once when the sandbox opens, replaced
// atomically after every change. The zero State keeps nothing: the sandbox lives in memory only.
type State[T any] struct {
	path     string
	log      *slog.Logger
	snapshot func() T
}

// Open makes s keep the state of the sandbox named name (in errors) in the file at path; with no path it keeps
// nothing. It reads the file, then, with mu (the sandbox's lock) held, restores the state read, writes it back at
// once (so that a file that cannot be written fails now, not at the first change) and resumes it. A file that
// cannot be decoded, or whose records cannot be told apart, is moved aside and logged, and the sandbox starts
// empty; Open fails when the file cannot be read, moved aside or written.
func (s *State[T]) Open(name, path string, log *slog.Logger, mu sync.Locker, f Format[T]) error {
	if path == "" {
		return nil
	}
	st, err := statefile.Load(path, f.Version, log, func(st *T) error {
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
	s.path, s.log, s.snapshot = path, log, f.Snapshot
	f.Restore(st)
	if err := statefile.Write(path, f.Snapshot()); err != nil {
		return fmt.Errorf("%s state %s: %w", name, path, err)
	}
	f.Resume()
	return nil
}

// Save writes the state file, if there is one, and logs a failure: the sandbox goes on in memory. Call it with the
// sandbox's lock held.
func (s *State[T]) Save() {
	if s.path == "" {
		return
	}
	if err := statefile.Write(s.path, s.snapshot()); err != nil {
		s.log.Error("sandbox state not saved", "file", s.path, "err", err)
	}
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
