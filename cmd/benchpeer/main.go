// Command benchpeer runs one part of `make bench`'s yardstick, a payout of payoutflow's shape written with nothing
// but the Temporal SDK (package internal/bench/peer): its worker with the webhook receiver (-part worker), or its
// bank (-part bank).
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/payoutflow/payoutflow/internal/bench/peer"
)

func main() {
	part := flag.String("part", "", "worker or bank")
	listen := flag.String("listen", "127.0.0.1:0", "worker: the webhook receiver's address; bank: the bank's")
	temporal := flag.String("temporal", "127.0.0.1:7233", "worker: the Temporal frontend")
	namespace := flag.String("namespace", "default", "worker: the Temporal namespace")
	bank := flag.String("bank", "", "worker: the bank's base URL")
	webhook := flag.String("webhook", "", "bank: where webhooks go (the worker's http://<listen>/webhook)")
	delay := flag.Duration("delay", 500*time.Millisecond, "bank: how long each asynchronous step takes (make run's Bank 131 sandbox: 500ms)")
	flag.Parse()
	// LOG_LEVEL as payoutflow's parts read it (info when unset), so that both sides log alike.
	var level slog.Level
	if err := level.UnmarshalText([]byte(cmp.Or(os.Getenv("LOG_LEVEL"), "info"))); err != nil {
		fmt.Fprintln(os.Stderr, "benchpeer: LOG_LEVEL:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("part", *part)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch *part {
	case "worker":
		err = peer.RunWorker(ctx, peer.WorkerConfig{TemporalAddr: *temporal, Namespace: *namespace, Listen: *listen, BankURL: *bank, Log: log})
	case "bank":
		err = peer.RunBank(ctx, peer.BankConfig{Listen: *listen, WebhookURL: *webhook, Delay: *delay, Log: log})
	default:
		err = fmt.Errorf("-part: %q is not worker or bank", *part)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchpeer:", err)
		os.Exit(1)
	}
}
