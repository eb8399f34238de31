package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFillReadme_ReplacesOnlyWhatIsBetweenTheMarkers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	require.NoError(t, os.WriteFile(path, []byte("# x\n\nbefore\n"+readmeStart+"\nold table\n"+readmeEnd+"\nafter\n"), 0o644))
	require.NoError(t, fillReadme(path, "| new | table |\n"))
	require.NoError(t, fillReadme(path, "| newer | table |\n"))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "# x\n\nbefore\n"+readmeStart+"\n| newer | table |\n"+readmeEnd+"\nafter\n", string(b))
}

func TestFillReadme_RefusesAFileWithoutTheMarkers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	require.NoError(t, os.WriteFile(path, []byte("# x\n"+readmeEnd+"\n"+readmeStart+"\n"), 0o644))
	require.ErrorContains(t, fillReadme(path, "t"), "no <!-- bench:table -->")
}
