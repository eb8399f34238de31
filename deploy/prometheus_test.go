package deploy

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// promtool finds promtool, fetching Debian's package into a cache when it is not installed
// (scripts/install-promtool.sh).
func promtool(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("bash", filepath.Join("..", "scripts", "install-promtool.sh")).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("scripts/install-promtool.sh: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

func TestAlerts_PromtoolChecksTheRules(t *testing.T) {
	out, err := exec.Command(promtool(t), "check", "rules", filepath.Join("prometheus", "alerts.yml")).CombinedOutput()

	require.NoError(t, err, "promtool check rules:\n%s", out)
	require.Contains(t, string(out), "SUCCESS")
}

func TestAlerts_FireWhenTheyShouldAndOnlyThen(t *testing.T) {
	cmd := exec.Command(promtool(t), "test", "rules", "alerts_test.yml")
	cmd.Dir = "prometheus"
	out, err := cmd.CombinedOutput()

	require.NoError(t, err, "promtool test rules (deploy/prometheus/alerts_test.yml):\n%s", out)
	require.Contains(t, string(out), "SUCCESS")
}

// TestDashboard_EveryPanelQueriesPrometheus keeps the dashboard importable: JSON, every panel with a PromQL
// target on the dashboard's datasource variable. That its metrics are exposed is checked by internal/deploytest.
func TestDashboard_EveryPanelQueriesPrometheus(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("grafana", "payoutflow.json"))
	require.NoError(t, err)
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr       string `json:"expr"`
				Datasource struct {
					UID string `json:"uid"`
				} `json:"datasource"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &dash))
	require.Equal(t, "payoutflow", dash.UID)
	queries := 0
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		require.NotEmpty(t, p.Targets, "panel %q queries nothing", p.Title)
		for _, tg := range p.Targets {
			require.NotEmpty(t, tg.Expr, "panel %q", p.Title)
			require.Equal(t, "${datasource}", tg.Datasource.UID, "panel %q", p.Title)
			queries++
		}
	}
	require.Greater(t, queries, 20)
}
