package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadDev_VerifyWaitIsReadAndTooShortIsRefused(t *testing.T) {
	isolate(t)
	c, err := LoadDev()
	require.NoError(t, err)
	require.Equal(t, 8*time.Second, c.VerifyWait, "bePaid's sandbox waits 10 s: 2 s are left")

	t.Setenv("VERIFY_WAIT", "20s")
	c, err = LoadDev()
	require.NoError(t, err)
	require.Equal(t, 20*time.Second, c.VerifyWait)

	for _, bad := range []string{"1s", "soon"} {
		t.Setenv("VERIFY_WAIT", bad)
		_, err = LoadDev()
		require.ErrorContains(t, err, "VERIFY_WAIT", bad)
	}
}
