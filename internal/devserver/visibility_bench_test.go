package devserver

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	tsql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/resolver"
	sqliteschema "go.temporal.io/server/schema/sqlite"

	"github.com/payoutflow/payoutflow/workflows"
)

// BenchmarkVisibilityUpsert times one visibility upsert (the sqlite plugin's ReplaceIntoVisibility, what the
// server's UpsertWorkflowExecution comes to) of a payout's row, on a data file already holding benchVisibilityRows
// rows: Temporal's schema as is, as prepareDB makes a new file (setupSchema), and other variants.
// Run: go test -run '^$' -bench BenchmarkVisibilityUpsert -benchtime 800x ./internal/devserver/
// (ns/op is noisy on a shared machine; the CPU times and the bytes and calls written per upsert are steadier).
// Page sizes of 1 or 2 KiB, measured too, wrote fewer bytes in more calls and cost more.
func BenchmarkVisibilityUpsert(b *testing.B) {
	variants := []struct {
		name    string
		schema  bool                                            // Temporal's schema as is (else setupSchema's)
		drop    func(index string, used map[string]string) bool // more indexes of executions_visibility to drop
		pragmas map[string]string                               // extra connect attributes (pragmas)
	}{
		{name: "temporal-schema", schema: true},
		{name: "devserver-schema"}, // the indexes of unused custom and of CHASM columns dropped
		{name: "temporal-schema-unused-custom-dropped", schema: true, drop: unusedCustom},
		{name: "temporal-schema-chasm-dropped", schema: true, drop: func(index string, _ map[string]string) bool {
			return slices.Contains(chasmIndexes, index)
		}},
		{name: "temporal-schema-cache-temp-mmap", schema: true, pragmas: map[string]string{
			"cache_size": "-65536", // KiB: 64 MiB instead of 2 MiB
			"temp_store": "memory",
			"mmap_size":  "268435456",
		}},
		{name: "temporal-schema-autocheckpoint-10000", schema: true, pragmas: map[string]string{"wal_autocheckpoint": "10000"}},
		{name: "devserver-schema-autocheckpoint-10000", pragmas: map[string]string{"wal_autocheckpoint": "10000"}},
		// A measure only, of what indexes cost: those of the rarely listed system columns dropped too.
		{name: "x-only-list-indexes-kept", drop: func(index string, _ map[string]string) bool {
			return !listIndexes[index] && !isCustomColumnIndex(index)
		}},
	}
	columns := map[string]string{} // search attribute -> DB column, as prepareDB maps them
	for column, alias := range columnAliases(workflows.SearchAttributeTypes) {
		columns[alias] = column
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), dbFileName)
			if v.schema {
				require.NoError(b, sqliteschema.SetupSchema(sqlConfig(path)))
			}
			conf, err := prepareDB(path, []string{defaultNamespace, "payouts"}, workflows.SearchAttributeTypes)
			require.NoError(b, err)
			if v.drop != nil {
				benchDropIndexes(b, path, func(index string) bool { return v.drop(index, columns) })
			}
			indexes := len(visibilityIndexes(b, path))
			conf = withAttributes(conf, v.pragmas)
			db, err := tsql.NewSQLDB(sqlplugin.DbKindVisibility, conf, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
			require.NoError(b, err)
			b.Cleanup(func() { _ = db.Close() })

			ctx := context.Background()
			rows := make([]*sqlplugin.VisibilityRow, benchVisibilityRows)
			for i := range rows {
				rows[i] = benchRow(i, columns)
				_, err := db.ReplaceIntoVisibility(ctx, rows[i])
				require.NoError(b, err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			u0, s0, io0 := processUsage(b)
			i := 0
			for b.Loop() {
				row := rows[i%len(rows)]
				row.Version++ // an upsert with a version not above the stored one changes nothing
				(*row.SearchAttributes)[columns["PayoutEventAt"]] = time.Now().UTC()
				if _, err := db.ReplaceIntoVisibility(ctx, row); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.StopTimer()
			u1, s1, io1 := processUsage(b)
			n := float64(b.N)
			b.ReportMetric(float64(u1-u0)/n, "user-ns/op")
			b.ReportMetric(float64(s1-s0)/n, "sys-ns/op")
			b.ReportMetric(float64(io1["wchar"]-io0["wchar"])/n, "wbytes/op")
			b.ReportMetric(float64(io1["syscw"]-io0["syscw"])/n, "writes/op")
			b.ReportMetric(float64(indexes), "indexes")
			var count int
			require.NoError(b, benchQueryRow(path, "SELECT count(*) FROM executions_visibility", &count))
			require.Equal(b, benchVisibilityRows, count)
		})
	}
}

const benchVisibilityRows = 2000

// listIndexes are the indexes of system columns that Temporal's and the UI's usual lists use.
var listIndexes = map[string]bool{
	"default_idx": true, "by_execution_time": true, "by_workflow_id": true, "by_workflow_type": true, "by_status": true,
	"by_temporal_namespace_division": true, "by_task_queue": true,
}

// unusedCustom reports whether index is the index of a pre-allocated custom column that no attribute uses.
func unusedCustom(index string, used map[string]string) bool {
	return isCustomColumnIndex(index) && !usesColumn(index, used)
}

// withAttributes returns a copy of conf with attrs added to its connect attributes.
func withAttributes(conf *config.SQL, attrs map[string]string) *config.SQL {
	c := *conf
	c.ConnectAttributes = map[string]string{}
	for k, v := range conf.ConnectAttributes {
		c.ConnectAttributes[k] = v
	}
	for k, v := range attrs {
		c.ConnectAttributes[k] = v
	}
	return &c
}

// isCustomColumnIndex reports whether index is one of the schema's indexes of a pre-allocated custom column.
func isCustomColumnIndex(index string) bool {
	for _, typ := range []string{"bool", "datetime", "double", "int", "keyword"} {
		if strings.HasPrefix(index, "by_"+typ+"_") {
			return true
		}
	}
	return false
}

// usesColumn reports whether index is the index of one of the columns.
func usesColumn(index string, columns map[string]string) bool {
	for _, column := range columns {
		if index == indexOfColumn(column) {
			return true
		}
	}
	return false
}

func benchDropIndexes(b *testing.B, path string, drop func(index string) bool) {
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(b, err)
	defer func() { _ = db.Close() }()
	for _, name := range visibilityIndexes(b, path) {
		if drop(name) {
			_, err := db.Exec("DROP INDEX " + name)
			require.NoError(b, err)
		}
	}
}

// processUsage returns the user and system CPU time this process has used and its I/O counters (/proc/self/io).
func processUsage(b *testing.B) (user, sys time.Duration, io map[string]int64) {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	raw, err := os.ReadFile("/proc/self/io")
	require.NoError(b, err)
	io = map[string]int64{}
	for _, line := range strings.Split(string(raw), "\n") {
		if name, value, ok := strings.Cut(line, ": "); ok {
			io[name], _ = strconv.ParseInt(value, 10, 64)
		}
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), io
}

func benchQueryRow(path, query string, dest ...any) error {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	return db.QueryRow(query).Scan(dest...)
}

// benchRow is a running payout's visibility row: a ~6 KB memo and its search attributes, in the DB columns.
func benchRow(i int, columns map[string]string) *sqlplugin.VisibilityRow {
	start := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	sa := sqlplugin.VisibilitySearchAttributes{
		columns["PayoutStatus"]:     "submitted",
		columns["PayoutProvider"]:   "bank131",
		columns["PayoutMethod"]:     "card",
		columns["PayoutAmount"]:     int64(150000 + i),
		columns["PayoutCurrency"]:   "RUB",
		columns["AwaitingApproval"]: false,
		columns["NeedsAttention"]:   false,
		columns["PayoutEventAt"]:    start,
		columns["PayoutCreatedBy"]:  "key_backend",
		"TemporalChangeVersion":     []string{"payout-version-6"},
		"BuildIds":                  []string{"unversioned"},
	}
	memo := []byte(strings.Repeat(fmt.Sprintf(`{"id":"po_%06d","status":"submitted","note":"abcdefghijklmnop"},`, i), 6000/64))
	return &sqlplugin.VisibilityRow{
		NamespaceID:      "7b5fd1a4-3c1e-4b8e-9c55-bench0000000",
		RunID:            fmt.Sprintf("0193a5c0-0000-7000-8000-%012d", i),
		WorkflowTypeName: "Payout",
		WorkflowID:       fmt.Sprintf("po_%06d", i),
		StartTime:        start,
		ExecutionTime:    start,
		Status:           int32(enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING),
		Memo:             memo,
		Encoding:         "Proto3",
		TaskQueue:        "payouts",
		SearchAttributes: &sa,
		RootWorkflowID:   fmt.Sprintf("po_%06d", i),
		RootRunID:        fmt.Sprintf("0193a5c0-0000-7000-8000-%012d", i),
		Version:          1,
	}
}
