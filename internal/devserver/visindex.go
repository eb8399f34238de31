package devserver

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/resolver"
	"go.temporal.io/server/common/searchattribute/sadefs"
	sqliteschema "go.temporal.io/server/schema/sqlite"
)

// chasmIndexes are the schema's indexes of the columns pre-allocated to CHASM archetypes (standalone activities,
// the CHASM scheduler, Nexus operations), none of which payoutflow runs.
var chasmIndexes = []string{
	"by_temporal_bool_01", "by_temporal_bool_02", "by_temporal_datetime_01", "by_temporal_datetime_02",
	"by_temporal_double_01", "by_temporal_double_02", "by_temporal_int_01", "by_temporal_int_02",
	"by_temporal_keyword_01", "by_temporal_keyword_02", "by_temporal_keyword_03", "by_temporal_keyword_04",
	"by_temporal_low_cardinality_keyword_01",
}

// setupSchema creates Temporal's schema in the new SQLite file of conf, less the indexes of pre-allocated
// search-attribute columns that no attribute of the namespaces maps to (unusedIndexes). Every visibility write
// rewrites the row's entry in each index, NULL or not: without these (25 of 58 with payoutflow's attributes) a
// payout's visibility upsert costs about 30% less (BenchmarkVisibilityUpsert). An index changes no query's answer,
// only its speed: an attribute registered later on one of these columns is still listed, by a scan.
func setupSchema(conf *config.SQL, nsConfs []*sqliteschema.NamespaceConfig) error {
	db, err := sql.NewSQLAdminDB(sqlplugin.DbKindUnknown, conf, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	if err != nil {
		return fmt.Errorf("open SQLite admin DB: %w", err)
	}
	defer func() { _ = db.Close() }()
	if err := sqliteschema.SetupSchemaOnDB(db); err != nil {
		return err
	}
	for _, index := range unusedIndexes(nsConfs) {
		if err := db.Exec("DROP INDEX IF EXISTS " + index); err != nil {
			return fmt.Errorf("drop index %s: %w", index, err)
		}
	}
	return nil
}

// unusedIndexes returns, sorted, the indexes of the pre-allocated custom columns that no search attribute of the
// namespaces maps to, and those of the CHASM columns.
func unusedIndexes(nsConfs []*sqliteschema.NamespaceConfig) []string {
	used := map[string]bool{}
	for _, nsConf := range nsConfs {
		for column := range nsConf.Detail.GetConfig().GetCustomSearchAttributeAliases() {
			used[column] = true
		}
	}
	indexes := slices.Clone(chasmIndexes)
	for column, typ := range sadefs.GetDBIndexSearchAttributes(nil).CustomSearchAttributes {
		switch typ {
		case enumspb.INDEXED_VALUE_TYPE_BOOL, enumspb.INDEXED_VALUE_TYPE_DATETIME, enumspb.INDEXED_VALUE_TYPE_DOUBLE,
			enumspb.INDEXED_VALUE_TYPE_INT, enumspb.INDEXED_VALUE_TYPE_KEYWORD: // Text and KeywordList have full-text tables, not indexes
			if !used[column] {
				indexes = append(indexes, indexOfColumn(column))
			}
		}
	}
	slices.Sort(indexes)
	return indexes
}

// indexOfColumn names the schema's index of a pre-allocated custom column: Keyword05 -> by_keyword_05.
func indexOfColumn(column string) string {
	n := len(column) - 2
	return "by_" + strings.ToLower(column[:n]) + "_" + column[n:]
}

// columnAliases maps each search attribute in sas to a pre-allocated column of its type, in name order
// (AwaitingApproval -> Bool01, NeedsAttention -> Bool02, ...), as the namespace's custom search attribute aliases.
// NewNamespaceConfig picks the columns at random: namespaces given the same columns leave more of them unused.
func columnAliases(sas map[string]enumspb.IndexedValueType) map[string]string {
	aliases := map[string]string{}
	taken := map[enumspb.IndexedValueType]int{}
	for _, name := range slices.Sorted(maps.Keys(sas)) {
		taken[sas[name]]++
		aliases[fmt.Sprintf("%s%02d", sas[name].String(), taken[sas[name]])] = name
	}
	return aliases
}
