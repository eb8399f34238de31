package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMetricsListen_TheProcessDefaultUnlessSetAndNoneWhenOff(t *testing.T) {
	tests := []struct {
		name, env, want string
	}{
		{"not set: the process's default", "", ":9090"},
		{"set: that address", "127.0.0.1:19090", "127.0.0.1:19090"},
		{"off: no listener", "off", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("METRICS_ADDR", tt.env)
			cfg, err := LoadDev()
			require.NoError(t, err)

			require.Equal(t, tt.want, cfg.MetricsListen(":9090"))
		})
	}
}
