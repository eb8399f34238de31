package workflows

import "go.temporal.io/sdk/workflow"

// The workflow's versions: what a payout does is fixed by the version it started under, read once at its start,
// so that payouts in flight keep their behaviour across deploys (README, "Changing the workflow"). A new
// behaviour gets the next constant and becomes latestVersion; the old branch stays.
const (
	// versionChange names the workflow's one version marker.
	versionChange = "payout"
	// versionRelease1 is release 1 (RELEASES: v1), recorded without a marker.
	versionRelease1 = workflow.DefaultVersion
	// versionMoneySafety2 is "Money safety, part 2": one verified transaction per payout, ask before a submit that
	// may not be the first, bounded resubmits, checked operator marks, Temporal's cancellation as a cancel, no
	// cancel where nothing can be stopped, pending flagged after a limit, the stricter name check.
	versionMoneySafety2 workflow.Version = 1
	// versionFailureVocabulary is "One vocabulary of failures": a failure is recorded with payoutflow's code
	// (payout.FailureCodes) and the provider's words beside it, and a cancelled payout records why it was cancelled.
	versionFailureVocabulary workflow.Version = 2
	// versionEvents: the payout records events for backends, publishes them (memo, PayoutEventAt) and delivers
	// them to the configured endpoints (events.go).
	versionEvents workflow.Version = 3
	// versionVerifyDeadline: a verification taken after the time by which the API must have its answer
	// (providers.Verification.AnswerBy) is declined and recorded as answered too late, not accepted: the API has
	// told the provider no by then.
	versionVerifyDeadline workflow.Version = 4
	// versionLean is "less work per payout" (issue 17, lean.go): one publication (memo and search attributes) per
	// workflow task, and only of what changed; one goroutine takes every signal; the calls that move no money
	// (open, status) run as local activities; a timer no longer needed is cancelled only once it could fire while
	// the payout waits.
	versionLean workflow.Version = 5
	// versionQuiet is "publish what backends act on" (issue 17, lean.go): a change no backend acts on (the
	// provider's references, a note, the submitted status) waits for the next publication or quietFor, instead of
	// a memo and search-attribute write of its own.
	versionQuiet workflow.Version = 6

	latestVersion = versionQuiet
)

// readVersion reads the version the payout runs under from its version marker: latestVersion for a payout that
// starts now, the version it started under for one in flight. The worker that runs a payout's first task decides it,
// never the client that started it: in a rolling deploy a payout started by a new API may be run first by a worker of
// an older release, which records what it ran and no marker (release 1) or its own.
func readVersion(ctx workflow.Context) workflow.Version {
	return workflow.GetVersion(ctx, versionChange, versionRelease1, latestVersion)
}
