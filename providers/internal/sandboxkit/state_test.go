package sandboxkit

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// testState is a fake sandbox's state or change: names, each the id of a record, added in order.
type testState struct {
	Version int      `json:"version"`
	Names   []string `json:"names"`
}

// fake is a sandbox whose state is a list of names; it records what Open made it do.
type fake struct {
	mu       sync.Mutex
	names    []string
	restored int
	resumed  int
	state    State[testState]
}

func (f *fake) format() Format[testState] {
	return Format[testState]{
		Version:  1,
		IDs:      func(st *testState) []string { return st.Names },
		Snapshot: func() testState { return testState{Version: 1, Names: append([]string{}, f.names...)} },
		Restore: func(st testState) {
			f.restored++
			f.names = append(f.names, st.Names...)
		},
		Resume: func() { f.resumed++ },
	}
}

// add adds name and saves the change.
func (f *fake) add(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.names = append(f.names, name)
	f.state.Save(func() testState { return testState{Version: 1, Names: []string{name}} })
}

// readRecords reads the file's records, one a line.
func readRecords(t *testing.T, path string) []testState {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []testState
	for line := range strings.Lines(string(raw)) {
		var st testState
		require.NoError(t, json.Unmarshal([]byte(line), &st))
		out = append(out, st)
	}
	return out
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestState_OpenRestoresEachRecordWritesBackOneAndResumes(t *testing.T) {
	tests := []struct {
		name      string
		file      string // the file's content; "" for no file
		wantNames []string
		corrupt   bool
	}{
		{"no file starts empty", "", nil, false},
		{"a saved state comes back", `{"version":1,"names":["a","b"]}`, []string{"a", "b"}, false},
		{"changes come back after it, in order", "{\"version\":1,\"names\":[\"a\"]}\n{\"version\":1,\"names\":[\"b\"]}\n" +
			"{\"version\":1,\"names\":[\"c\"]}\n", []string{"a", "b", "c"}, false},
		{"a last change cut short by a kill is ignored", "{\"version\":1,\"names\":[\"a\"]}\n" +
			"{\"version\":1,\"names\":[\"b\"]}\n{\"version\":1,\"names\":[\"c", []string{"a", "b"}, false},
		{"another version is moved aside", `{"version":2,"names":["a"]}`, nil, true},
		{"a record without its id is moved aside", `{"version":1,"names":["a",""]}`, nil, true},
		{"a change without its id is moved aside", "{\"version\":1,\"names\":[\"a\"]}\n{\"version\":1,\"names\":[\"\"]}\n",
			nil, true},
		{"not JSON is moved aside", `{`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if tt.file != "" {
				require.NoError(t, os.WriteFile(path, []byte(tt.file), 0o600))
			}
			f := &fake{}

			require.NoError(t, f.state.Open("test sandbox", path, discard(), &f.mu, f.format()))
			t.Cleanup(f.close)

			require.Equal(t, tt.wantNames, f.names)
			require.Equal(t, 1, f.resumed)
			records := readRecords(t, path)
			require.Len(t, records, 1, "written back at once, as one record")
			require.ElementsMatch(t, tt.wantNames, records[0].Names)
			moved, err := filepath.Glob(path + ".corrupt-*")
			require.NoError(t, err)
			require.Equal(t, tt.corrupt, len(moved) == 1, "moved aside: %v", moved)
		})
	}
}

func (f *fake) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state.Close()
}

func TestState_SaveAppendsOnlyTheChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"version":1,"names":["a"]}`), 0o600))
	f := &fake{}
	require.NoError(t, f.state.Open("test sandbox", path, discard(), &f.mu, f.format()))
	t.Cleanup(f.close)

	f.add("b")
	f.add("c")

	require.Equal(t, []testState{{1, []string{"a"}}, {1, []string{"b"}}, {1, []string{"c"}}}, readRecords(t, path))
	again := &fake{}
	require.NoError(t, again.state.Open("test sandbox", path, discard(), &again.mu, again.format()))
	t.Cleanup(again.close)
	require.Equal(t, []string{"a", "b", "c"}, again.names)
	require.Equal(t, 3, again.restored)
}

func TestState_SaveCompactsWhenTheChangesOutgrowTheState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	f := &fake{}
	require.NoError(t, f.state.Open("test sandbox", path, discard(), &f.mu, f.format()))
	t.Cleanup(f.close)
	long := strings.Repeat("x", 1000)

	var want []string
	for i := range 2000 { // 2 MB of changes: compacted once at least
		name := long + string(rune('a'+i%26))
		want = append(want, name)
		f.add(name)
	}

	records := readRecords(t, path)
	require.Less(t, len(records), 1100, "compacted")
	again := &fake{}
	require.NoError(t, again.state.Open("test sandbox", path, discard(), &again.mu, again.format()))
	t.Cleanup(again.close)
	require.Equal(t, want, again.names, "nothing lost, nothing twice")
}

func TestState_CloseLeavesTheWholeStateAsOneRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	f := &fake{}
	require.NoError(t, f.state.Open("test sandbox", path, discard(), &f.mu, f.format()))
	f.add("a")
	f.add("b")

	f.close()
	f.add("after") // kept in memory only

	require.Equal(t, []testState{{1, []string{"a", "b"}}}, readRecords(t, path))
}

func TestState_SaveWithoutAFileBuildsNoChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	f := &fake{}
	built := false
	f.state.Save(func() testState { built = true; return testState{} }) // the zero State keeps nothing
	require.NoError(t, f.state.Open("test sandbox", "", discard(), &f.mu, f.format()))
	f.state.Save(func() testState { built = true; return testState{} })

	require.False(t, built)
	require.NoFileExists(t, path)
	require.Zero(t, f.restored, "no file: nothing restored")
}

func TestState_AChangeThatCannotBeAppendedIsSavedWithTheWholeState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	var logs bytes.Buffer
	f := &fake{}
	require.NoError(t, f.state.Open("test sandbox", path, slog.New(slog.NewTextHandler(&logs, nil)), &f.mu, f.format()))
	t.Cleanup(f.close)
	require.NoError(t, f.state.file.Close()) // the next append fails

	f.add("a")
	f.add("b")

	require.Contains(t, logs.String(), "level=ERROR")
	require.Equal(t, []testState{{1, []string{"a"}}, {1, []string{"b"}}}, readRecords(t, path))
}

func TestState_AfterAWholeStateThatCannotBeWrittenEachSaveWritesTheWholeState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	var logs bytes.Buffer
	f := &fake{}
	require.NoError(t, f.state.Open("test sandbox", path, slog.New(slog.NewTextHandler(&logs, nil)), &f.mu, f.format()))
	t.Cleanup(f.close)
	require.NoError(t, f.state.file.Close()) // the next append fails
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.Mkdir(path, 0o700)) // and so does writing the whole state: a directory is in its place

	f.add("a") // missing from the file for now
	require.NoError(t, os.Remove(path))
	f.add("b")
	f.add("c")

	require.Contains(t, logs.String(), "sandbox state not saved")
	require.Equal(t, []testState{{1, []string{"a", "b"}}, {1, []string{"c"}}}, readRecords(t, path),
		"the change lost is in the whole state written next")
}

func TestState_OpenFailsWhenTheFileCannotBeWritten(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	f := &fake{}

	err := f.state.Open("test sandbox", filepath.Join(dir, "state.json"), discard(), &f.mu, f.format())

	require.ErrorContains(t, err, "test sandbox state")
	require.Zero(t, f.resumed)
}

func TestNewEntries_GivesWhatWasAppendedSinceTheLastCall(t *testing.T) {
	saved := 0
	list := []int{1, 2}
	require.Equal(t, []int{1, 2}, NewEntries(&saved, list))
	require.Empty(t, NewEntries(&saved, list))
	list = append(list, 3, 4)
	require.Equal(t, []int{3, 4}, NewEntries(&saved, list))
	require.Equal(t, 4, saved)
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
