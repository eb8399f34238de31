package sandboxkit

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewMachinery_FillsInWhatTheConfigurationLeavesOut(t *testing.T) {
	client := &http.Client{Timeout: time.Second}
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		name        string
		client      *http.Client
		log         *slog.Logger
		wantTimeout time.Duration
	}{
		{"a client and a logger given are used", client, log, time.Second},
		{"none given: a client with a 10 s timeout, a logger that discards", nil, nil, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMachinery("webhook", tt.client, tt.log)
			t.Cleanup(m.Tasks.Close)

			require.Equal(t, tt.wantTimeout, m.HTTP.Timeout)
			require.NotNil(t, m.Log)
			if tt.client != nil {
				require.Same(t, tt.client, m.HTTP)
				require.Same(t, tt.log, m.Log)
			}
			require.NotNil(t, m.Queue)
		})
	}
}
