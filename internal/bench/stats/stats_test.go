package stats

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMedian_IsTheMiddleOrTheMeanOfTheTwoMiddles(t *testing.T) {
	for _, tc := range []struct {
		name string
		xs   []float64
		want float64
	}{
		{"none", nil, 0},
		{"one", []float64{7}, 7},
		{"odd, unsorted", []float64{9, 1, 5}, 5},
		{"even", []float64{4, 1, 3, 2}, 2.5},
		{"repeated", []float64{2, 2, 9}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Median(tc.xs))
		})
	}
}

func TestMedian_LeavesItsInputUnsorted(t *testing.T) {
	xs := []float64{3, 1, 2}
	Median(xs)
	require.Equal(t, []float64{3, 1, 2}, xs)
}

func TestPercentile_IsTheNearestRank(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(100 - i) // 100 … 1
	}
	for _, tc := range []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"none", nil, 99, 0},
		{"one", []float64{4}, 99, 4},
		{"p50 of 1..100", hundred, 50, 50},
		{"p99 of 1..100", hundred, 99, 99},
		{"p100 is the largest", hundred, 100, 100},
		{"p99 of ten is the largest", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 10},
		{"p50 of four is the second", []float64{40, 10, 30, 20}, 50, 20},
		{"a tiny p is the smallest", []float64{3, 1, 2}, 0.1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Percentile(tc.xs, tc.p))
		})
	}
}

func TestRatio_DividesAndIsZeroWithoutADenominator(t *testing.T) {
	require.InDelta(t, 0.81, Ratio(12.4, 15.3), 0.005)
	require.Equal(t, 2.0, Ratio(10, 5))
	require.Equal(t, 0.0, Ratio(10, 0))
	require.Equal(t, 0.0, Ratio(0, 5))
}
