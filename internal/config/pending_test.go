package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadDev_PendingLimitIsReadForAnyProvider(t *testing.T) {
	isolate(t)
	t.Setenv("PENDING_LIMIT_BANK131", "96h")
	t.Setenv("PENDING_LIMIT_ACME", "30m")
	c, err := LoadDev()
	require.NoError(t, err)
	require.Equal(t, 96*time.Hour, c.PendingLimit["bank131"])
	require.Equal(t, 30*time.Minute, c.PendingLimit["acme"], "a provider the configuration does not know by name")

	t.Setenv("PENDING_LIMIT_ACME", "soon")
	_, err = LoadDev()
	require.ErrorContains(t, err, "PENDING_LIMIT_ACME")
}
