// Package api serves payoutflow over HTTP: the REST API backends use to create and steer payouts, and the webhook
// receiver providers call.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/payoutflow/payoutflow/metrics"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/policy"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/workflows"
)

// Body size limits.
const (
	maxRequestBody = "64K"
	maxWebhookBody = "1M"
)

// Config is what the API needs to run.
type Config struct {
	// Client talks to Temporal; it must use the same codec as the worker.
	Client client.Client
	// DataConverter is the client's data converter, to read memos.
	DataConverter converter.DataConverter
	TaskQueue     string
	// Providers are the configured providers: they validate requests, tell how they treat them, answer the reads
	// from providers (SBP banks, balances) and receive their webhooks and verifications.
	Providers *providers.Registry
	// FingerprintKeys key the request hashes that tell a repeated request from a different one: the first makes
	// them, each one matches (a payout created before a codec key rotation has its fingerprint by an older key).
	FingerprintKeys [][]byte
	// DecisionKey signs decisions, so that the workflow knows the API authenticated who made them.
	DecisionKey []byte
	// Keys are the API keys accepted; with none, every call to /v1 is refused.
	Keys *Keys
	// Policy decides what approval each new payout needs; nil means one person approves every payout.
	Policy *policy.Policy
	// ApprovalTimeout and PollAfter are given to new payouts; zero means the workflow's defaults.
	ApprovalTimeout time.Duration
	PollAfter       time.Duration
	PollMax         time.Duration
	// PollsPerRun is how many times a payout asks a provider in one run before it continues as new; zero means the
	// workflow's default.
	PollsPerRun int
	// BalanceCheck is the balance check before submit per provider (workflows.BalanceHold or BalanceFail).
	BalanceCheck map[string]string
	// PendingLimit is how long a provider may keep a payout pending before an operator is told, by provider; the
	// provider's own (Capabilities.PendingLimit) where not given.
	PendingLimit map[string]time.Duration
	// WatchEvery is how often a provider that tells by no webhook that it waits for confirmation is asked; zero
	// means the workflow's default.
	WatchEvery time.Duration
	// Events are the endpoints new payouts deliver their events to, and the retry policy's longest wait;
	// EventsSettle is how old an event must be before GET /v1/events lists it (5s when zero).
	Events       workflows.EventsInput
	EventsSettle time.Duration
	// EventsFor picks, for the API key that creates a payout, the endpoints of Events its events go to (EVENTS_FOR);
	// nil: all of them.
	EventsFor func(creator string) []string
	// EventsCommitBound is the longest an event takes from its stamp to its commit (10s when zero): a payout's
	// start is given at most that long, and its workflow tasks time out within it, after 5s at most (README, "Events").
	EventsCommitBound time.Duration
	// VerifyWait is how long a provider's verification waits for its payout's answer before it is declined (8s
	// when zero; VERIFY_WAIT): less than the provider's own wait, more than a payout's workflow task timeout.
	VerifyWait time.Duration
	// TrustedProxies are the proxies whose X-Forwarded-For names the client; with none, the client is the address
	// of the connection.
	TrustedProxies []*net.IPNet
	Logger         *slog.Logger
	// TracerProvider, when given, traces each request (a server span, continued by the Temporal client's
	// interceptor into the payout's workflow); nil: no tracing.
	TracerProvider trace.TracerProvider
	// Now is the API's clock, for the provider's rules of the moment (an expired card); time.Now when nil.
	Now func() time.Time
	// Health serves GET /livez and /readyz (health.Checker.Handler); without it they are not served.
	Health http.Handler
	// BusyBudget is how long a create, a decision or a read asks again a Temporal that refuses or times out its
	// calls for want of capacity, before it is answered 503 (20s when zero; overload.go).
	BusyBudget time.Duration
}

// Server is the HTTP API.
type Server struct {
	cfg Config
	log *slog.Logger
	// watches are the payouts GETs wait for (wait.go).
	watches *watchers
}

// New returns the HTTP handler of the API.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TaskQueue == "" {
		cfg.TaskQueue = workflows.TaskQueue
	}
	if cfg.DataConverter == nil {
		cfg.DataConverter = converter.GetDefaultDataConverter()
	}
	if cfg.Keys == nil {
		cfg.Keys = &Keys{}
	}
	if cfg.Policy == nil {
		cfg.Policy = policy.Default
	}
	if cfg.Providers == nil {
		cfg.Providers = providers.NewRegistry()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, watches: &watchers{}}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientIP(cfg.TrustedProxies)
	e.HTTPErrorHandler = errorHandler(s.log)
	e.Pre(headAsGet)
	e.Use(s.requestID, noOptions, middleware.Recover(), s.accessLog, bodyLimits())

	e.GET("/healthz", s.health)
	s.probes(e)
	v1 := e.Group("/v1")
	v1.GET("/openapi.json", serveContract)
	v1.POST("/payouts", s.createPayout, s.authorize(ScopeCreate))
	v1.GET("/payouts", s.listPayouts, s.authorize(ScopeRead))
	v1.GET("/payouts/:id", s.getPayout, s.authorize(ScopeRead))
	v1.POST("/payouts/:id/confirm", s.decide(workflows.SignalConfirm), s.authorize(ScopeApprove))
	v1.POST("/payouts/:id/cancel", s.decide(workflows.SignalCancel), s.authorize(ScopeApprove))
	v1.POST("/payouts/:id/resolve", s.resolve, s.authorize(ScopeApprove))
	v1.GET("/sbp/banks", s.sbpBanks, s.authorize(ScopeRead))
	v1.GET("/balances", s.balances, s.authorize(ScopeRead))
	v1.GET("/events", s.listEvents, s.authorize(ScopeRead))
	e.POST("/webhooks/:provider", s.webhook)
	e.POST("/webhooks/:provider/verify", s.verification)
	return traced(e, cfg.TracerProvider)
}

// clientIP returns how the API tells a request's client: the connection's address, or, from a trusted proxy, the
// address its X-Forwarded-For names (the last one not itself a trusted proxy). Loopback and private networks are
// trusted only when listed.
func clientIP(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		var e *Error
		var he *echo.HTTPError
		switch {
		case errors.As(err, &e):
			status = e.Status
		case errors.As(err, &he):
			status = he.Code
		case err != nil:
			status = http.StatusInternalServerError
		}
		level := slog.LevelInfo
		if probePaths[c.Path()] {
			level = slog.LevelDebug // every few seconds, from the load balancer and the orchestrator
		}
		if m := c.Request().Method; (m == http.MethodGet || m == http.MethodHead) && status < 400 {
			level = slog.LevelDebug // a backend that polls would write a line per poll; a refused read stays INFO
		}
		s.logger(c.Request().Context()).Log(c.Request().Context(), level, "http", "method", c.Request().Method,
			"path", maskedPath(c.Request().URL.Path), "status", status, "duration_ms", time.Since(start).Milliseconds())
		return err
	}
}

func (s *Server) health(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if _, err := s.cfg.Client.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return apiError(http.StatusServiceUnavailable, "temporal_unavailable", "Temporal does not answer")
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

var idempotencyKeyRE = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)

// createPayout starts one payout workflow per idempotency key.
func (s *Server) createPayout(c echo.Context) error {
	key := c.Request().Header.Get("Idempotency-Key")
	if key == "" {
		return fieldError(http.StatusBadRequest, "Idempotency-Key", "idempotency_key_required",
			"the Idempotency-Key header is required: a unique key per payout, reused when retrying")
	}
	if !idempotencyKeyRE.MatchString(key) {
		return fieldError(http.StatusBadRequest, "Idempotency-Key", "invalid_idempotency_key",
			"the Idempotency-Key header must be 1 to 255 printable ASCII characters without spaces")
	}
	var req payout.Request
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.cfg.Providers.ValidateRules(req); err != nil {
		return refusal(err)
	}
	ctx, cancel := s.withBusyBudget(c.Request().Context(), 0)
	defer cancel()
	var id string
	err := untilServed(ctx, func(ctx context.Context) (err error) {
		id, err = s.payoutIDFor(ctx, caller(c).Name, key)
		return err
	})
	if err != nil {
		return err
	}
	if err := s.cfg.Providers.CheckMoment(req, s.now()); err != nil {
		// A retry of a create that was made while the card was valid gets its payout (or the 409 of another body):
		// only a new payout is held to the rules of the moment.
		derr := untilServed(ctx, func(ctx context.Context) error {
			_, err := s.cfg.Client.DescribeWorkflowExecution(ctx, id, "")
			return err
		})
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(derr, &notFound):
			return refusal(err)
		case derr != nil:
			return fmt.Errorf("look up payout %s: %w", id, derr)
		}
	}
	// A transfer's sender card is handed to the provider by the API and kept nowhere: not in the workflow, not in
	// the fingerprint, not in logs.
	var senderCard *payout.SenderCard
	var transferrer providers.Transferrer
	if req.Transfer != nil {
		senderCard, req.Transfer.SenderCard = req.Transfer.SenderCard, nil
		p, _ := s.cfg.Providers.Get(req.Provider)
		t, ok := p.(providers.Transferrer)
		if !ok {
			return fieldError(http.StatusUnprocessableEntity, "provider", "provider_not_configured",
				req.Provider+" transfers are not configured on this server")
		}
		transferrer = t
	}

	fingerprint := req.Fingerprint(s.cfg.FingerprintKeys[0])
	// A start refused for want of capacity is made again under the same workflow ID (a start that did get through is
	// "already started", answered below), stamped anew: its created event must commit within EventsCommitBound.
	var initial payout.State
	var in workflows.Input
	var run client.WorkflowRun
	err = untilServed(ctx, func(ctx context.Context) (err error) {
		now := time.Now().UTC()
		initial = payout.NewState(id, req, now)
		initial.CreatedBy = caller(c).Name
		opts := client.StartWorkflowOptions{
			ID:                                       id,
			TaskQueue:                                s.cfg.TaskQueue,
			WorkflowIDReusePolicy:                    enumsReject,
			WorkflowExecutionErrorWhenAlreadyStarted: true,
			Memo:                                     map[string]any{memoFingerprint: fingerprint},
			TypedSearchAttributes:                    searchAttributes(initial),
			StaticSummary:                            initial.Summary(),
			StaticDetails:                            "Payout " + id + ". Query \"state\" for its full state.",
		}
		caps := s.cfg.Providers.Capabilities(req)
		in = workflows.Input{ID: id, Request: req, ApprovalTimeout: s.cfg.ApprovalTimeout, PollAfter: s.cfg.PollAfter, PollMax: s.cfg.PollMax,
			ApproveBeforeSubmit: !caps.ConfirmsAtProvider, CreatedBy: caller(c).Name, Policy: s.cfg.Policy.Decide(req),
			LookupBySubmit: caps.LooksUpBySubmit, SubmitTimeout: caps.SubmitTimeout, OpenOnSubmit: caps.OpensOnSubmit,
			BalanceCheck: s.cfg.BalanceCheck[req.Provider], WatchEvery: s.cfg.WatchEvery,
			SettleFor: caps.SettlePeriod, DedupFor: caps.DedupWindow, PendingLimit: s.pendingLimit(req.Provider, caps),
			PollsPerRun: s.cfg.PollsPerRun}
		initial.CreatedBy = in.CreatedBy
		initial.ApprovalsRequired = max(1, in.Policy.Approvers)
		opts.Memo[memoInitialState] = initial // readable before the workflow's first task, and with no worker
		s.withCreatedEvent(&opts, &in, initial, now)
		startCtx, cancel := context.WithDeadline(ctx, now.Add(s.eventsCommitBound()))
		defer cancel()
		run, err = s.cfg.Client.ExecuteWorkflow(startCtx, opts, workflows.WorkflowName, in)
		return err
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case err == nil:
		metrics.PayoutCreated(req.Provider, req.Method())
		s.logger(c.Request().Context()).Info("payout created", "payout_id", id, "provider", req.Provider, "method", req.Method(),
			"amount", req.Amount.Value, "currency", req.Amount.Currency)
		if transferrer != nil && in.Policy.Decline == "" {
			s.startTransfer(c.Request().Context(), transferrer, id, req, *senderCard)
		}
		if in.Policy.Decline != "" {
			return s.declined(c, run, initial)
		}
		return c.JSON(http.StatusCreated, initial)
	case errors.As(err, &started):
		st, err := s.existingPayout(ctx, id, req, initial)
		if err != nil {
			return err
		}
		// A transfer the bank has not named is handed over again under the same idempotency key: the first call
		// may never have reached the bank (the API died, the connection failed). If it did, the bank refuses the
		// repeat by its idempotency key, and the payout goes on waiting for the bank's word.
		if transferrer != nil && st.ProviderRefs["session_id"] == "" && !st.Status.Final() {
			s.startTransfer(c.Request().Context(), transferrer, id, req, *senderCard)
		}
		return c.JSON(http.StatusOK, st)
	default:
		return fmt.Errorf("start payout %s: %w", id, err)
	}
}

// refusal answers a request that validation refused: 422 naming the field.
func refusal(err error) error {
	var fe *payout.FieldError
	if errors.As(err, &fe) {
		return fieldError(http.StatusUnprocessableEntity, fe.Field, fe.Code, fe.Message)
	}
	return err
}

// now is the API's clock.
func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// transferCallTimeout bounds the API's call that hands a transfer to the provider.
const transferCallTimeout = time.Minute

// pendingLimit is how long the payout's provider may keep it pending before an operator is told: as configured,
// else as the provider says.
func (s *Server) pendingLimit(provider string, caps providers.Capabilities) time.Duration {
	if d := s.cfg.PendingLimit[provider]; d > 0 {
		return d
	}
	return caps.PendingLimit
}

// startTransfer hands a transfer to its provider with the sender's card, then tells the payout's workflow how it
// went (transfer_started). The card lives only in this call. Should the signal not get through, the provider's
// webhooks, which name the payout, tell the workflow instead.
func (s *Server) startTransfer(ctx context.Context, t providers.Transferrer, id string, req payout.Request, card payout.SenderCard) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), transferCallTimeout)
	defer cancel()
	start := time.Now()
	out, err := t.StartTransfer(ctx, providers.Ref{PayoutID: id}, req, card)
	metrics.ProviderCall(req.Provider, "start_transfer", start, err)
	started := workflows.TransferStarted{Outcome: out}
	if err != nil {
		var pe *providers.Error
		started.Error, started.Known = "provider_unavailable", false
		if errors.As(err, &pe) {
			started.Known = pe.Certainty == providers.Known && !pe.Exists
			switch {
			case pe.Code != "":
				started.Error = pe.Code
			case started.Known:
				started.Error = workflows.TransferRefused
			}
			started.Description = pe.Description
		}
		s.logger(ctx).Warn("transfer not started", "payout_id", id, "provider", req.Provider, "error_code", started.Error, "known", started.Known)
	}
	started.Proof = payout.SignDecision(s.cfg.DecisionKey, id, workflows.SignalTransferStarted, started.Digest())
	if err := s.cfg.Client.SignalWorkflow(ctx, id, "", workflows.SignalTransferStarted, started); err != nil {
		s.logger(ctx).Error("transfer started, but the payout was not told; the bank's webhooks will tell it", "payout_id", id,
			"provider", req.Provider, "error", err)
	}
}

const memoFingerprint = "request_fingerprint"

// memoInitialState is the memo field the API writes the payout's state to when it starts its workflow: true until
// the workflow's first task, after which the workflow publishes its own (workflows.MemoState), unless release 1
// runs it.
const memoInitialState = "initial_state"

// firstTaskEvents is the length of a history whose first workflow task has not completed: started, task scheduled,
// task started.
const firstTaskEvents = 3

// existingPayout answers a create whose key was used before: the same payout for the same body, 409 otherwise.
func (s *Server) existingPayout(ctx context.Context, id string, req payout.Request, initial payout.State) (payout.State, error) {
	var desc *workflowservice.DescribeWorkflowExecutionResponse
	err := untilServed(ctx, func(ctx context.Context) (err error) {
		desc, err = s.cfg.Client.DescribeWorkflowExecution(ctx, id, "")
		return err
	})
	if err != nil {
		return payout.State{}, fmt.Errorf("describe payout %s: %w", id, err)
	}
	var had string
	if p, ok := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()[memoFingerprint]; ok {
		if err := s.cfg.DataConverter.FromPayload(p, &had); err != nil {
			return payout.State{}, fmt.Errorf("read fingerprint of payout %s: %w", id, err)
		}
	}
	if !slices.ContainsFunc(s.cfg.FingerprintKeys, func(key []byte) bool { return req.Fingerprint(key) == had }) {
		return payout.State{}, apiError(http.StatusConflict, "idempotency_key_reused",
			"this Idempotency-Key was already used for a different payout request; use a new key for a new payout")
	}
	st, err := s.state(ctx, id)
	if err != nil {
		// The workflow has not answered yet (it has only just started): what it was created with is still true.
		s.logger(ctx).Warn("query state of an existing payout", "payout_id", id, "provider", req.Provider, "error", err)
		initial.CreatedAt = desc.GetWorkflowExecutionInfo().GetStartTime().AsTime()
		st = initial
	}
	return st, nil
}

func (s *Server) getPayout(c echo.Context) error {
	id, err := payoutID(c)
	if err != nil {
		return err
	}
	w, err := parseWait(c)
	if err != nil {
		return err
	}
	start := time.Now()
	ctx, cancel := s.withBusyBudget(c.Request().Context(), w.wait)
	defer cancel()
	st, source, desc, err := s.readOwnDescribed(ctx, c, id)
	if err != nil {
		return err
	}
	if w.wait > 0 {
		var met bool
		w.wait -= time.Since(start) // a read that Temporal kept waiting counts in the wait
		st, source, met = s.awaitState(c.Request().Context(), id, read{st, source, desc}, w)
		c.Response().Header().Set("Payout-Wait-Met", strconv.FormatBool(met))
	}
	c.Response().Header().Set("Payout-State-Source", source)
	c.Response().Header().Set("Payout-State-As-Of", st.UpdatedAt.UTC().Format(time.RFC3339Nano))
	return c.JSON(http.StatusOK, st)
}

// decide sends confirm or cancel to a payout, after checking that the payout can take it.
func (s *Server) decide(signal string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := payoutID(c)
		if err != nil {
			return err
		}
		var d payout.Decision
		if c.Request().ContentLength != 0 {
			if err := decodeJSON(c, &d); err != nil {
				return err
			}
		}
		// Who decides is the caller's API key: never what the body claims.
		me := caller(c).Name
		d.By, d.Reason = strings.TrimSpace(d.By), strings.TrimSpace(d.Reason)
		switch {
		case d.By != "" && d.By != me:
			return fieldError(http.StatusUnprocessableEntity, "by", "identity_mismatch",
				fmt.Sprintf("who decides is taken from your API key (%s); omit by or send %q", me, me))
		case len(d.Reason) > 500:
			return fieldError(http.StatusUnprocessableEntity, "reason", "too_long", "reason is longer than 500 characters")
		case payout.LooksLikeCardNumber(d.Reason):
			return fieldError(http.StatusUnprocessableEntity, "reason", "card_number_not_allowed", "reason must not carry a card number")
		case d.Proof != "":
			return fieldError(http.StatusBadRequest, "proof", "unknown_field", "proof is not a field of this request")
		}
		d.By = me
		d.Proof = payout.SignDecision(s.cfg.DecisionKey, id, signal, me)
		ctx, cancel := s.withBusyBudget(c.Request().Context(), 0)
		defer cancel()
		st, _, err := s.readOwn(ctx, c, id)
		if err != nil {
			return err
		}
		switch {
		case st.Status.Final():
			return finished(id, st)
		case signal == workflows.SignalConfirm && st.ApprovalsRequired > 1 && st.CreatedBy == me:
			return apiError(http.StatusForbidden, "creator_cannot_approve",
				fmt.Sprintf("payout %s needs two approvers, and who created it (%s) cannot be one of them", id, me))
		case signal == workflows.SignalConfirm && approvedBy(st, me):
			return apiError(http.StatusConflict, "already_approved",
				fmt.Sprintf("%s already approved payout %s; another person must", me, id))
		case st.Approval != nil && !(signal == workflows.SignalCancel && st.Status == payout.StatusNeedsAttention):
			return apiError(http.StatusConflict, "already_decided",
				fmt.Sprintf("payout %s was already decided by %s", id, st.Approval.By))
		case signal == workflows.SignalConfirm && st.Status != payout.StatusAwaitingApproval:
			return apiError(http.StatusConflict, "not_awaiting_approval",
				fmt.Sprintf("payout %s is %s; it can be confirmed only while awaiting_approval", id, st.Status))
		case signal == workflows.SignalCancel && st.CancelRefused != "":
			return apiError(http.StatusConflict, "cannot_be_stopped", fmt.Sprintf("payout %s: %s", id, st.CancelRefused))
		case signal == workflows.SignalCancel && !st.Status.Cancellable():
			return apiError(http.StatusConflict, "not_cancellable",
				fmt.Sprintf("payout %s is %s; it can be cancelled only before it is confirmed, or while it needs attention", id, st.Status))
		}
		// Sent again while Temporal is too busy to take it: a repeated decision is ignored by the payout.
		if err := untilServed(ctx, func(ctx context.Context) error {
			return s.cfg.Client.SignalWorkflow(ctx, id, "", signal, d)
		}); err != nil {
			return s.signalFailed(ctx, c, id, signal, err)
		}
		s.logger(ctx).Info("decision sent", "payout_id", id, "provider", st.Provider, "signal", signal, "by", d.By)
		return c.JSON(http.StatusAccepted, map[string]string{"id": id, "status": string(st.Status), "accepted": signal})
	}
}

// resolve sends an operator's resolution of a payout that needs attention: look it up again, or mark it failed or
// succeeded (with the provider's reference) after checking with the provider.
func (s *Server) resolve(c echo.Context) error {
	id, err := payoutID(c)
	if err != nil {
		return err
	}
	var r workflows.Resolution
	if err := decodeJSON(c, &r); err != nil {
		return err
	}
	me := caller(c).Name
	r.Action, r.Reason, r.Reference = strings.TrimSpace(r.Action), strings.TrimSpace(r.Reason), strings.TrimSpace(r.Reference)
	switch {
	case r.Action == "":
		return fieldError(http.StatusUnprocessableEntity, "action", "required", "action is one of look_up, mark_failed, mark_succeeded")
	case r.Action != workflows.ResolveLookUp && r.Action != workflows.ResolveMarkFailed && r.Action != workflows.ResolveMarkSucceeded:
		return fieldError(http.StatusUnprocessableEntity, "action", "unknown_action", "action is one of look_up, mark_failed, mark_succeeded")
	case r.Action == workflows.ResolveMarkSucceeded && r.Reference == "":
		return fieldError(http.StatusUnprocessableEntity, "reference", "required", "mark_succeeded needs the provider's reference of the payment you found")
	case r.Action != workflows.ResolveLookUp && r.Reason == "":
		return fieldError(http.StatusUnprocessableEntity, "reason", "required", "say what you checked with the provider")
	case len(r.Reason) > 500 || len(r.Reference) > 100:
		return fieldError(http.StatusUnprocessableEntity, "reason", "too_long", "reason is at most 500 characters, reference 100")
	case payout.LooksLikeCardNumber(r.Reason) || payout.LooksLikeCardNumber(r.Reference):
		return fieldError(http.StatusUnprocessableEntity, "reason", "card_number_not_allowed", "reason and reference must not carry a card number")
	case r.By != "" && r.By != me:
		return fieldError(http.StatusUnprocessableEntity, "by", "identity_mismatch",
			fmt.Sprintf("who resolves is taken from your API key (%s); omit by or send %q", me, me))
	case r.Proof != "":
		return fieldError(http.StatusBadRequest, "proof", "unknown_field", "proof is not a field of this request")
	}
	r.By = me
	r.Proof = payout.SignDecision(s.cfg.DecisionKey, id, workflows.SignalResolve, me)
	ctx, cancel := s.withBusyBudget(c.Request().Context(), 0)
	defer cancel()
	st, _, err := s.readOwn(ctx, c, id)
	if err != nil {
		return err
	}
	if st.Status != payout.StatusNeedsAttention {
		return apiError(http.StatusConflict, "not_needs_attention",
			fmt.Sprintf("payout %s is %s; only a payout that needs attention is resolved by hand", id, st.Status))
	}
	if err := s.cfg.Client.SignalWorkflow(ctx, id, "", workflows.SignalResolve, r); err != nil {
		return fmt.Errorf("signal resolve to payout %s: %w", id, err)
	}
	s.logger(ctx).Info("resolution sent", "payout_id", id, "provider", st.Provider, "action", r.Action, "by", me)
	return c.JSON(http.StatusAccepted, map[string]string{"id": id, "status": string(st.Status), "accepted": r.Action})
}

func approvedBy(st payout.State, who string) bool {
	for _, a := range st.Approvals {
		if a.By == who {
			return true
		}
	}
	return false
}

var payoutIDRE = regexp.MustCompile(`^po_[0-9a-f]{32}$`)

func payoutID(c echo.Context) (string, error) {
	id := c.Param("id")
	if !payoutIDRE.MatchString(id) {
		return "", apiError(http.StatusNotFound, "payout_not_found", "no payout with that id")
	}
	return id, nil
}

// webhook verifies a provider's webhook, then signals each event to its payout's workflow.
func (s *Server) webhook(c echo.Context) error {
	name := c.Param("provider")
	wh, ok := s.cfg.Providers.Webhooks(name)
	if !ok {
		return apiError(http.StatusNotFound, "unknown_provider", "no webhooks are received for provider "+name)
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err // the body limit answers 413
	}
	events, err := wh.Translate(c.Request().Header, body)
	var malformed *providers.MalformedError
	switch {
	case errors.Is(err, providers.ErrBadSignature):
		metrics.Webhook(name, metrics.WebhookForged)
		s.logger(c.Request().Context()).Warn("webhook rejected: bad signature", "provider", name, "remote", c.RealIP(), "bytes", len(body))
		return apiError(http.StatusUnauthorized, "invalid_signature", "the webhook signature is missing or invalid")
	case errors.As(err, &malformed):
		// Signed by the provider, so resending it will not mend it: answered 200 so that it is not resent forever,
		// and logged as an error for an operator.
		metrics.Webhook(name, metrics.WebhookMalformed)
		s.logger(c.Request().Context()).Error("webhook ignored: signed but not understood", "provider", name, "reason", malformed.Reason)
		return acknowledge(c, wh, map[string]string{"status": "ignored", "reason": malformed.Reason})
	case err != nil:
		return fmt.Errorf("webhook from %s: %w", name, err)
	}
	ctx := c.Request().Context()
	for _, ev := range events {
		id := ev.Outcome.Ref.PayoutID
		log := s.logger(ctx).With("provider", name, "kind", ev.Kind, "payout_id", id, "state", ev.Outcome.State)
		if !payoutIDRE.MatchString(id) {
			metrics.Webhook(name, metrics.WebhookUnroutable)
			log.Warn("webhook for a payout that is not ours: ignored")
			continue
		}
		err := s.cfg.Client.SignalWorkflow(ctx, id, "", ev.Kind, ev)
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(err, &notFound):
			// Unknown or already finished: answered 200 so the provider stops resending it. A finished payout's
			// provider that now says otherwise is never passed over quietly.
			metrics.Webhook(name, s.checkFinished(ctx, log, id, ev))
		case err != nil:
			metrics.Webhook(name, metrics.WebhookFailed)
			log.Error("webhook not delivered; the provider will resend it", "error", err)
			return apiError(http.StatusServiceUnavailable, "unavailable", "the webhook could not be delivered now; resend it later")
		default:
			metrics.Webhook(name, metrics.WebhookAccepted)
			log.Info("webhook delivered")
		}
	}
	return acknowledge(c, wh, map[string]string{"status": "ok"})
}

// checkFinished looks at the payout a webhook came for after its workflow ended: a final word that contradicts how
// it ended is logged at error level, for an operator to reconcile with the provider (a payout ended by an
// operator's mark listens, and records such a word on itself, for 30 days; this is what comes after). It returns
// the webhook's result for metrics.
func (s *Server) checkFinished(ctx context.Context, log *slog.Logger, id string, ev providers.Event) string {
	st, err := s.state(ctx, id)
	switch {
	case err != nil:
		log.Warn("webhook for an unknown payout: ignored")
		return metrics.WebhookUnroutable
	case !ev.Outcome.State.Final() || !st.Status.Final():
		log.Warn("webhook for a finished payout: ignored", "ended", st.Status)
	case (ev.Outcome.State == providers.StateSucceeded) != (st.Status == payout.StatusSucceeded):
		log.Error("CONTRADICTION: the provider's webhook contradicts how the payout ended; reconcile it with the provider",
			"ended", st.Status, "provider_says", ev.Outcome.State)
		return metrics.WebhookContradiction
	default:
		log.Info("webhook for a finished payout agrees with how it ended", "ended", st.Status)
	}
	return metrics.WebhookDuplicate
}

// acknowledge answers a webhook that was taken (or is deliberately ignored) with 200: in the words its provider
// expects (providers.Acknowledger), else with body as JSON.
func acknowledge(c echo.Context, wh providers.Webhooks, body any) error {
	if a, ok := wh.(providers.Acknowledger); ok {
		ct, b := a.Acknowledge()
		return c.Blob(http.StatusOK, ct, b)
	}
	return c.JSON(http.StatusOK, body)
}

// verification answers a provider that asks whether to go on with a payout. The payout's workflow decides, through
// an update recorded in its history; whatever cannot be asked is declined, so that no money moves unapproved.
func (s *Server) verification(c echo.Context) error {
	name := c.Param("provider")
	vs, ok := s.cfg.Providers.Verifications(name)
	if !ok {
		return apiError(http.StatusNotFound, "unknown_provider", "no verifications are answered for provider "+name)
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	v, err := vs.ParseVerification(c.Request().Header, body)
	var malformed *providers.MalformedError
	switch {
	case errors.Is(err, providers.ErrBadSignature):
		metrics.Webhook(name, metrics.WebhookForged)
		s.logger(c.Request().Context()).Warn("verification rejected: bad signature", "provider", name, "remote", c.RealIP(), "bytes", len(body))
		return apiError(http.StatusUnauthorized, "invalid_signature", "the signature or credentials are missing or invalid")
	case errors.As(err, &malformed):
		metrics.Webhook(name, metrics.WebhookMalformed)
		s.logger(c.Request().Context()).Warn("verification rejected: malformed", "provider", name, "reason", malformed.Reason)
		return apiError(http.StatusBadRequest, "malformed_verification", malformed.Reason)
	case err != nil:
		return fmt.Errorf("verification from %s: %w", name, err)
	}
	answer := s.askPayout(c.Request().Context(), name, v)
	metrics.Webhook(name, metrics.WebhookAccepted)
	s.logger(c.Request().Context()).Info("verification answered", "provider", name, "payout_id", v.PayoutID, "transaction", v.TransactionID,
		"approved", answer.Approved, "message", answer.Message)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, vs.Answer(v, answer))
}

func (s *Server) askPayout(ctx context.Context, provider string, v providers.Verification) providers.VerificationAnswer {
	if !payoutIDRE.MatchString(v.PayoutID) {
		return providers.VerificationAnswer{Message: "unknown payout"}
	}
	// Answer within the provider's own wait, long enough for another worker to take the payout's workflow task
	// from one that died (payoutTaskTimeout). A payout that takes the question after AnswerBy declines it too, so
	// that its history says what the provider was told.
	start := time.Now()
	v.AnswerBy = start.Add(max(s.verifyWait()-verifyGrace, s.verifyWait()/2))
	ctx, cancel := context.WithDeadline(ctx, start.Add(s.verifyWait()))
	defer cancel()
	h, err := s.cfg.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: v.PayoutID,
		UpdateName: workflows.UpdateVerify,
		// A provider's resend of the same question gets the same answer; a different question gets its own.
		UpdateID:     fmt.Sprintf("%s-verify-%s-%d-%s", provider, v.TransactionID, v.Amount.Value, v.Amount.Currency),
		Args:         []any{v},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var answer providers.VerificationAnswer
	if err == nil {
		err = h.Get(ctx, &answer)
	}
	if err != nil {
		s.logger(ctx).Warn("verification declined: the payout could not answer", "payout_id", v.PayoutID, "provider", provider,
			"error", err)
		return providers.VerificationAnswer{Message: "the payout cannot be verified"}
	}
	return answer
}

// decodeJSON reads a JSON body strictly: unknown fields and trailing data are errors that name the problem.
func decodeJSON(c echo.Context, v any) error {
	if ct := c.Request().Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return apiError(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
		}
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return apiError(http.StatusBadRequest, "invalid_json", "the request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return apiError(http.StatusBadRequest, "invalid_json", "the request body holds more than one JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return apiError(http.StatusBadRequest, "invalid_json", fmt.Sprintf("the body is not valid JSON (at byte %d)", syntax.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return apiError(http.StatusBadRequest, "invalid_json", "the body must be a JSON object")
		}
		if isInteger(typ.Type) {
			return integerError(field, typ.Value, typ.Type)
		}
		return fieldError(http.StatusBadRequest, field, "invalid_type", fmt.Sprintf("%s must be a JSON %s", field, jsonKind(typ.Type.Kind().String())))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldError(http.StatusBadRequest, field, "unknown_field", fmt.Sprintf("%s is not a field of this request", field))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apiError(http.StatusBadRequest, "invalid_json", "the body is truncated JSON")
	}
	return apiError(http.StatusBadRequest, "invalid_json", "the body is not valid JSON")
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	}
	return "object"
}
