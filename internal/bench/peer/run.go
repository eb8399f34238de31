package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// httpClient is a keep-alive client sized for hundreds of payouts in flight over loopback.
func httpClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 1000, 1000
	return &http.Client{Timeout: 10 * time.Second, Transport: t}
}

// WorkerConfig is what the peer's worker process needs.
type WorkerConfig struct {
	TemporalAddr, Namespace string
	Listen                  string // the webhook receiver's address
	BankURL                 string
	Log                     *slog.Logger
}

// RunWorker runs the peer's worker (workflow and activities on TaskQueue, the SDK's default options) and its
// webhook receiver until ctx ends.
func RunWorker(ctx context.Context, cfg WorkerConfig) error {
	c, err := client.Dial(client.Options{HostPort: cfg.TemporalAddr, Namespace: cfg.Namespace,
		Logger: sdklog.NewStructuredLogger(cfg.Log.With("component", "sdk"))})
	if err != nil {
		return fmt.Errorf("dial Temporal at %s: %w", cfg.TemporalAddr, err)
	}
	defer c.Close()
	w := worker.New(c, TaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(Payout, workflow.RegisterOptions{Name: WorkflowName})
	w.RegisterActivity(&Activities{Bank: &BankClient{URL: cfg.BankURL, HTTP: httpClient()}})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()
	return serve(ctx, cfg.Listen, &Receiver{Client: c, Log: cfg.Log}, cfg.Log)
}

// BankConfig is what the peer's bank process needs.
type BankConfig struct {
	Listen, WebhookURL string
	Delay              time.Duration
	Log                *slog.Logger
}

// RunBank serves the peer's bank until ctx ends.
func RunBank(ctx context.Context, cfg BankConfig) error {
	return serve(ctx, cfg.Listen, &Bank{WebhookURL: cfg.WebhookURL, Delay: cfg.Delay, HTTP: httpClient(), Log: cfg.Log}, cfg.Log)
}

func serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Info("serving", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
