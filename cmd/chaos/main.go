// Command chaos runs payoutflow as separate processes with faults injected into every sandbox, kills and restarts
// its processes during the run, and reports what became of each payout: `make chaos`. It exits non-zero on a
// payout paid twice, a payout lost, a contradiction between payoutflow and a ledger, or a forged webhook believed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/payoutflow/payoutflow/internal/chaos"
)

func main() {
	o := chaos.Options{Log: os.Stderr}
	flag.StringVar(&o.Dev, "dev", "bin/dev", "the cmd/dev binary")
	flag.StringVar(&o.Dir, "dir", "", "where the run keeps its data and logs (default: a new directory under .chaos/)")
	flag.IntVar(&o.Payouts, "n", 500, "payouts to run")
	flag.IntVar(&o.Concurrency, "concurrency", 20, "payouts created at once")
	flag.StringVar(&o.Faults, "faults", chaos.DefaultFaults, "the sandboxes' faults (see README, \"What happens when things fail\")")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()%1_000_000), "seed of the faults and of the process kills; give it again to replay a run")
	flag.IntVar(&o.WorkerKills, "worker-kills", 3, "times the worker is killed (SIGKILL) and started again")
	flag.IntVar(&o.APIKills, "api-kills", 1, "times the API is killed (SIGKILL) and started again")
	flag.IntVar(&o.TemporalRestarts, "temporal-restarts", 1, "times the Temporal server is stopped and started again on its SQLite file")
	flag.DurationVar(&o.Timeout, "timeout", 20*time.Minute, "how long the payouts may take to settle")
	flag.Parse()
	o.Seed = *seed
	if o.Dir == "" {
		o.Dir = filepath.Join(".chaos", fmt.Sprintf("run-%d-%d", time.Now().Unix(), o.Seed))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := chaos.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	fmt.Print(rep)
	fmt.Printf("  replay with        make chaos CHAOS_FLAGS='-seed %d -n %d'\n", o.Seed, o.Payouts)
	if !rep.OK() {
		os.Exit(1)
	}
}
