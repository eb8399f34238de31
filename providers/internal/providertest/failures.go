package providertest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
)

// RequireFailureTable checks that table has exactly the rows its test writes out (provider code → vocabulary
// code), each mapping as written, one subtest per row.
func RequireFailureTable(t *testing.T, table payout.FailureTable, rows map[string]string) {
	t.Helper()
	require.Len(t, table, len(rows), "one row per entry of the table")
	for code, want := range rows {
		t.Run(code, func(t *testing.T) {
			got, known := table.Map(code)
			require.True(t, known)
			require.Equal(t, want, got)
			require.True(t, payout.IsFailureCode(got))
		})
	}
}
