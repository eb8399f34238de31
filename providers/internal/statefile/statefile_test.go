package statefile

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

type testState struct {
	Version int      `json:"version"`
	Names   []string `json:"names"`
}

// noEmptyNames refuses a state with an empty name.
func noEmptyNames(st *testState) error {
	for _, n := range st.Names {
		if n == "" {
			return errors.New("a name is empty")
		}
	}
	return nil
}

func logTo(buf *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(buf, nil)) }

func TestLoad_ReadsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"version":2,"names":["a","b"]}`), 0o600))
	var logs bytes.Buffer

	st, err := Load(path, 2, logTo(&logs), noEmptyNames)

	require.NoError(t, err)
	require.Equal(t, testState{Version: 2, Names: []string{"a", "b"}}, st)
	require.Empty(t, logs.String())
}

func TestLoad_AMissingFileIsTheZeroState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")

	st, err := Load(path, 1, logTo(&bytes.Buffer{}), noEmptyNames)

	require.NoError(t, err)
	require.Zero(t, st)
	_, err = os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist, "Load writes nothing")
}

func TestLoad_MovesACorruptFileAsideAndStartsEmpty(t *testing.T) {
	tests := []struct {
		name    string
		content string
		check   func(*testState) error
		reason  string
	}{
		{"not JSON", `{"version":1,"names":[`, nil, "unexpected end of JSON input"},
		{"another version", `{"version":99,"names":["a"]}`, nil, "version 99, want 1"},
		{"no version", `{"names":["a"]}`, nil, "version 0, want 1"},
		{"a field of the wrong type", `{"version":1,"names":"a"}`, nil, "cannot unmarshal"},
		{"refused by check", `{"version":1,"names":["a",""]}`, noEmptyNames, "a name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			var logs bytes.Buffer

			st, err := Load(path, 1, logTo(&logs), tt.check)

			require.NoError(t, err)
			require.Zero(t, st, "nothing of a corrupt file is kept")
			require.Contains(t, logs.String(), "level=ERROR")
			require.Contains(t, logs.String(), "moved aside")
			require.Contains(t, logs.String(), tt.reason)
			moved, err := filepath.Glob(path + ".corrupt-*")
			require.NoError(t, err)
			require.Len(t, moved, 1)
			kept, err := os.ReadFile(moved[0])
			require.NoError(t, err)
			require.Equal(t, tt.content, string(kept), "the corrupt file is kept as it was")
			_, err = os.Stat(path)
			require.ErrorIs(t, err, os.ErrNotExist)
		})
	}
}

func TestLoad_FailsWhenTheFileCannotBeRead(t *testing.T) {
	path := t.TempDir() // a directory: it exists, and cannot be read as a file

	_, err := Load(path, 1, logTo(&bytes.Buffer{}), noEmptyNames)

	require.Error(t, err)
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name   string
		before string // the file's content before; none when empty
		value  any
		want   string
	}{
		{"a new file", "", testState{Version: 1, Names: []string{"a"}}, `{"version":1,"names":["a"]}`},
		{"over an old file", `{"version":1,"names":["old"]}`, testState{Version: 1}, `{"version":1,"names":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if tt.before != "" {
				require.NoError(t, os.WriteFile(path, []byte(tt.before), 0o644))
			}

			require.NoError(t, Write(path, tt.value))

			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.JSONEq(t, tt.want, string(data))
			info, err := os.Stat(path)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the state is private")
			entries, err := os.ReadDir(filepath.Dir(path))
			require.NoError(t, err)
			require.Len(t, entries, 1, "no temporary file is left behind")
		})
	}
}

func TestWrite_FailureKeepsTheOldStateAndLeavesNothingBehind(t *testing.T) {
	const old = `{"version":1,"names":["old"]}`
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string) string // returns the path to write
		value   any
	}{
		{"a value that cannot be marshalled", func(t *testing.T, path string) string {
			require.NoError(t, os.WriteFile(path, []byte(old), 0o600))
			return path
		}, map[string]any{"f": func() {}}},
		{"a directory that does not exist", func(t *testing.T, path string) string {
			return filepath.Join(filepath.Dir(path), "missing", "state.json")
		}, testState{Version: 1}},
		{"a directory in the file's place", func(t *testing.T, path string) string {
			require.NoError(t, os.Mkdir(path, 0o700))
			return path
		}, testState{Version: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			target := tt.prepare(t, path)
			before, err := os.ReadDir(filepath.Dir(path))
			require.NoError(t, err)

			err = Write(target, tt.value)

			require.Error(t, err)
			after, err := os.ReadDir(filepath.Dir(path))
			require.NoError(t, err)
			require.Equal(t, len(before), len(after), "no temporary file is left behind")
			if data, err := os.ReadFile(path); err == nil {
				require.Equal(t, old, string(data), "the old state is kept")
			}
		})
	}
}

func TestWriteThenLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	want := testState{Version: 3, Names: []string{"x", "y"}}
	require.NoError(t, Write(path, want))

	got, err := Load(path, 3, logTo(&bytes.Buffer{}), noEmptyNames)

	require.NoError(t, err)
	require.Equal(t, want, got)
}
