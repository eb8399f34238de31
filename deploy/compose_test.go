// Package deploy holds what runs payoutflow's Temporal cluster: deploy/temporal (the settings and the schema
// setup `make test-cluster` proves), deploy/dynamicconfig, and the test that docker-compose.temporal.yml runs the
// same.
package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"gopkg.in/yaml.v3"

	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/workflows"
)

// compose is what the test reads of docker-compose.temporal.yml.
type compose struct {
	Services map[string]service `yaml:"services"`
}

type service struct {
	Image       string            `yaml:"image"`
	EnvFile     string            `yaml:"env_file"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	Entrypoint  []string          `yaml:"entrypoint"`
	Command     []string          `yaml:"command"`
}

func readCompose(t *testing.T, path string) compose {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var c compose
	require.NoError(t, yaml.Unmarshal(b, &c), path)
	return c
}

// clusterSettings are deploy/temporal/cluster.env's variables.
func clusterSettings(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("temporal", "cluster.env"))
	require.NoError(t, err)
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "cluster.env: %q", line)
		m[k] = v
	}
	require.NoError(t, sc.Err())
	return m
}

// modVersion is the version go.mod requires of a module, without its "v".
func modVersion(t *testing.T, module string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + ` v(\S+)`).FindSubmatch(b)
	require.NotNil(t, m, "go.mod requires %s", module)
	return string(m[1])
}

func tag(image string) string {
	_, tag, _ := strings.Cut(image, ":")
	return tag
}

// TestCompose_RunsTheTopologyMakeTestClusterProves holds docker-compose.temporal.yml to the cluster that
// `make test-cluster` runs: the server and UI versions go.mod builds, the same settings, schema setup, dynamic
// configuration and search attributes, and a UI whose codec endpoint and origin are the ones the API serves and
// allows by default.
func TestCompose_RunsTheTopologyMakeTestClusterProves(t *testing.T) {
	checkCompose(t, filepath.Join("..", "docker-compose.temporal.yml"))
}

func checkCompose(t *testing.T, path string) {
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	t.Run("no error ignored", func(t *testing.T) {
		require.NotContains(t, string(raw), "|| true", "a setup step that fails must fail the compose run")
	})
	c := readCompose(t, path)
	settings := clusterSettings(t)
	server, schema, setup, ui := c.Services["temporal"], c.Services["temporal-schema"], c.Services["temporal-setup"],
		c.Services["temporal-ui"]

	t.Run("versions", func(t *testing.T) {
		version := modVersion(t, "go.temporal.io/server")
		require.Equal(t, "temporalio/server:"+version, server.Image, "the server go.mod builds, as make test-cluster runs it")
		require.Equal(t, "temporalio/admin-tools:"+version, schema.Image, "the SQL tool of the same server version")
		require.Equal(t, "temporalio/admin-tools:"+version, setup.Image)
		require.Equal(t, modVersion(t, "github.com/temporalio/ui-server/v2"), tag(ui.Image), "the UI go.mod builds")
	})

	t.Run("settings", func(t *testing.T) {
		// Each Temporal service reads cluster.env and adds only where it runs: the network and the paths in it.
		network := map[string]bool{"POSTGRES_SEEDS": true, "BIND_ON_IP": true, "DYNAMIC_CONFIG_FILE_PATH": true,
			"TEMPORAL_ADDRESS": true}
		for name, s := range map[string]service{"temporal": server, "temporal-schema": schema, "temporal-setup": setup} {
			require.Equal(t, "deploy/temporal/cluster.env", s.EnvFile, name)
			for k := range s.Environment {
				require.True(t, network[k], "%s sets %s beyond deploy/temporal/cluster.env", name, k)
			}
		}
		require.Equal(t, "postgres12", settings["DB"])
		pg := c.Services["postgresql"].Environment
		require.Equal(t, settings["POSTGRES_USER"], pg["POSTGRES_USER"])
		require.Equal(t, settings["POSTGRES_PWD"], pg["POSTGRES_PASSWORD"])
		require.Equal(t, "postgresql", server.Environment["POSTGRES_SEEDS"])
		require.Equal(t, "postgresql", schema.Environment["POSTGRES_SEEDS"])
	})

	t.Run("schema setup", func(t *testing.T) {
		require.Contains(t, schema.Volumes, "./deploy/temporal:/etc/payoutflow/temporal:ro")
		require.Equal(t, []string{"sh", "/etc/payoutflow/temporal/setup-schema.sh"}, schema.Entrypoint,
			"the setup make test-cluster runs")
	})

	t.Run("dynamic configuration", func(t *testing.T) {
		require.Contains(t, server.Volumes, "./deploy/dynamicconfig:/etc/temporal/config/dynamicconfig:ro")
		require.Equal(t, "/etc/temporal/config/dynamicconfig/payoutflow.yaml", server.Environment["DYNAMIC_CONFIG_FILE_PATH"])
		_, err := os.Stat(filepath.Join("dynamicconfig", "payoutflow.yaml"))
		require.NoError(t, err)
	})

	t.Run("namespace and search attributes", func(t *testing.T) {
		require.Len(t, setup.Command, 1)
		script := setup.Command[0]
		require.Contains(t, script, `namespace create -n "$$TEMPORAL_NAMESPACE" --retention "$$NAMESPACE_RETENTION"`)
		require.NotEmpty(t, settings["TEMPORAL_NAMESPACE"])
		require.NotEmpty(t, settings["NAMESPACE_RETENTION"])
		got := map[string]enumspb.IndexedValueType{}
		for _, m := range regexp.MustCompile(`--name (\w+) --type (\w+)`).FindAllStringSubmatch(script, -1) {
			got[m[1]] = enumspb.IndexedValueType(enumspb.IndexedValueType_value["INDEXED_VALUE_TYPE_"+strings.ToUpper(m[2])])
		}
		require.Equal(t, workflows.SearchAttributeTypes, got, "the search attributes the worker registers")
	})

	t.Run("UI", func(t *testing.T) {
		for _, k := range []string{"UI_ADDR", "UI_ORIGIN", "CODEC_ADDR", "CODEC_URL", "API_ADDR"} {
			t.Setenv(k, "")
		}
		t.Setenv("PUBLIC_URL", "https://payouts.example.com")
		cfg, err := config.Load()
		require.NoError(t, err)
		require.Equal(t, "${PAYOUTFLOW_CODEC_ENDPOINT:-"+cfg.CodecURL+"}", ui.Environment["TEMPORAL_CODEC_ENDPOINT"],
			"the browser decodes at the API's codec endpoint (CODEC_URL), not at the API's port")
		require.Equal(t, cfg.UIOrigin, ui.Environment["TEMPORAL_CORS_ORIGINS"])
		require.Equal(t, []string{cfg.UIAddr + ":8080"}, ui.Ports, "the UI is served at the origin the codec endpoint allows (UI_ORIGIN)")
	})
}
