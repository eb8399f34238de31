// Package statefile keeps a program's state in one JSON file: read once on start, where a file that cannot be
// decoded is moved aside rather than lost or fatal, and replaced atomically on every write, so that a crash leaves
// either the old state or the new one, never a mix.
package statefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Load reads the JSON state file at path into a fresh T. The file's "version" must be version, the version of the
// format T is; check, when not nil, accepts what was read or says what is wrong with it (a record without its id,
// say).
//
// A missing file gives the zero T. A file that is not JSON, not of the version or refused by check is corrupt: it is
// renamed to <path>.corrupt-<unix seconds>, logged to log as an error, and Load gives the zero T, so that the
// program starts empty and the old file is kept for a person to look at. Load fails only when the file cannot be
// read or moved aside.
func Load[T any](path string, version int, log *slog.Logger, check func(*T) error) (T, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		var zero T
		return zero, nil
	case err != nil:
		var zero T
		return zero, err
	}
	v, err := decode(data, version, check)
	if err != nil {
		bad := fmt.Sprintf("%s.corrupt-%d", path, time.Now().Unix())
		if rerr := os.Rename(path, bad); rerr != nil {
			return v, fmt.Errorf("corrupt (%w), and cannot move it aside: %w", err, rerr)
		}
		log.Error("state file is corrupt: moved aside, starting empty", "file", path, "moved_to", bad, "err", err)
		return v, nil
	}
	return v, nil
}

// decode reads data as Load does, giving the zero T when it fails.
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

// Write replaces the file at path with v as JSON, atomically: a private (mode 0600) temporary file in the same
// directory, synced, then renamed over it. No temporary file is left behind, whatever fails.
func Write(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return err
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
	return err
}
