package integration

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/payoutflow/payoutflow/codec"
)

// recordDir is where `make histories` has the integration tests write the workflow histories of the paths they
// run, for the replay tests of package workflows; "" when not recording.
var recordDir = os.Getenv("PAYOUTFLOW_RECORD_HISTORIES")

// codecKey is the payload key of the stack: the recording's own (codec.key beside the histories, which the replay
// tests read) when recording, else a new random one.
func codecKey() ([]byte, error) {
	if recordDir == "" {
		key := make([]byte, codec.KeySize)
		_, err := rand.Read(key)
		return key, err
	}
	if err := os.MkdirAll(recordDir, 0o755); err != nil {
		return nil, err
	}
	return codec.LoadOrCreateKey(filepath.Join(recordDir, "codec.key"))
}

// historyName is the file name for the history of payout id recorded by test, or "" if it is recorded already.
func historyName(test, id string) string {
	recordedMu.Lock()
	defer recordedMu.Unlock()
	base := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, strings.TrimPrefix(test, "Test"))
	name := base
	for n := 2; ; n++ {
		other, taken := recorded[name]
		if other == id {
			return ""
		}
		if !taken {
			recorded[name] = id
			return name
		}
		name = fmt.Sprintf("%s-%d", base, n)
	}
}

// recorded maps the file names written so far to the payouts they hold: a test that ends several payouts writes
// one file for each.
var (
	recordedMu sync.Mutex
	recorded   = map[string]string{}
)

// recordHistory writes the payout's workflow history, once its workflow has closed, to <recordDir>/<test name>.json
// when recording (waitFor calls it for every payout that reaches a final status); otherwise it does nothing.
func recordHistory(t *testing.T, id string) {
	t.Helper()
	if recordDir == "" {
		return
	}
	name := historyName(t.Name(), id)
	if name == "" {
		return // recorded already
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A final status is published just before the workflow completes: wait for the completion, briefly. A payout
	// ended by an operator's mark listens on for the provider's word: its history is recorded as it stands.
	for deadline := time.Now().Add(5 * time.Second); workflowRunning(t, id) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	hist := &historypb.History{}
	it := st.raw.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		hist.Events = append(hist.Events, ev)
	}
	b, err := protojson.Marshal(hist)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(recordDir, name+".json"), append(b, '\n'), 0o644))
}
