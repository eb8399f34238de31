package sandboxkit

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

type testState struct {
	Version int      `json:"version"`
	Names   []string `json:"names"`
}

// fake is a sandbox whose state is a list of names; it records what Open made it do.
type fake struct {
	mu       sync.Mutex
	names    []string
	restored *testState
	resumed  int
	state    State[testState]
}

func (f *fake) format() Format[testState] {
	return Format[testState]{
		Version:  1,
		IDs:      func(st *testState) []string { return st.Names },
		Snapshot: func() testState { return testState{Version: 1, Names: append([]string{}, f.names...)} },
		Restore: func(st testState) {
			f.restored = &st
			f.names = st.Names
		},
		Resume: func() { f.resumed++ },
	}
}

func readState(t *testing.T, path string) testState {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var st testState
	require.NoError(t, json.Unmarshal(raw, &st))
	return st
}

func TestState_OpenRestoresWritesBackAndResumes(t *testing.T) {
	tests := []struct {
		name      string
		file      string // the file's content; "" for no file
		wantNames []string
		corrupt   bool
	}{
		{"no file starts empty", "", nil, false},
		{"a saved state comes back", `{"version":1,"names":["a","b"]}`, []string{"a", "b"}, false},
		{"another version is moved aside", `{"version":2,"names":["a"]}`, nil, true},
		{"a record without its id is moved aside", `{"version":1,"names":["a",""]}`, nil, true},
		{"not JSON is moved aside", `{`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if tt.file != "" {
				require.NoError(t, os.WriteFile(path, []byte(tt.file), 0o600))
			}
			f := &fake{}

			require.NoError(t, f.state.Open("test sandbox", path, slog.New(slog.DiscardHandler), &f.mu, f.format()))

			require.NotNil(t, f.restored)
			require.Equal(t, tt.wantNames, f.names)
			require.Equal(t, 1, f.resumed)
			require.ElementsMatch(t, tt.wantNames, readState(t, path).Names, "written back at once")
			moved, err := filepath.Glob(path + ".corrupt-*")
			require.NoError(t, err)
			require.Equal(t, tt.corrupt, len(moved) == 1, "moved aside: %v", moved)
		})
	}
}

func TestState_SaveWritesTheSnapshotOnlyWithAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	f := &fake{}
	f.state.Save() // the zero State keeps nothing
	require.NoError(t, f.state.Open("test sandbox", "", slog.New(slog.DiscardHandler), &f.mu, f.format()))
	f.state.Save()
	require.NoFileExists(t, path)
	require.Nil(t, f.restored, "no file: nothing restored")

	require.NoError(t, f.state.Open("test sandbox", path, slog.New(slog.DiscardHandler), &f.mu, f.format()))
	f.names = []string{"c"}
	f.state.Save()

	require.Equal(t, []string{"c"}, readState(t, path).Names)
}

func TestState_OpenFailsWhenTheFileCannotBeWritten(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	f := &fake{}

	err := f.state.Open("test sandbox", filepath.Join(dir, "state.json"), slog.New(slog.DiscardHandler), &f.mu,
		f.format())

	require.ErrorContains(t, err, "test sandbox state")
	require.Zero(t, f.resumed)
}

func TestIDs_ListsEachRecordsID(t *testing.T) {
	type rec struct{ id string }

	require.Equal(t, []string{"x", ""}, IDs([]rec{{"x"}, {""}}, func(r rec) string { return r.id }))
	require.Empty(t, IDs([]rec{}, func(r rec) string { return r.id }))
}

func TestInIDOrder_GoesThroughTheRecordsInTheOrderOfTheirIDs(t *testing.T) {
	var seen []int
	InIDOrder(map[string]int{"b": 2, "c": 3, "a": 1}, func(v int) { seen = append(seen, v) })

	require.Equal(t, []int{1, 2, 3}, seen)
}
