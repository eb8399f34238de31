package workflows

import (
	"bufio"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/codec"
)

// The replay suite: every history recorded by a release (testdata/histories/<version>, recorded by `make
// histories` from the real stack) must replay against today's code. A change to code that running payouts execute
// that is not behind workflow.GetVersion fails here, before it can strand a payout in flight.

// releases reads ../RELEASES: the versions whose payouts must still finish.
func releases(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../RELEASES")
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Fields(line)[0])
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, out, "RELEASES names at least one release")
	return out
}

// replayer replays the histories of one release: they were recorded with the payload codec's key kept beside them.
func replayer(t *testing.T, dir string, register func(worker.WorkflowReplayer)) worker.WorkflowReplayer {
	t.Helper()
	key, err := os.ReadFile(filepath.Join(dir, "codec.key"))
	require.NoError(t, err)
	k, err := codec.ParseKey(string(key))
	require.NoError(t, err)
	cd, err := codec.New(k)
	require.NoError(t, err)
	dc := codec.DataConverter(cd)
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
		DataConverter: dc, FailureConverter: codec.FailureConverter(dc),
	})
	require.NoError(t, err)
	register(r)
	return r
}

// histories lists the recorded histories of one release.
func histories(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	return files
}

// quiet drops the replayer's logs: the failing replays log their panics at error level.
var quiet = sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))

func registerToday(r worker.WorkflowReplayer) {
	r.RegisterWorkflowWithOptions(PayoutWorkflow, workflowRegisterOptions())
}

// pathsRecorded are the histories every release must have: one per path of a payout, named by the integration
// test that ran it.
var pathsRecorded = []string{
	"Bank131Payout_ConfirmedByAPISucceeds",                                // Bank 131 card
	"Bank131Paths_TokenPayoutShowsTheCardItPaysTo",                        // Bank 131 token
	"Bank131Paths_SingleRequestPayout_card_number",                        // single request
	"Bank131Paths_TokenPayoutFromNominalAndSettlementAccounts_nominal",    // nominal account
	"Bank131Paths_TokenPayoutFromNominalAndSettlementAccounts_settlement", // settlement account
	"Bank131Paths_SBPPayoutByPhone_succeeds",                              // SBP
	"Transfer_PayerPasses3DSecureAndTheRecipientIsPaid",                   // transfer with 3-D Secure
	"BePaidPayout_CardNumberIsSentOnlyAfterApprovalAndPaidOnce",           // bePaid card
	"BePaidPayout_TokenIsPaid",                                            // bePaid token
	"BePaidVerification_IsDeclinedUnlessApprovedAndMatching",              // bePaid verification
	"Mandarin_CardPayoutsByTokenAndNumber_token",                          // Mandarin card token
	"Mandarin_CardPayoutsByTokenAndNumber_number",                         // Mandarin card number
	"Mandarin_PaymentPageLinkIsHandedToTheBackend",                        // Mandarin payment page
	"Mandarin_SBPWithTheNameIsPaidAfterApproval",                          // SBP with the name
	"Mandarin_SBPWithoutTheNameMatchingNameIsConfirmedByPolicy",           // SBP without the name: match
	"Mandarin_SBPWithoutTheNameMismatchIsLeftToAPerson_confirm",           // mismatch, confirmed
	"Mandarin_SBPWithoutTheNameMismatchIsLeftToAPerson_cancel",            // mismatch, rejected
	"Bank131Payout_CancelledByAPIMovesNoMoney",                            // cancel
	"Bank131Payout_ApprovalDeadlineCancelsAtTheBank",                      // deadline
	"Policy_DeclinedOutrightNeverReachesTheBank_above_the_limit",          // policy decline
	"Policy_LargePayoutNeedsTwoPeopleAndNotItsCreator",                    // two approvers
	"Resolve_LookUpAsksAgainAndTheHeldPayoutGoesOn",                       // needs_attention: look_up
	"Resolve_OperatorMarksAHeldPayoutFailedByAPI",                         // needs_attention: mark_failed
	"Resolve_OperatorMarksAPayoutTheProviderCannotNameSucceeded",          // needs_attention: mark_succeeded
}

func TestReplay_EveryReleasedHistoryReplaysOnTodaysCode(t *testing.T) {
	for _, version := range releases(t) {
		dir := filepath.Join("testdata", "histories", version)
		files := histories(t, dir)
		for _, name := range pathsRecorded {
			require.FileExists(t, filepath.Join(dir, name+".json"), "release %s has every path recorded (make histories)", version)
		}
		r := replayer(t, dir, registerToday)
		for _, f := range files {
			t.Run(version+"/"+strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
				require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
			})
		}
	}
}

// nondeterministicPayout is PayoutWorkflow changed the way that strands payouts in flight: a new step first, not
// behind GetVersion.
func nondeterministicPayout(ctx workflow.Context, in Input) error {
	if err := workflow.Sleep(ctx, time.Second); err != nil {
		return err
	}
	_, err := PayoutWorkflow(ctx, in)
	return err
}

// versionedPayout is the same change behind GetVersion, as README "Changing the workflow" says: histories recorded
// before it take the old path.
func versionedPayout(ctx workflow.Context, in Input) error {
	if workflow.GetVersion(ctx, "replay-suite-example", workflow.DefaultVersion, 1) == 1 {
		if err := workflow.Sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	_, err := PayoutWorkflow(ctx, in)
	return err
}

func TestReplay_UnversionedChangeIsCaughtAndVersionedChangeIsNot(t *testing.T) {
	version := releases(t)[0]
	dir := filepath.Join("testdata", "histories", version)
	files := histories(t, dir)
	require.NotEmpty(t, files)
	tests := []struct {
		name     string
		workflow any
		wantErr  string
	}{
		{"a new step not behind GetVersion", nondeterministicPayout, "tmprl1100"},
		{"the same step behind GetVersion", versionedPayout, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := replayer(t, dir, func(r worker.WorkflowReplayer) {
				r.RegisterWorkflowWithOptions(tt.workflow, workflowRegisterOptions())
			})
			for _, f := range files[:min(5, len(files))] {
				err := r.ReplayWorkflowHistoryFromJSONFile(quiet, f)
				if tt.wantErr == "" {
					require.NoError(t, err, f)
					continue
				}
				require.Error(t, err, f)
				require.Contains(t, strings.ToLower(err.Error()), tt.wantErr, f)
			}
		})
	}
}

// TestReplay_HistoriesRecordedByHandReplay replays the histories in PAYOUTFLOW_REPLAY_HISTORIES (recorded with
// PAYOUTFLOW_RECORD_HISTORIES by the integration tests, codec.key beside them): how a version not released yet is
// checked against today's code, a cache eviction's replay included. Skipped without it.
func TestReplay_HistoriesRecordedByHandReplay(t *testing.T) {
	dir := os.Getenv("PAYOUTFLOW_REPLAY_HISTORIES")
	if dir == "" {
		t.Skip("set PAYOUTFLOW_REPLAY_HISTORIES to a directory of recorded histories")
	}
	files := histories(t, dir)
	require.NotEmpty(t, files, "histories in %s", dir)
	r := replayer(t, dir, registerToday)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
