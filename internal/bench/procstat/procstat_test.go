package procstat

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseStat_AddsUserAndSystemTime(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       time.Duration
	}{
		{"plain name", "4242 (dev) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 12 0 100 1000 200 18446744073709551615",
			3250 * time.Millisecond},
		{"name with spaces and parentheses", "17 (a (b) c) R 1 17 17 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5",
			30 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseStat(tc.line)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseStat_RefusesATruncatedLine(t *testing.T) {
	for _, line := range []string{"", "12 dev S 1", "12 (dev) S 1 2 3", "12 (dev) S 1 12 12 0 -1 0 0 0 0 0 x 2 0"} {
		_, err := ParseStat(line)
		require.Error(t, err, line)
	}
}

func TestParseStatus_ReadsVmRSSAndVmHWMInBytes(t *testing.T) {
	status := "Name:\tdev\nState:\tS (sleeping)\nVmPeak:\t 2000000 kB\nVmHWM:\t  150000 kB\nVmRSS:\t  120000 kB\nThreads:\t12\n"
	rss, hwm, err := ParseStatus(status)
	require.NoError(t, err)
	require.Equal(t, int64(120000*1024), rss)
	require.Equal(t, int64(150000*1024), hwm)
}

func TestParseStatus_RefusesAStatusWithoutMemory(t *testing.T) {
	for _, status := range []string{"Name:\tkthreadd\nState:\tS\n", "VmRSS:\t12 MB\nVmHWM:\t13 kB\n", "VmRSS:\t1 kB\n"} {
		_, _, err := ParseStatus(status)
		require.Error(t, err, status)
	}
}

func TestRead_SamplesThisProcess(t *testing.T) {
	busy := time.Now()
	for time.Since(busy) < 50*time.Millisecond { // burn some CPU so that it shows
	}
	s, err := Read(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, s.CPU)
	require.Positive(t, s.RSS)
	require.GreaterOrEqual(t, s.HWM, s.RSS)
}

func TestRead_NamesAProcessThatIsGone(t *testing.T) {
	_, err := Read(1 << 30)
	require.ErrorContains(t, err, "process 1073741824")
}
