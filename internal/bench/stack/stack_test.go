package stack

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A part that cannot start fails Start with its error, and what had started is stopped: no panic on the way out.
func TestStart_APartThatCannotStartIsAnErrorNotAPanic(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-binary")
	s, err := Start(Options{Dev: missing, Peer: missing, Dir: dir})
	require.Error(t, err)
	require.ErrorContains(t, err, "temporal")
	require.Nil(t, s)
}
