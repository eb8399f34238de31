package sandboxkit

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/payoutflow/payoutflow/providers/internal/background"
	"github.com/payoutflow/payoutflow/providers/internal/delivery"
)

// LedgerPath is where a sandbox shows its ledger, the payouts it executed, unsigned: GET /_sandbox/ledger.
const LedgerPath = "/_sandbox/ledger"

// Retry is how a sandbox delivers what it sends on its own: until answered 200, 20 attempts, 50 ms apart at first,
// doubling up to 5 s.
var Retry = delivery.Policy{Attempts: 20, FirstBackoff: 50 * time.Millisecond, MaxBackoff: 5 * time.Second}

// httpTimeout bounds each request a sandbox sends, unless its configuration gives a client.
const httpTimeout = 10 * time.Second

// Machinery runs a sandbox's work in the background: its delayed steps (Tasks, which Close stops) and what it sends
// on its own, webhooks, notifications or callbacks (Queue, retried as Retry says), over HTTP, logging to Log.
type Machinery struct {
	Tasks *background.Group
	Queue *delivery.Queue
	HTTP  *http.Client
	Log   *slog.Logger
}

// NewMachinery returns the machinery of a sandbox that sends what ("webhook", in its logs), over client (one with
// a 10 s timeout when nil), logging to log (nowhere when nil).
func NewMachinery(what string, client *http.Client, log *slog.Logger) Machinery {
	if client == nil {
		client = &http.Client{Timeout: httpTimeout}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tasks := background.NewGroup()
	return Machinery{Tasks: tasks, Queue: delivery.NewQueue(tasks, what, Retry, log), HTTP: client, Log: log}
}
