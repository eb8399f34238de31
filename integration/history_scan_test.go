package integration

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	querypb "go.temporal.io/api/query/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"modernc.org/sqlite"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/workflows"
)

// leak is card or personal data found in plain text where it must not be.
type leak struct{ Where, What string }

func (l leak) String() string { return l.Where + ": " + l.What }

// leakScanner finds card and personal data in plain text: its literals anywhere, and whatever
// payout.LooksLikeCardNumber finds in bytes that carry user data.
type leakScanner struct{ literals []string }

// newLeakScanner returns a scanner for a card number, written whole and in groups of four joined by spaces, dashes
// or dots, and for other personal data, such as the recipient's name.
func newLeakScanner(pan string, personal ...string) leakScanner {
	literals := []string{pan}
	if len(pan) == 16 {
		for _, sep := range []string{" ", "-", "."} {
			literals = append(literals, strings.Join([]string{pan[:4], pan[4:8], pan[8:12], pan[12:]}, sep))
		}
	}
	return leakScanner{literals: append(literals, personal...)}
}

var (
	// printableRun is a run of printable ASCII long enough to hold a card number.
	printableRun = regexp.MustCompile(`[\x20-\x7e]{13,}`)
	// identifier is a UUID or a long hex ID: their digit groups pass the card number check now and then (one
	// random UUID in about 800), so scan blanks them before looking for card numbers.
	identifier = regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32,}`)
)

// scan reports what b holds in plain text: a literal and, if userData, what looks like a card number in its
// printable runs.
func (s leakScanner) scan(where string, b []byte, userData bool) []leak {
	var out []leak
	for _, l := range s.literals {
		if bytes.Contains(b, []byte(l)) {
			out = append(out, leak{where, fmt.Sprintf("holds %q", payout.MaskCardNumbers([]byte(l)))})
		}
	}
	if !userData {
		return out
	}
	blanked := identifier.ReplaceAllFunc(b, func(id []byte) []byte { return bytes.Repeat([]byte{'_'}, len(id)) })
	for _, run := range printableRun.FindAll(blanked, -1) {
		if payout.LooksLikeCardNumber(string(run)) {
			out = append(out, leak{where, fmt.Sprintf("looks like a card number: %q", payout.MaskCardNumbers(run))})
		}
	}
	return out
}

// payloadName is the message every payload travels in: its data and metadata carry user data.
const payloadName protoreflect.FullName = "temporal.api.common.v1.Payload"

// message reports the leaks anywhere in m, a history event or an API answer: every commonpb.Payload, whatever
// holds it (Payloads, Memo, SearchAttributes, Header, a Failure's encoded attributes and details...), is scanned
// for card numbers, its data and metadata as stored; every other string and bytes field for the literals.
func (s leakScanner) message(where string, m proto.Message) []leak {
	var out []leak
	s.walk(where, m.ProtoReflect(), false, &out)
	return out
}

func (s leakScanner) walk(where string, m protoreflect.Message, inPayload bool, out *[]leak) {
	inPayload = inPayload || m.Descriptor().FullName() == payloadName
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		at := where + "." + string(fd.Name())
		switch {
		case fd.IsList():
			for i, l := 0, v.List(); i < l.Len(); i++ {
				s.value(fmt.Sprintf("%s[%d]", at, i), fd, l.Get(i), inPayload, out)
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				key := k.String()
				*out = append(*out, s.scan(at+" key", []byte(key), false)...)
				s.value(fmt.Sprintf("%s[%q]", at, key), fd.MapValue(), mv, inPayload, out)
				return true
			})
		default:
			s.value(at, fd, v, inPayload, out)
		}
		return true
	})
}

func (s leakScanner) value(where string, fd protoreflect.FieldDescriptor, v protoreflect.Value, inPayload bool,
	out *[]leak,
) {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		s.walk(where, v.Message(), inPayload, out)
	case protoreflect.StringKind:
		*out = append(*out, s.scan(where, []byte(v.String()), inPayload)...)
	case protoreflect.BytesKind:
		*out = append(*out, s.scan(where, v.Bytes(), inPayload)...)
	}
}

// storeRow is one row as the Temporal server stored it: its text and blob values, and its integers in decimal.
type storeRow struct {
	Table   string
	N       int // the row's place in its table as read
	Columns []string
	Values  [][]byte
}

// rows reports the leaks in the server's rows: the literals in any row, and card numbers in the rows that hold
// any of ids (the payout's workflow ID, its run ID as text or as the 16 bytes most tables key it by).
func (s leakScanner) rows(rows []storeRow, ids ...string) []leak {
	var keys [][]byte
	for _, id := range ids {
		keys = append(keys, []byte(id))
		if raw := uuidBytes(id); raw != nil {
			keys = append(keys, raw)
		}
	}
	var out []leak
	for _, r := range rows {
		ours := false
		for _, v := range r.Values {
			for _, k := range keys {
				ours = ours || bytes.Contains(v, k)
			}
		}
		for i, v := range r.Values {
			out = append(out, s.scan(fmt.Sprintf("%s row %d %s", r.Table, r.N, r.Columns[i]), v, ours)...)
		}
	}
	return out
}

// uuidBytes returns the 16 bytes of a UUID written as text, nil if s is none.
func uuidBytes(s string) []byte {
	raw, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(raw) != 16 {
		return nil
	}
	return raw
}

// The Temporal server of temporaltest keeps its rows in an in-memory SQLite database (mode=memory, cache=shared)
// with a random name, out of reach of its API; its SQLite driver, modernc.org/sqlite, is this process's, and tells
// each connection's name to the hook registered here. Any connection of this process that opens that name shares
// the server's database.
var (
	sqliteMu  sync.Mutex
	sqliteDBs = map[string]bool{}
)

func init() {
	sqlite.RegisterConnectionHook(func(_ sqlite.ExecQuerierContext, dsn string) error {
		name, query, _ := strings.Cut(dsn, "?")
		if strings.Contains(query, "mode=memory") {
			sqliteMu.Lock()
			sqliteDBs[name] = true
			sqliteMu.Unlock()
		}
		return nil
	})
}

// readServerStore returns every row of every table of the running server's database, read by a query-only,
// read-uncommitted connection: in shared-cache mode, it takes no table locks that would refuse the server's writes.
func readServerStore(t *testing.T) []storeRow {
	t.Helper()
	sqliteMu.Lock()
	var names []string
	for name := range sqliteDBs {
		names = append(names, name)
	}
	sqliteMu.Unlock()
	require.Len(t, names, 1, "the in-memory SQLite database of the Temporal server")

	db, err := sql.Open("sqlite", names[0]+"?mode=memory&cache=shared&_pragma=query_only(1)&_pragma=read_uncommitted(1)")
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)

	var tables []string
	q, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	require.NoError(t, err)
	for q.Next() {
		var name string
		require.NoError(t, q.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, q.Err())
	require.NoError(t, q.Close())
	require.Contains(t, tables, "history_node", "the server's database, not an empty one of the same name")

	var out []storeRow
	for _, table := range tables {
		q, err := db.Query(`SELECT * FROM "` + table + `"`)
		require.NoError(t, err)
		cols, err := q.Columns()
		require.NoError(t, err)
		for n := 0; q.Next(); n++ {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, q.Scan(ptrs...))
			row := storeRow{Table: table, N: n, Columns: cols, Values: make([][]byte, len(cols))}
			for i, v := range vals {
				switch v := v.(type) {
				case []byte:
					row.Values[i] = v
				case string:
					row.Values[i] = []byte(v)
				case int64:
					row.Values[i] = strconv.AppendInt(nil, v, 10)
				}
			}
			out = append(out, row)
		}
		require.NoError(t, q.Err())
		require.NoError(t, q.Close())
	}
	return out
}

// value returns the row's value of column col, nil if it has none.
func (r storeRow) value(col string) []byte {
	if i := slices.Index(r.Columns, col); i >= 0 {
		return r.Values[i]
	}
	return nil
}

// withFirstEvent returns a copy of rows where the history_node row that holds the first event of run runID holds
// ev in its place, and the place of its data for a leak.
func withFirstEvent(t *testing.T, rows []storeRow, runID string, ev *historypb.HistoryEvent) ([]storeRow, string) {
	t.Helper()
	i := slices.IndexFunc(rows, func(r storeRow) bool {
		return r.Table == "history_node" && bytes.Equal(r.value("tree_id"), uuidBytes(runID)) &&
			string(r.value("node_id")) == "1"
	})
	require.GreaterOrEqual(t, i, 0, "the row of the run's first events")
	data := slices.Index(rows[i].Columns, "data")
	// history_node.data is a batch of events in protobuf, as the API returns them but for the search attributes,
	// stored under the server's own names (Keyword01...).
	var batch historypb.History
	require.NoError(t, proto.Unmarshal(rows[i].Values[data], &batch))
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, batch.Events[0].GetEventType(), "the run's start")
	batch.Events[0] = ev
	blob, err := proto.Marshal(&batch)
	require.NoError(t, err)
	out := slices.Clone(rows)
	out[i].Values = slices.Clone(rows[i].Values)
	out[i].Values[data] = blob
	return out, fmt.Sprintf("history_node row %d data", rows[i].N)
}

// requireFound checks that leaks name both the literal and a card number at where, and nothing elsewhere.
func requireFound(t *testing.T, leaks []leak, where string) {
	t.Helper()
	var whats []string
	for _, l := range leaks {
		require.Equal(t, where, l.Where, "a leak only where one was put: %v", leaks)
		whats = append(whats, l.What)
	}
	require.Len(t, whats, 2, "the literal and the card number: %v", leaks)
	require.True(t, strings.HasPrefix(whats[0], "holds "), "%v", leaks)
	require.True(t, strings.HasPrefix(whats[1], "looks like a card number: "), "%v", leaks)
}

// historyEvents returns the payout's history as the server returns it, without the codec.
func historyEvents(t *testing.T, id string) []*historypb.HistoryEvent {
	t.Helper()
	var events []*historypb.HistoryEvent
	it := st.raw.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		events = append(events, ev)
	}
	return events
}

// eventName names a history event in a leak's place.
func eventName(ev *historypb.HistoryEvent) string {
	return fmt.Sprintf("event %d %s", ev.GetEventId(), ev.GetEventType())
}

// rawAnswers returns, by API call, what the server answers about the payout without the codec: its description
// (memo, search attributes), its entry in the list of workflows, and its state query's answer.
func rawAnswers(t *testing.T, id string) map[string]proto.Message {
	t.Helper()
	ctx := context.Background()
	desc, err := st.raw.DescribeWorkflowExecution(ctx, id, "")
	require.NoError(t, err)
	var list *workflowservice.ListWorkflowExecutionsResponse
	require.Eventually(t, func() bool {
		list, err = st.raw.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: st.ts.GetDefaultNamespace(), Query: fmt.Sprintf("WorkflowId = %q", id),
		})
		require.NoError(t, err)
		return len(list.Executions) == 1
	}, 10*time.Second, 50*time.Millisecond, "the payout is listed")
	query, err := st.raw.WorkflowService().QueryWorkflow(ctx, &workflowservice.QueryWorkflowRequest{
		Namespace: st.ts.GetDefaultNamespace(),
		Execution: &commonpb.WorkflowExecution{WorkflowId: id},
		Query:     &querypb.WorkflowQuery{QueryType: workflows.QueryState},
	})
	require.NoError(t, err)
	require.NotEmpty(t, query.GetQueryResult().GetPayloads(), "the state query answers")
	return map[string]proto.Message{
		"DescribeWorkflowExecution": desc, "ListWorkflowExecutions": list, "QueryWorkflow": query,
	}
}
