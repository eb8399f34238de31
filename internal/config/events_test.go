package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadEvents_EndpointsAndSecretsByPosition(t *testing.T) {
	tests := []struct {
		name    string
		urls    string
		secrets string
		dev     bool
		want    []EventEndpoint
		wantErr string
	}{
		{"none", "", "", false, nil, ""},
		{"two, one rotating", "https://a.example/hook, https://b.example/hook", "whsec_a_0123456789 whsec_a_old_0123456789,whsec_b_0123456789", false,
			[]EventEndpoint{{"https://a.example/hook", []string{"whsec_a_0123456789", "whsec_a_old_0123456789"}, "*"}, {"https://b.example/hook", []string{"whsec_b_0123456789"}, "*"}}, ""},
		{"http under make run", "http://127.0.0.1:9000/hook", "whsec_dev_0123456789", true,
			[]EventEndpoint{{"http://127.0.0.1:9000/hook", []string{"whsec_dev_0123456789"}, "*"}}, ""},
		{"http outside make run", "http://a.example/hook", "whsec_a_0123456789", false, nil, "is not https"},
		{"a secret short", "https://a.example/hook", "short", false, nil, "shorter than 16"},
		{"fewer secrets than URLs", "https://a.example/hook,https://b.example/hook", "whsec_a_0123456789", false, nil, "1 secrets for 2 URLs"},
		{"a secret without URL", "", "whsec_a_0123456789", false, nil, "1 secrets for 0 URLs"},
		{"user in the URL", "https://u:p@a.example/hook", "whsec_a_0123456789", false, nil, "user or password"},
		{"not a URL", "a.example/hook", "whsec_a_0123456789", false, nil, "not an absolute URL"},
		{"twice", "https://a.example/hook,https://a.example/hook", "whsec_a_0123456789,whsec_b_0123456789", false, nil, "listed twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("EVENTS_URL", tc.urls)
			t.Setenv("EVENTS_SECRET", tc.secrets)
			e, err := loadEvents(tc.dev)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.NotContains(t, err.Error(), "whsec_", "errors never show a secret")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, e.Endpoints)
			require.Equal(t, time.Hour, e.RetryMax)
			require.Equal(t, 10*time.Second, e.Timeout)
			require.Equal(t, 5*time.Second, e.Settle)
		})
	}
}

// Several backends share payoutflow: each endpoint gets the events of the payouts its backend's API key created, and
// only those (EVENTS_FOR); "*" (or EVENTS_FOR unset) is an endpoint for every payout.
func TestLoadEvents_EachEndpointServesTheBackendNamedInEventsFor(t *testing.T) {
	t.Setenv("EVENTS_URL", "https://shop.example/hook,https://taxi.example/hook,https://ops.example/hook")
	t.Setenv("EVENTS_SECRET", "whsec_shop_0123456789,whsec_taxi_0123456789,whsec_ops_01234567890")
	t.Setenv("EVENTS_FOR", "shop, taxi, *")
	e, err := loadEvents(false)
	require.NoError(t, err)
	require.Equal(t, []string{"https://shop.example/hook", "https://ops.example/hook"}, e.URLsFor("shop"))
	require.Equal(t, []string{"https://taxi.example/hook", "https://ops.example/hook"}, e.URLsFor("taxi"))
	require.Equal(t, []string{"https://ops.example/hook"}, e.URLsFor("someone-else"))

	t.Setenv("EVENTS_FOR", "shop,taxi")
	_, err = loadEvents(false)
	require.ErrorContains(t, err, "EVENTS_FOR: 2 entries for 3 URLs")
	t.Setenv("EVENTS_FOR", "shop,taxi,bad name")
	_, err = loadEvents(false)
	require.ErrorContains(t, err, "EVENTS_FOR: entry 3")

	t.Setenv("EVENTS_FOR", "")
	e, err = loadEvents(false)
	require.NoError(t, err)
	require.Len(t, e.URLsFor("anyone"), 3, "without EVENTS_FOR every endpoint gets every payout")
	require.Equal(t, []string{"https://x.example/hook"}, Events{Endpoints: []EventEndpoint{{URL: "https://x.example/hook"}}}.URLsFor("shop"),
		"an endpoint built without For gets every payout, as EVENTS_FOR unset")
}
