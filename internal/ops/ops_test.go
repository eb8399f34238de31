package ops

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStart_ServesMetricsAndWhatCallersAdd(t *testing.T) {
	mux := Mux()
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	ln, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	stop := Serve(ln, mux, slog.New(slog.DiscardHandler))
	t.Cleanup(stop)
	base := "http://" + ln.Addr().String()

	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "go_goroutines ")

	resp, err = http.Get(base + "/livez")
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestStart_ABusyPortNamesMETRICS_ADDR(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })

	_, err = Start(ln.Addr().String(), Mux(), slog.New(slog.DiscardHandler))

	require.ErrorContains(t, err, "METRICS_ADDR")
}

func TestStart_NoAddressServesNothing(t *testing.T) {
	stop, err := Start("", Mux(), slog.New(slog.DiscardHandler))

	require.NoError(t, err)
	stop()
}

func TestPprof_ServesProfilesOnlyWhenTurnedOn(t *testing.T) {
	for _, on := range []bool{false, true} {
		mux := Mux()
		if on {
			Pprof(mux)
		}
		ln, err := Listen("127.0.0.1:0")
		require.NoError(t, err)
		stop := Serve(ln, mux, slog.New(slog.DiscardHandler))
		base := "http://" + ln.Addr().String()

		resp, err := http.Get(base + "/debug/pprof/goroutine?debug=1")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		stop()
		if !on {
			require.Equal(t, http.StatusNotFound, resp.StatusCode, "PPROF off: no profiles")
			continue
		}
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, string(body), "goroutine profile:")
	}
}
