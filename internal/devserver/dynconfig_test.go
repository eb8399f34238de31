package devserver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/server/common/dynamicconfig"
)

func TestDevConfig_SearchAttributesReadFreshOnlyUntilTheySettle(t *testing.T) {
	force := dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key()
	tests := []struct {
		name       string
		registered time.Duration // since now; 0: not registered yet
		want       bool
	}{
		{"before this server registered its attributes", 0, true},
		{"just registered", -time.Second, true},
		{"within the services' cache lifetime", -(searchAttributesSettle - time.Second), true},
		{"after every cache has lived out", -(searchAttributesSettle + time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dc := &devConfig{static: dynamicConfig()}
			if tt.registered != 0 {
				dc.settle(time.Now().Add(tt.registered))
			}
			got := dc.GetValue(force)
			require.Len(t, got, 1)
			require.Equal(t, tt.want, got[0].Value)
			limit := dynamicconfig.MemoSizeLimitWarn.Key()
			require.Equal(t, dynamicConfig().GetValue(limit), dc.GetValue(limit), "other settings are the static ones")
		})
	}
}
