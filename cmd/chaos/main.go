// Command chaos runs payoutflow as separate processes with faults injected into every sandbox, kills and restarts
// its processes during the run, has operators cancel, race approvals, resolve and mark payouts and Temporal cancel
// them, and reports what became of each payout: `make chaos`. It exits non-zero on a payout paid twice, a payout
// lost, a contradiction between payoutflow and a ledger, a mark taken on one person's word, or a forged webhook
// believed.
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
	flag.Float64Var(&o.Cancels, "cancels", chaos.DefaultCancels, "share of payouts an operator cancels by API at a random moment")
	flag.Float64Var(&o.TemporalCancels, "temporal-cancels", chaos.DefaultTemporalCancels, "share of payouts sent Temporal's cancellation request at a random moment")
	flag.Float64Var(&o.Races, "races", chaos.DefaultRaces, "share of payouts waiting for a person that two operators confirm and cancel at the same moment")
	flag.Float64Var(&o.Marks, "marks", chaos.DefaultMarks, "share of payouts needing attention that one operator marks failed or succeeded")
	flag.DurationVar(&o.Timeout, "timeout", 0, "how long the run may take (default: 20m and 0.5s a payout; bePaid's settling period keeps a payout whose submit went unanswered 10m)")
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
