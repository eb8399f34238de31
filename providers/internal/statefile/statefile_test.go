package statefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers/internal/providertest"
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

	records, err := Load(path, 2, logTo(&logs), noEmptyNames)

	require.NoError(t, err)
	require.Equal(t, []testState{{Version: 2, Names: []string{"a", "b"}}}, records)
	require.Empty(t, logs.String())
}

func TestLoad_AMissingFileIsTheZeroState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")

	records, err := Load(path, 1, logTo(&bytes.Buffer{}), noEmptyNames)

	require.NoError(t, err)
	require.Empty(t, records)
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
		{"empty", ``, nil, "unexpected end of JSON input"},
		{"a first record cut short", `{"version":1,"na` + "\n", nil, "unexpected end of JSON input"},
		{"a change cut short before the last", "{\"version\":1}\n{\"version\":1,\"na\n{\"version\":1}\n", nil,
			"line 2"},
		{"a last change of another version", "{\"version\":1}\n{\"version\":2}\n", nil, "version 2, want 1"},
		{"a last change refused by check", "{\"version\":1}\n{\"version\":1,\"names\":[\"\"]}", noEmptyNames,
			"a name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			var logs bytes.Buffer

			records, err := Load(path, 1, logTo(&logs), tt.check)

			require.NoError(t, err)
			require.Empty(t, records, "nothing of a corrupt file is kept")
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
		{"a new file", "", testState{Version: 1, Names: []string{"a"}}, `{"version":1,"names":["a"]}` + "\n"},
		{"over an old file", "{\"version\":1,\"names\":[\"old\"]}\n{\"version\":1}\n", testState{Version: 1},
			`{"version":1,"names":null}` + "\n"},
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
			require.Equal(t, tt.want, string(data), "one record, one line")
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
	require.Equal(t, []testState{want}, got)
}

func TestLog_AppendedChangesAreReadBackInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	l, err := Create(path, testState{Version: 1, Names: []string{"a"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })

	require.NoError(t, l.Append(testState{Version: 1, Names: []string{"b"}}))
	require.NoError(t, l.Append(testState{Version: 1, Names: []string{"c", "d"}}))

	got, err := Load(path, 1, logTo(&bytes.Buffer{}), noEmptyNames)
	require.NoError(t, err)
	require.Equal(t, []testState{
		{Version: 1, Names: []string{"a"}}, {Version: 1, Names: []string{"b"}}, {Version: 1, Names: []string{"c", "d"}},
	}, got)
	providertest.RequirePrivateAndAlone(t, path)
}

func TestLoad_IgnoresALastRecordCutShortByAKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	l, err := Create(path, testState{Version: 1, Names: []string{"a"}})
	require.NoError(t, err)
	require.NoError(t, l.Append(testState{Version: 1, Names: []string{"b"}}))
	require.NoError(t, l.Append(testState{Version: 1, Names: []string{"cut"}}))
	require.NoError(t, l.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)

	for cut := 1; cut < len(`{"version":1,"names":["cut"]}`); cut++ { // every place a kill can cut the last append
		torn := data[:len(data)-1-cut]
		require.NoError(t, os.WriteFile(path, torn, 0o600))
		var logs bytes.Buffer

		got, err := Load(path, 1, logTo(&logs), noEmptyNames)

		require.NoError(t, err, "cut %d", cut)
		require.Equal(t, []testState{{Version: 1, Names: []string{"a"}}, {Version: 1, Names: []string{"b"}}}, got,
			"cut %d: the whole records are kept", cut)
		require.Contains(t, logs.String(), "level=WARN", "cut %d", cut)
		require.Contains(t, logs.String(), "cut short", "cut %d", cut)
		moved, err := filepath.Glob(path + ".corrupt-*")
		require.NoError(t, err)
		require.Empty(t, moved, "cut %d: not corrupt", cut)
	}
}

func TestLog_CompactLeavesTheWholeStateAsTheOnlyRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	l, err := Create(path, testState{Version: 1, Names: []string{"a"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	require.NoError(t, l.Append(testState{Version: 1, Names: []string{"b"}}))

	require.NoError(t, l.Compact(testState{Version: 1, Names: []string{"a", "b"}}))
	require.NoError(t, l.Append(testState{Version: 1, Names: []string{"c"}}))

	got, err := Load(path, 1, logTo(&bytes.Buffer{}), noEmptyNames)
	require.NoError(t, err)
	require.Equal(t, []testState{{Version: 1, Names: []string{"a", "b"}}, {Version: 1, Names: []string{"c"}}}, got)
	providertest.RequirePrivateAndAlone(t, path)
}

func TestLog_GrownWhenTheChangesOutgrowTheWholeState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	whole := testState{Version: 1, Names: []string{strings.Repeat("x", minCompact/2)}}
	l, err := Create(path, whole)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	change := testState{Version: 1, Names: []string{strings.Repeat("y", 1000)}}
	wholeSize, changeSize := jsonSize(t, whole), jsonSize(t, change)

	appended := 0
	for !l.Grown() {
		require.NoError(t, l.Append(change))
		appended++
	}

	require.Greater(t, appended*changeSize, compactFactor*wholeSize, "not before four times the whole state")
	require.LessOrEqual(t, (appended-1)*changeSize, compactFactor*wholeSize, "at once after")
	require.NoError(t, l.Compact(whole))
	require.False(t, l.Grown())
}

func TestLog_AGrowingSmallStateIsCompactedAfterAMebibyte(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	l, err := Create(path, testState{Version: 1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })

	change := testState{Version: 1, Names: []string{strings.Repeat("y", 1000)}}

	appended := 0
	for !l.Grown() {
		require.NoError(t, l.Append(change))
		appended++
	}

	require.Equal(t, (minCompact+jsonSize(t, change)-1)/jsonSize(t, change), appended)
}

func TestLog_AFailedAppendLeavesNoBrokenRecordAndCompactRecovers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	l, err := Create(path, testState{Version: 1, Names: []string{"a"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	require.NoError(t, l.f.Close()) // every write fails from now on

	require.Error(t, l.Append(testState{Version: 1, Names: []string{"lost"}}))
	require.Error(t, l.Append(testState{Version: 1, Names: []string{"lost too"}}), "no append after a broken one")
	require.NoError(t, l.Compact(testState{Version: 1, Names: []string{"a", "lost", "lost too"}}))
	require.NoError(t, l.Append(testState{Version: 1, Names: []string{"b"}}))

	got, err := Load(path, 1, logTo(&bytes.Buffer{}), noEmptyNames)
	require.NoError(t, err)
	require.Equal(t, []testState{
		{Version: 1, Names: []string{"a", "lost", "lost too"}}, {Version: 1, Names: []string{"b"}},
	}, got)
}

func TestLog_AfterAChangeThatCannotBeWrittenOnlyTheWholeStateIsWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	l, err := Create(path, testState{Version: 1, Names: []string{"a"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })

	require.Error(t, l.Append(map[string]any{"f": func() {}}), "cannot be marshalled")
	require.Error(t, l.Append(testState{Version: 1, Names: []string{"c"}}), "would follow a change missing")
	require.NoError(t, l.Compact(testState{Version: 1, Names: []string{"a", "b"}}))
	require.NoError(t, l.Append(testState{Version: 1, Names: []string{"c"}}))

	got, err := Load(path, 1, logTo(&bytes.Buffer{}), noEmptyNames)
	require.NoError(t, err)
	require.Equal(t, []testState{{Version: 1, Names: []string{"a", "b"}}, {Version: 1, Names: []string{"c"}}}, got)
}

// jsonSize is the size of v's record: its JSON and a newline.
func jsonSize(t *testing.T, v any) int {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return len(data) + 1
}
