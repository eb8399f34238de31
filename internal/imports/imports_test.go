package imports

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// sandboxMachinery is what the sandboxes share (state file, signed delivery, background work); only they import it.
var sandboxMachinery = []string{
	"github.com/payoutflow/payoutflow/providers/internal/sandboxkit",
	"github.com/payoutflow/payoutflow/providers/internal/statefile",
	"github.com/payoutflow/payoutflow/providers/internal/delivery",
	"github.com/payoutflow/payoutflow/providers/internal/background",
}

// forbidden says why a package path may not be linked into a production binary, or "" when it may.
func forbidden(path string) string {
	const module = "github.com/payoutflow/payoutflow/"
	switch {
	case strings.HasPrefix(path, module) && slices.Contains(strings.Split(path, "/"), "sandbox"):
		return "a provider sandbox"
	case path == module+"internal/faults":
		return "the sandboxes' fault injection"
	case slices.Contains(sandboxMachinery, path):
		return "the sandboxes' common machinery"
	case path == module+"providers/internal/providertest":
		return "a test helper"
	case path == "go.temporal.io/server" || strings.HasPrefix(path, "go.temporal.io/server/"):
		return "the embedded Temporal server"
	}
	return ""
}

// deps lists the packages that the packages named by patterns import, directly or not, with go list (no build).
func deps(t *testing.T, patterns ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps"}, patterns...)...)
	cmd.Dir = "../.." // the module's root
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && errors.As(err, &exit) {
		t.Fatalf("go list -deps %v: %v\n%s", patterns, err, exit.Stderr)
	}
	require.NoError(t, err)
	return strings.Fields(string(out))
}

// offending is each forbidden package among paths, with why.
func offending(paths []string) []string {
	var bad []string
	for _, p := range paths {
		if why := forbidden(p); why != "" {
			bad = append(bad, p+" ("+why+")")
		}
	}
	return bad
}

func TestProductionBinariesLinkNoSandbox(t *testing.T) {
	for _, cmd := range []string{"./cmd/worker", "./cmd/api"} {
		t.Run(cmd, func(t *testing.T) {
			paths := deps(t, cmd)
			require.Contains(t, paths, "github.com/payoutflow/payoutflow/providers/bank131", "the listing is complete")

			require.Empty(t, offending(paths), "%s must not link these", cmd)
		})
	}
}

func TestTheCheckFindsTheSandboxesOfTheDevBinary(t *testing.T) {
	bad := offending(deps(t, "./cmd/dev"))

	for _, p := range []string{"bank131", "bepaid", "mandarin"} {
		require.Contains(t, bad, "github.com/payoutflow/payoutflow/providers/"+p+"/sandbox (a provider sandbox)")
	}
	require.Contains(t, bad, "github.com/payoutflow/payoutflow/internal/faults (the sandboxes' fault injection)")
}

func TestSandboxesAreBuiltFromTheDocumentsNotFromTheClients(t *testing.T) {
	const providers = "github.com/payoutflow/payoutflow/providers/"
	for _, p := range []string{"bank131", "bepaid", "mandarin"} {
		t.Run(p, func(t *testing.T) {
			paths := deps(t, "./providers/"+p+"/sandbox")

			require.Contains(t, paths, providers+p+"/sandbox", "the listing is complete")
			require.NotContains(t, paths, providers+p, "the sandbox speaks the wire format on its own")
		})
	}
}

func TestTheCheckForbidsTheSandboxesCommonMachinery(t *testing.T) {
	// Issue 16, item 2: the common sandbox machinery (state file, signed delivery, background work) is the
	// sandboxes' and must stay out of bin/worker and bin/api as the sandboxes do. Only the sandboxes import these
	// packages today, but the check would let a production import of them through.
	const internal = "github.com/payoutflow/payoutflow/providers/internal/"
	for _, p := range []string{"sandboxkit", "statefile", "delivery", "background"} {
		t.Run(p, func(t *testing.T) {
			require.NotEmpty(t, forbidden(internal+p), "%s is sandbox machinery, yet the check allows it", internal+p)
		})
	}
}
