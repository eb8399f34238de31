package bank131

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers/internal/background"
	"github.com/payoutflow/payoutflow/providers/internal/delivery"
	"github.com/payoutflow/payoutflow/providers/internal/httpx"
)

// Magic card numbers of the sandbox. Any other valid card number behaves like SandboxCardSucceeds.
const (
	// SandboxCardSucceeds waits for confirmation (ready_to_confirm), then pays out (payment_finished, succeeded).
	SandboxCardSucceeds = "4242424242424242"
	// SandboxCardDeclined is declined by the issuer right after start: payment_finished, failed,
	// declined_by_issuer_bank; no ready_to_confirm.
	SandboxCardDeclined = "4000000000000002"
	// SandboxCardFailsLater waits for confirmation like any card, then fails: payment_finished, failed,
	// provider_issuer_unavailable.
	SandboxCardFailsLater = "4000000000000119"
)

// Sandbox tuning.
const (
	defaultWebhookDelay   = 20 * time.Millisecond
	webhookAttempts       = 20
	webhookFirstBackoff   = 50 * time.Millisecond
	webhookMaxBackoff     = 5 * time.Second
	sandboxLedgerPath     = "/_sandbox/ledger"
	sandboxAPIPrefix      = "/api/v1/"
	sandboxWebhookTimeout = 10 * time.Second
)

// SandboxConfig configures a Sandbox.
type SandboxConfig struct {
	// PartnerPublicKey verifies X-PARTNER-SIGN on requests; with none, every request is refused.
	PartnerPublicKey *rsa.PublicKey
	// BankPrivateKey signs webhooks; with none, no webhook is sent.
	BankPrivateKey *rsa.PrivateKey
	// Project is the expected X-PARTNER-PROJECT; empty accepts any.
	Project string
	// WebhookURL receives the webhooks; it may be set later with SetWebhookURL.
	WebhookURL string
	// WebhookDelay is how long the bank "works" before each asynchronous step; 20 ms when zero.
	WebhookDelay time.Duration
	// HTTPClient delivers webhooks; a client with a 10 s timeout when nil.
	HTTPClient *http.Client
	// Logger receives delivery failures; nothing is logged when nil.
	Logger *slog.Logger
	// StateFile is where OpenSandbox keeps the state across restarts; NewSandbox ignores it.
	StateFile string
}

// LedgerEntry is one payout the sandbox executed: money that "moved".
type LedgerEntry struct {
	SessionID string `json:"session_id"`
	PaymentID string `json:"payment_id"`
	// Metadata is the payout's metadata: a JSON string's value, or the raw JSON of any other value.
	Metadata   string    `json:"metadata"`
	Amount     int64     `json:"amount"`
	Currency   string    `json:"currency"`
	CardLast4  string    `json:"card_last4"`
	ExecutedAt time.Time `json:"executed_at"`
}

// Sandbox simulates Bank 131's session API for card payouts, in memory or saved to a file (OpenSandbox): it
// verifies signed requests, moves sessions through their states, keeps a ledger of executed payouts and sends
// signed webhooks. It is an http.Handler.
type Sandbox struct {
	partnerKey *rsa.PublicKey
	bankKey    *rsa.PrivateKey
	project    string
	delay      time.Duration
	http       *http.Client
	log        *slog.Logger
	stateFile  string // empty: in memory only

	// tasks runs the delayed steps and the webhook deliveries; Close stops them.
	tasks    *background.Group
	webhooks *delivery.Queue

	mu         sync.Mutex
	closed     bool
	webhookURL string
	lastID     int64
	sessions   map[string]*sandboxSession
	seenKeys   map[string]bool // method + "\x00" + idempotency key
	ledger     []LedgerEntry
}

// cardBehaviour is what the sandbox does with a payout to a card.
type cardBehaviour string

const (
	cardSucceeds   cardBehaviour = "succeeds"
	cardDeclined   cardBehaviour = "declined"
	cardFailsLater cardBehaviour = "fails_later"
)

// sandboxSession is a session's state. It never holds a card number: only its brand, last four digits and
// behaviour.
type sandboxSession struct {
	id         string
	status     string
	nextAction string
	err        *APIError
	metadata   json.RawMessage
	createdAt  time.Time
	updatedAt  time.Time
	finishedAt time.Time
	payment    *sandboxPayment
	// confirmed and executed guard the payout: confirmed once, executed at most once.
	confirmed bool
	executed  bool
	// webhooks keeps the session's webhooks in order.
	webhooks delivery.Line
	// sent holds the webhook types answered 200, which are not sent again after a restart.
	sent map[string]bool
}

type sandboxPayment struct {
	id         string
	status     string
	err        *APIError
	brand      string
	last4      string
	behaviour  cardBehaviour
	amount     int64
	currency   string
	metadata   json.RawMessage
	createdAt  time.Time
	finishedAt time.Time
}

// apiFailure is an error answer: HTTP status and the bank's error object.
type apiFailure struct {
	status int
	APIError
}

func fault(status int, code, format string, args ...any) *apiFailure {
	return &apiFailure{status: status, APIError: APIError{Code: code, Description: fmt.Sprintf(format, args...)}}
}

func invalid(format string, args ...any) *apiFailure {
	return fault(http.StatusBadRequest, "invalid_request", format, args...)
}

// NewSandbox returns a sandbox with no sessions that keeps its state in memory only (see OpenSandbox). Close it
// to stop its pending webhooks.
func NewSandbox(cfg SandboxConfig) *Sandbox {
	if cfg.WebhookDelay <= 0 {
		cfg.WebhookDelay = defaultWebhookDelay
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: sandboxWebhookTimeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	tasks := background.NewGroup()
	return &Sandbox{
		partnerKey: cfg.PartnerPublicKey,
		bankKey:    cfg.BankPrivateKey,
		project:    cfg.Project,
		delay:      cfg.WebhookDelay,
		http:       cfg.HTTPClient,
		log:        cfg.Logger,
		tasks:      tasks,
		webhooks: delivery.NewQueue(tasks, "webhook", delivery.Policy{Attempts: webhookAttempts,
			FirstBackoff: webhookFirstBackoff, MaxBackoff: webhookMaxBackoff}, cfg.Logger),
		webhookURL: cfg.WebhookURL,
		// IDs go on from the clock, so that a restarted sandbox never reuses the ID of a session it forgot.
		lastID:   time.Now().UnixMilli(),
		sessions: make(map[string]*sandboxSession),
		seenKeys: make(map[string]bool),
	}
}

// SetWebhookURL sets where webhooks go, including those waiting to be retried.
func (s *Sandbox) SetWebhookURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL = url
}

// Ledger returns the payouts executed so far, in order.
func (s *Sandbox) Ledger() []LedgerEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LedgerEntry{}, s.ledger...)
}

// Close stops pending steps and webhook deliveries and waits for them to end. The API keeps answering.
func (s *Sandbox) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.tasks.Close()
}

// ServeHTTP serves the API under /api/v1/ and the ledger, unsigned, at GET /_sandbox/ledger.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == sandboxLedgerPath && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Ledger())
	case strings.HasPrefix(r.URL.Path, sandboxAPIPrefix):
		s.serveAPI(w, r)
	default:
		writeFailure(w, fault(http.StatusNotFound, "invalid_request", "no such path: %s", r.URL.Path))
	}
}

// serveAPI checks who calls, then runs the method.
func (s *Sandbox) serveAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeFailure(w, fault(http.StatusMethodNotAllowed, "invalid_request", "use POST"))
		return
	}
	body, err := httpx.ReadRequest(w, r)
	if err != nil {
		writeFailure(w, invalid("cannot read the request body"))
		return
	}
	if project := r.Header.Get(headerProject); project == "" || (s.project != "" && project != s.project) {
		writeFailure(w, fault(http.StatusForbidden, "identification_error", "unknown or missing %s", headerProject))
		return
	}
	if err := Verify(s.partnerKey, body, r.Header.Get(headerSign)); err != nil {
		writeFailure(w, fault(http.StatusUnauthorized, "authentication_error", "%s is missing or does not verify", headerSign))
		return
	}

	op := strings.TrimPrefix(r.URL.Path, sandboxAPIPrefix)
	var method func([]byte) (*sandboxSession, *apiFailure)
	switch op {
	case opCreate:
		method = s.create
	case opStart:
		method = s.start
	case opConfirm:
		method = s.confirm
	case opCancel:
		method = s.cancel
	case opStatus:
		method = s.status
	default:
		writeFailure(w, fault(http.StatusNotFound, "invalid_request", "unknown method %s", op))
		return
	}

	s.mu.Lock()
	key := r.Header.Get(headerIdempotencyKey)
	if op == opStatus {
		key = "" // reading changes nothing: no key needed
	}
	if key != "" && s.seenKeys[op+"\x00"+key] {
		s.mu.Unlock()
		writeFailure(w, fault(http.StatusBadRequest, codeIdempotencyKeyExists, "already in progress or processed"))
		return
	}
	sess, fail := method(body)
	var snap Session
	if fail == nil {
		if key != "" {
			s.seenKeys[op+"\x00"+key] = true
		}
		snap = sess.view()
		if op != opStatus {
			s.save()
		}
	}
	s.mu.Unlock()

	if fail != nil {
		s.log.Debug("call refused", "method", op, "http_status", fail.status, "code", fail.Code)
		writeFailure(w, fail)
		return
	}
	s.log.Debug("call", "method", op, "session", snap.ID, "session_status", snap.Status)
	writeJSON(w, http.StatusOK, envelope{Status: "ok", Session: &snap})
}

// create is session/create: a new session with no payout. Called with s.mu held, like every method.
func (s *Sandbox) create(body []byte) (*sandboxSession, *apiFailure) {
	var in struct {
		Metadata json.RawMessage `json:"metadata"`
	}
	if f := decode(body, &in); f != nil {
		return nil, f
	}
	now := time.Now()
	sess := &sandboxSession{
		id:        s.newID("ps_"),
		status:    sessionCreated,
		metadata:  in.Metadata,
		createdAt: now,
		updatedAt: now,
	}
	s.sessions[sess.id] = sess
	return sess, nil
}

// start is session/start/payout: a payout to a card in a created session, then ready_to_confirm (or a decline).
func (s *Sandbox) start(body []byte) (*sandboxSession, *apiFailure) {
	var in startPayoutBody
	if f := decode(body, &in); f != nil {
		return nil, f
	}
	var raw struct {
		Metadata json.RawMessage `json:"metadata"`
	}
	_ = json.Unmarshal(body, &raw) // body decoded above

	sess, f := s.session(in.SessionID)
	if f != nil {
		return nil, f
	}
	pm := in.PaymentMethod
	switch {
	case pm == nil:
		return nil, invalid("payment_method is required")
	case pm.Type != "card":
		return nil, invalid("payment_method.type must be card: the sandbox pays out to cards only")
	case pm.Card == nil || pm.Card.Type != "bank_card":
		return nil, invalid("payment_method.card.type must be bank_card")
	case pm.Card.BankCard == nil || pm.Card.BankCard.Number == "":
		return nil, invalid("payment_method.card.bank_card.number is required")
	case !validCardNumber(pm.Card.BankCard.Number):
		return nil, invalid("payment_method.card.bank_card.number is not a card number: 14 to 19 digits passing the Luhn check")
	case in.ParticipantDetails == nil || in.ParticipantDetails.Recipient == nil ||
		strings.TrimSpace(in.ParticipantDetails.Recipient.FullName) == "":
		return nil, invalid("participant_details.recipient.full_name is required")
	case in.AmountDetails == nil:
		return nil, invalid("amount_details is required")
	case in.AmountDetails.Amount <= 0:
		return nil, invalid("amount_details.amount must be greater than 0")
	case !strings.EqualFold(in.AmountDetails.Currency, "rub"):
		return nil, invalid("amount_details.currency must be rub")
	}
	if sess.status != sessionCreated || sess.payment != nil {
		return nil, wrongState(sess)
	}

	number := pm.Card.BankCard.Number
	behaviour := cardSucceeds
	switch number {
	case SandboxCardDeclined:
		behaviour = cardDeclined
	case SandboxCardFailsLater:
		behaviour = cardFailsLater
	}
	now := time.Now()
	sess.payment = &sandboxPayment{
		id:        s.newID("po_"),
		status:    paymentInProgress,
		brand:     payout.CardBrand(number),
		last4:     number[len(number)-4:],
		behaviour: behaviour,
		amount:    in.AmountDetails.Amount,
		currency:  "rub",
		metadata:  raw.Metadata,
		createdAt: now,
	}
	sess.status = sessionInProgress
	sess.updatedAt = now
	s.after(sess.id, s.offer)
	return sess, nil
}

// confirm is session/confirm: the payout waiting for confirmation executes after the delay.
func (s *Sandbox) confirm(body []byte) (*sandboxSession, *apiFailure) {
	sess, f := s.sessionIn(body)
	if f != nil {
		return nil, f
	}
	if sess.payment == nil || sess.payment.status != paymentPending || sess.confirmed {
		return nil, wrongState(sess)
	}
	sess.confirmed = true
	sess.payment.status = paymentInProgress
	sess.nextAction = ""
	sess.updatedAt = time.Now()
	s.after(sess.id, s.execute)
	return sess, nil
}

// cancel is session/cancel: allowed before start and while the payout waits for confirmation; no webhook.
func (s *Sandbox) cancel(body []byte) (*sandboxSession, *apiFailure) {
	sess, f := s.sessionIn(body)
	if f != nil {
		return nil, f
	}
	p := sess.payment
	if !(sess.status == sessionCreated && p == nil) && !(p != nil && p.status == paymentPending && !sess.confirmed) {
		return nil, wrongState(sess)
	}
	now := time.Now()
	e := &APIError{Code: codeSessionCancelledByPartner, Description: "Session cancelled by partner"}
	sess.status = sessionCancelled
	sess.nextAction = ""
	sess.err = e
	sess.updatedAt = now
	sess.finishedAt = now
	if p != nil {
		p.status = paymentFailed
		p.err = e
		p.finishedAt = now
	}
	return sess, nil
}

// status is session/status.
func (s *Sandbox) status(body []byte) (*sandboxSession, *apiFailure) {
	return s.sessionIn(body)
}

// offer runs after start: the payout waits for confirmation (ready_to_confirm), or the issuer declines it.
func (s *Sandbox) offer(sess *sandboxSession) {
	p := sess.payment
	if p == nil || p.status != paymentInProgress || sess.confirmed {
		return
	}
	if p.behaviour == cardDeclined {
		s.fail(sess, APIError{Code: "declined_by_issuer_bank", Description: "Declined by issuer bank"})
		s.notify(sess, hookPaymentFinished)
		return
	}
	p.status = paymentPending
	sess.nextAction = nextActionConfirm
	sess.updatedAt = time.Now()
	s.notify(sess, hookReadyToConfirm)
}

// execute runs after confirm: the money moves, once, or the payout fails.
func (s *Sandbox) execute(sess *sandboxSession) {
	p := sess.payment
	if p == nil || !sess.confirmed || sess.executed || p.status != paymentInProgress {
		return
	}
	sess.executed = true
	if p.behaviour == cardFailsLater {
		s.fail(sess, APIError{Code: "provider_issuer_unavailable", Description: "Issuer unavailable"})
		s.notify(sess, hookPaymentFinished)
		return
	}
	now := time.Now()
	s.ledger = append(s.ledger, LedgerEntry{
		SessionID:  sess.id,
		PaymentID:  p.id,
		Metadata:   metadataText(p.metadata, sess.metadata),
		Amount:     p.amount,
		Currency:   p.currency,
		CardLast4:  p.last4,
		ExecutedAt: now.UTC(),
	})
	p.status = paymentSucceeded
	p.finishedAt = now
	sess.status = sessionAccepted
	sess.updatedAt = now
	sess.finishedAt = now
	s.notify(sess, hookPaymentFinished)
}

// fail ends the payout in failure; the session goes to error, which the bank does not call final.
func (s *Sandbox) fail(sess *sandboxSession, e APIError) {
	now := time.Now()
	p := sess.payment
	p.status = paymentFailed
	p.err = &e
	p.finishedAt = now
	sess.status = sessionError
	sess.err = &e
	sess.nextAction = ""
	sess.updatedAt = now
}

// after runs step on the session once the delay has passed, unless the sandbox is closed first. Called with s.mu
// held; step runs with s.mu held.
func (s *Sandbox) after(id string, step func(*sandboxSession)) {
	if s.closed {
		return
	}
	s.tasks.After(s.delay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if sess := s.sessions[id]; sess != nil {
			step(sess)
			s.save()
		}
	})
}

// notify sends a signed webhook of the session as it is now, after the session's earlier webhooks. Called with
// s.mu held.
func (s *Sandbox) notify(sess *sandboxSession, typ string) {
	if s.closed {
		return
	}
	view := sess.view()
	body, err := json.Marshal(webhook{Type: typ, Session: &view})
	if err != nil {
		s.log.Error("webhook not sent: marshal", "session", sess.id, "type", typ, "err", err)
		return
	}
	sig, err := Sign(s.bankKey, body)
	if err != nil {
		s.log.Error("webhook not sent: sign", "session", sess.id, "type", typ, "err", err)
		return
	}
	id := sess.id
	s.webhooks.Send(&sess.webhooks, func(ctx context.Context) error { return s.post(ctx, body, sig) },
		func() { s.markSent(id, typ) }, "session", id, "type", typ)
}

// markSent records that the session's webhook of type typ was answered 200.
func (s *Sandbox) markSent(sessionID, typ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[sessionID]
	if sess == nil {
		return
	}
	if sess.sent == nil {
		sess.sent = make(map[string]bool)
	}
	sess.sent[typ] = true
	s.save()
}

// post makes one delivery attempt, to the webhook URL set now.
func (s *Sandbox) post(ctx context.Context, body []byte, sig string) error {
	s.mu.Lock()
	url := s.webhookURL
	s.mu.Unlock()
	if url == "" {
		return errors.New("no webhook URL set")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(headerSign, sig)
	return delivery.Check(s.http.Do(req))
}

// newID returns a fresh ID with prefix. Called with s.mu held.
func (s *Sandbox) newID(prefix string) string {
	s.lastID++
	return fmt.Sprintf("%s%d", prefix, s.lastID)
}

// sessionIn reads {"session_id": ...} and finds the session.
func (s *Sandbox) sessionIn(body []byte) (*sandboxSession, *apiFailure) {
	var in sessionIDBody
	if f := decode(body, &in); f != nil {
		return nil, f
	}
	return s.session(in.SessionID)
}

// session finds a session by ID.
func (s *Sandbox) session(id string) (*sandboxSession, *apiFailure) {
	if id == "" {
		return nil, invalid("session_id is required")
	}
	sess := s.sessions[id]
	if sess == nil {
		return nil, invalid("session_id: no session %s", id)
	}
	return sess, nil
}

// view is the session as the API shows it.
func (sess *sandboxSession) view() Session {
	v := Session{
		ID:         sess.id,
		Status:     sess.status,
		CreatedAt:  Timestamp{sess.createdAt},
		UpdatedAt:  Timestamp{sess.updatedAt},
		FinishedAt: Timestamp{sess.finishedAt},
		NextAction: sess.nextAction,
		Error:      copyError(sess.err),
	}
	if p := sess.payment; p != nil {
		v.Payments = []Payment{{
			ID:            p.id,
			Status:        p.status,
			CreatedAt:     Timestamp{p.createdAt},
			FinishedAt:    Timestamp{p.finishedAt},
			PaymentMethod: &PaymentMethod{Type: "card", Card: &MaskedCard{Brand: p.brand, Last4: p.last4}},
			AmountDetails: &AmountDetails{Amount: p.amount, Currency: p.currency},
			Metadata:      p.metadata,
			Error:         copyError(p.err),
		}}
	}
	return v
}

func wrongState(sess *sandboxSession) *apiFailure {
	status := sess.status
	if sess.payment != nil {
		status += ", payout " + sess.payment.status
	}
	return fault(http.StatusBadRequest, "session_wrong_state", "session %s is %s", sess.id, status)
}

// decode reads a JSON object into v; a failure names the field, never its value.
func decode(body []byte, v any) *apiFailure {
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return invalid("%s has the wrong type", typeErr.Field)
	}
	return invalid("the body is not a JSON object")
}

// validCardNumber reports whether n is 14 to 19 digits that pass the Luhn check.
func validCardNumber(n string) bool {
	if len(n) < 14 || len(n) > 19 {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return payout.Luhn(n)
}

// metadataText is the first metadata given as text: a JSON string's value, or raw JSON.
func metadataText(metadata ...json.RawMessage) string {
	for _, m := range metadata {
		if len(m) == 0 || string(m) == "null" {
			continue
		}
		var s string
		if json.Unmarshal(m, &s) == nil {
			return s
		}
		return string(m)
	}
	return ""
}

func copyError(e *APIError) *APIError {
	if e == nil {
		return nil
	}
	c := *e
	return &c
}

// encodeFailure is the answer when an answer cannot be encoded.
const encodeFailure = `{"status":"error","error":{"code":"internal_error","description":"cannot encode the answer"}}`

func writeJSON(w http.ResponseWriter, status int, v any) {
	httpx.WriteJSON(w, status, v, encodeFailure)
}

func writeFailure(w http.ResponseWriter, f *apiFailure) {
	writeJSON(w, f.status, envelope{Status: "error", Error: &f.APIError})
}
