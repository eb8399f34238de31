// Package ops serves a process's operators' listener (METRICS_ADDR): /metrics for Prometheus, and whatever else
// operators ask a process directly (health) added to the same mux.
package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/payoutflow/payoutflow/metrics"
)

// Mux returns the operators' handler of a process: /metrics in Prometheus's text format. Callers add their own
// paths (/livez, /readyz) before serving it.
func Mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	return mux
}

// Listen opens the operators' listener at addr; a busy port is an error naming METRICS_ADDR.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics port: %w; set METRICS_ADDR to a free host:port, or to off", err)
	}
	return ln, nil
}

// Serve serves h on ln in the background until the returned stop is called.
func Serve(ln net.Listener, h http.Handler, log *slog.Logger) (stop func()) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("operators' listener stopped: /metrics is no longer served", "addr", ln.Addr().String(), "error", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
}

// Start listens at addr and serves h there; an empty addr serves nothing (METRICS_ADDR=off).
func Start(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := Listen(addr)
	if err != nil {
		return nil, err
	}
	return Serve(ln, h, log), nil
}

// Pprof adds Go's profiles (net/http/pprof) under /debug/pprof/ to the operators' handler: PPROF=true, off by
// default, for finding where a process's CPU and memory go under load (README, "Performance").
func Pprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
