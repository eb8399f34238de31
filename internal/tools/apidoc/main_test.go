package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/api"
)

func TestAPIReference_IsCurrent(t *testing.T) {
	want, err := render(api.OpenAPIYAML())
	require.NoError(t, err)
	got, err := os.ReadFile("../../../docs/api.md")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "docs/api.md is stale: run go generate ./api/")
}

func TestAPIReference_NamesEveryOperationAndSchema(t *testing.T) {
	b, err := render(api.OpenAPIYAML())
	require.NoError(t, err)
	md := string(b)
	for _, want := range []string{"### `POST /v1/payouts`: Create a payout", "### `GET /v1/payouts/{id}`: Read a payout",
		"### `POST /webhooks/{provider}`: A provider's webhook", "### Payout\n", "### FailureCode\n",
		"| `Idempotency-Key` | header |"} {
		require.True(t, strings.Contains(md, want), "docs/api.md names %q", want)
	}
}
