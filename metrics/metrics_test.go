package metrics

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
)

// firstMetric returns the first series of the family called name in Registry, nil (whose getters give zeros) if
// there is none yet.
func firstMetric(t *testing.T, name string) *dto.Metric {
	t.Helper()
	families, err := Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) > 0 {
			return f.GetMetric()[0]
		}
	}
	return nil
}

func TestOutcome_RefusedOnlyWhenTheProviderSaidNo(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no error", nil, OutcomeOK},
		{"a refusal", &providers.Error{Certainty: providers.Known, Code: "declined"}, OutcomeRefused},
		{"a refusal, wrapped", fmt.Errorf("submit: %w", &providers.Error{Certainty: providers.Known}), OutcomeRefused},
		{"it exists already", &providers.Error{Certainty: providers.Unknown, Exists: true}, OutcomeRefused},
		{"a timeout", &providers.Error{Certainty: providers.Unknown}, OutcomeUnknown},
		{"any other error", errors.New("connection reset"), OutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, Outcome(tt.err))
		})
	}
}

func TestCode_PlainCodesAsTheyAreFreeTextNever(t *testing.T) {
	tests := []struct{ code, want string }{
		{"", "none"},
		{"declined_by_issuer", "declined_by_issuer"},
		{"05", "05"},
		{"Card 4242424242424242 declined", "other"},
		{"Иванов", "other"},
		{"a_code_far_too_long_to_be_a_code_of_any_provider_at_all", "other"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Code(tt.code), tt.code)
	}
}

func TestEventDelivered_CountsByResultAndAnUnknownResultAsFailed(t *testing.T) {
	before := testutil.ToFloat64(eventDeliveries.WithLabelValues(EventFailed))

	EventDelivered(EventFailed)
	EventDelivered("timeout")

	require.Equal(t, before+2, testutil.ToFloat64(eventDeliveries.WithLabelValues(EventFailed)))
}

func TestProviderCall_CountsAndTimesByOutcome(t *testing.T) {
	before := testutil.ToFloat64(providerCalls.WithLabelValues("test-provider", "submit", OutcomeUnknown))
	ProviderCall("test-provider", "submit", time.Now().Add(-time.Second), &providers.Error{Certainty: providers.Unknown})

	require.Equal(t, before+1, testutil.ToFloat64(providerCalls.WithLabelValues("test-provider", "submit", OutcomeUnknown)))
	require.Equal(t, 1, testutil.CollectAndCount(providerCallSeconds, "payoutflow_provider_call_duration_seconds"))
}

func TestSDK_CountersEndInTotalTimersInSecondsWithTheirBuckets(t *testing.T) {
	waits := func() uint64 { return firstMetric(t, "payoutflow_test_wait_seconds").GetHistogram().GetSampleCount() }
	before := waits() // the registry is the process's: another run of the test recorded into it
	h := SDK().WithTags(map[string]string{"provider": "test"})
	h.Counter("payoutflow_test_finished").Inc(2)
	h.Timer("payoutflow_test_wait").Record(90 * time.Minute)
	h.Timer("temporal_test_latency").Record(20 * time.Millisecond)

	require.Equal(t, before+1, waits())
	families, err := Registry.Gather()
	require.NoError(t, err)
	got := map[string]string{}
	for _, f := range families {
		got[f.GetName()] = f.GetType().String()
		if f.GetName() == "payoutflow_test_wait_seconds" {
			h := f.GetMetric()[0].GetHistogram()
			require.Equal(t, float64(7*24*3600), h.GetBucket()[len(h.GetBucket())-1].GetUpperBound(), "a wait is bucketed up to a week")
		}
		if f.GetName() == "temporal_test_latency_seconds" {
			require.Equal(t, 0.001, f.GetMetric()[0].GetHistogram().GetBucket()[0].GetUpperBound(), "a latency from a millisecond")
		}
	}
	require.Equal(t, "COUNTER", got["payoutflow_test_finished_total"])
	require.Equal(t, "HISTOGRAM", got["payoutflow_test_wait_seconds"])
	require.Equal(t, "HISTOGRAM", got["temporal_test_latency_seconds"])
	require.Equal(t, "COUNTER", got["temporal_activity_execution_failed_total"], "exposed at 0 before the first failure")
}
