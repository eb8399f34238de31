package devserver

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	sqliteschema "go.temporal.io/server/schema/sqlite"
)

var testSearchAttributes = map[string]enumspb.IndexedValueType{
	"PayoutStatus":     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"PayoutProvider":   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"PayoutAmount":     enumspb.INDEXED_VALUE_TYPE_INT,
	"AwaitingApproval": enumspb.INDEXED_VALUE_TYPE_BOOL,
	"PayoutEventAt":    enumspb.INDEXED_VALUE_TYPE_DATETIME,
}

func TestPrepareDB_ANewFileLacksOnlyTheIndexesOfColumnsNothingUses(t *testing.T) {
	const temporalIndexes = 58 // in go.temporal.io/server/schema/sqlite/v3/visibility/schema.sql
	tests := []struct {
		name        string
		existing    bool // the file was made before, with Temporal's whole schema
		wantIndexes int
	}{
		// Unused: Keyword03-10, Int02-03, Bool02-03, Datetime02-03, Double01-03 (17), and the 13 CHASM ones.
		{name: "new file", wantIndexes: temporalIndexes - 17 - 13},
		{name: "existing file keeps its indexes", existing: true, wantIndexes: temporalIndexes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), dbFileName)
			if tt.existing {
				require.NoError(t, sqliteschema.SetupSchema(sqlConfig(path)))
			}
			_, err := prepareDB(path, []string{defaultNamespace, "payouts"}, testSearchAttributes)
			require.NoError(t, err)

			indexes := visibilityIndexes(t, path)
			require.Len(t, indexes, tt.wantIndexes, "%v", indexes)
			for _, index := range []string{"default_idx", "by_status", "by_workflow_type", "by_temporal_namespace_division",
				"by_keyword_01", "by_keyword_02", "by_int_01", "by_bool_01", "by_datetime_01"} {
				require.Contains(t, indexes, index, "the index of a column that lists use")
			}
			if !tt.existing {
				for _, index := range []string{"by_keyword_03", "by_int_02", "by_double_01", "by_temporal_keyword_01"} {
					require.NotContains(t, indexes, index, "the index of a column nothing writes")
				}
			}
		})
	}
}

func TestColumnAliases_MapsAttributesToColumnsOfTheirTypeInNameOrder(t *testing.T) {
	require.Equal(t, map[string]string{
		"Bool01":     "AwaitingApproval",
		"Datetime01": "PayoutEventAt",
		"Int01":      "PayoutAmount",
		"Keyword01":  "PayoutProvider",
		"Keyword02":  "PayoutStatus",
	}, columnAliases(testSearchAttributes))
}

// A new data file lacks the indexes of the columns no attribute uses: lists by the namespaces' attributes, and by
// one registered later on such a column, still answer exactly.
func TestServer_ListsBySearchAttributesOnANewDataFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{
		DataDir:          t.TempDir(),
		FrontendAddr:     "127.0.0.1:0",
		DisableUI:        true,
		Namespace:        "payouts",
		SearchAttributes: testSearchAttributes,
		Logger:           slog.New(slog.NewTextHandler(newTestWriter(t), nil)),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Stop() })

	status := temporal.NewSearchAttributeKeyKeyword("PayoutStatus")
	provider := temporal.NewSearchAttributeKeyKeyword("PayoutProvider")
	amount := temporal.NewSearchAttributeKeyInt64("PayoutAmount")
	awaiting := temporal.NewSearchAttributeKeyBool("AwaitingApproval")
	eventAt := temporal.NewSearchAttributeKeyTime("PayoutEventAt")
	late := temporal.NewSearchAttributeKeyKeyword("PayoutLateNote")
	noon := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

	c := dialNamespace(t, s.FrontendAddr(), "payouts")
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        "payouts",
		SearchAttributes: map[string]enumspb.IndexedValueType{late.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	})
	require.NoError(t, err)
	// No worker: a started workflow's row holds the attributes it was started with.
	for id, sa := range map[string]temporal.SearchAttributes{
		"a": temporal.NewSearchAttributes(status.ValueSet("awaiting_approval"), provider.ValueSet("bank131"),
			amount.ValueSet(500), awaiting.ValueSet(true), eventAt.ValueSet(noon)),
		"b": temporal.NewSearchAttributes(status.ValueSet("submitted"), provider.ValueSet("bank131"),
			amount.ValueSet(1500), awaiting.ValueSet(false), eventAt.ValueSet(noon.Add(time.Hour))),
		"c": temporal.NewSearchAttributes(status.ValueSet("submitted"), provider.ValueSet("bepaid"),
			amount.ValueSet(2500), awaiting.ValueSet(false), eventAt.ValueSet(noon.Add(2*time.Hour)), late.ValueSet("later")),
	} {
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "nobody", TypedSearchAttributes: sa}, "Payout")
		require.NoError(t, err)
	}

	for query, want := range map[string][]string{
		`PayoutStatus = 'submitted'`:                         {"b", "c"},
		`PayoutProvider = 'bank131'`:                         {"a", "b"},
		`PayoutAmount > 1000`:                                {"b", "c"},
		`AwaitingApproval = true`:                            {"a"},
		`PayoutEventAt >= '2026-12-07T13:00:00Z'`:            {"b", "c"},
		`PayoutStatus = 'submitted' AND PayoutAmount < 2000`: {"b"},
		`PayoutLateNote = 'later'`:                           {"c"}, // a column without an index
		`PayoutStatus = 'paid'`:                              {},
	} {
		require.Eventually(t, func() bool { return slices.Equal(listIDs(ctx, t, c, "payouts", query), want) },
			20*time.Second, 100*time.Millisecond, "%s: want %v, have %v", query, want, listIDs(ctx, t, c, "payouts", query))
	}

	// The default namespace has the same attributes on the same columns.
	d := dialNamespace(t, s.FrontendAddr(), defaultNamespace)
	_, err = d.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "d", TaskQueue: "nobody",
		TypedSearchAttributes: temporal.NewSearchAttributes(status.ValueSet("submitted"), amount.ValueSet(700))}, "Payout")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return slices.Equal(listIDs(ctx, t, d, defaultNamespace, `PayoutStatus = 'submitted' AND PayoutAmount = 700`), []string{"d"})
	}, 20*time.Second, 100*time.Millisecond)
}

// listIDs returns the sorted workflow IDs a list query finds in namespace ns.
func listIDs(ctx context.Context, t *testing.T, c client.Client, ns, query string) []string {
	t.Helper()
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ns, Query: query})
	require.NoError(t, err, query)
	ids := []string{}
	for _, e := range resp.GetExecutions() {
		ids = append(ids, e.GetExecution().GetWorkflowId())
	}
	slices.Sort(ids)
	return ids
}

func dialNamespace(t *testing.T, addr, ns string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: addr, Namespace: ns, Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// visibilityIndexes returns the names of the indexes of the visibility table in the SQLite file at path.
func visibilityIndexes(t testing.TB, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer func() { _ = db.Close() }()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'executions_visibility' AND sql IS NOT NULL`)
	require.NoError(t, err)
	defer func() { _ = rows.Close() }()
	var names []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		names = append(names, name)
	}
	require.NoError(t, rows.Err())
	return names
}
