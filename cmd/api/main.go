// Command api serves payoutflow's REST API, the providers' webhook receiver and the codec endpoint for Temporal UI,
// against any Temporal cluster (TEMPORAL_ADDRESS).
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/providers"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := cfg.Logger()
	cd, key, err := cfg.Codec(false)
	if err != nil {
		return err
	}
	_, b131Hooks, err := app.Bank131(cfg.Bank131)
	if err != nil {
		return err
	}
	c, dc, err := cfg.Dial(cd, log)
	if err != nil {
		return err
	}
	defer c.Close()

	srv := app.Server(cfg.APIAddr, app.NewAPI(cfg, app.API{
		Client: c, DataConverter: dc, Codec: cd, CodecKey: key, Logger: log,
		Webhooks: map[string]providers.Webhooks{"bank131": b131Hooks},
	}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("api listening", "addr", cfg.APIAddr, "temporal", cfg.TemporalAddress)
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s (API_ADDR): %w", cfg.APIAddr, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
