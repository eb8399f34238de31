package sandbox

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
	"unicode/utf8"

	"github.com/payoutflow/payoutflow/internal/faults"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers/internal/background"
	"github.com/payoutflow/payoutflow/providers/internal/delivery"
	"github.com/payoutflow/payoutflow/providers/internal/httpx"
	"github.com/payoutflow/payoutflow/providers/internal/sandboxkit"
)

// Magic card numbers of the sandbox. Any other valid card number behaves like SandboxCardSucceeds.
const (
	// SandboxCardSucceeds waits for confirmation (ready_to_confirm), then pays out (payment_finished, succeeded).
	SandboxCardSucceeds = "4242424242424242"
	// SandboxCardDeclined is declined by the issuer right after start: payment_finished, failed,
	// declined_by_issuer_bank; no ready_to_confirm. As a transfer's recipient card it is declined after 3-D Secure.
	SandboxCardDeclined = "4000000000000002"
	// SandboxCardFailsLater waits for confirmation like any card, then fails: payment_finished, failed,
	// provider_issuer_unavailable.
	SandboxCardFailsLater = "4000000000000119"
	// SandboxCardErrorThenSucceeds waits for confirmation; after confirm the session stays in status error
	// (provider_timeout, payout in_progress) for SandboxConfig.ErrorHold, then the payout succeeds.
	SandboxCardErrorThenSucceeds = "4000000000000101"
)

// Magic tokenized_card tokens of the sandbox. A token not listed here is unknown: token/info and a payout with it
// are refused with invalid_request.
const (
	// SandboxTokenSucceeds (the token of the token payout guide) is visa •4242 and behaves like SandboxCardSucceeds.
	SandboxTokenSucceeds = "759c9852dde2211d7531b3d905c1d513fbfb914bee87fb567d99c7b2f2c2ad44"
	// SandboxTokenDeclined is mastercard •4444 and behaves like SandboxCardDeclined.
	SandboxTokenDeclined = "0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad"
	// SandboxTokenUnknown is a token the sandbox does not know, like any other token not listed.
	SandboxTokenUnknown = "deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef"
)

// Magic SBP phone numbers of the sandbox (sent to the bank as digits, without "+"). Any other phone of 7 and 10
// digits behaves like SandboxPhoneSucceeds.
const (
	// SandboxPhoneSucceeds waits for confirmation (ready_to_confirm), then pays out.
	SandboxPhoneSucceeds = "+79001310001"
	// SandboxPhoneRejected is refused by the recipient's bank right after start: payment_finished, failed,
	// account_not_found; no ready_to_confirm.
	SandboxPhoneRejected = "+79001310002"
	// SandboxPhoneErrorThenSucceeds behaves like SandboxCardErrorThenSucceeds.
	SandboxPhoneErrorThenSucceeds = "+79001310003"
)

// SandboxBankID is an SBP bank of the sandbox's fps/banks list (Sberbank's SBP id).
const SandboxBankID = "100000000111"

// sandboxBanks is the sandbox's fps/banks list; a payout to a bank_id not in it is refused.
var sandboxBanks = []SBPBank{
	{ID: "100000000111", Name: "Sberbank", RuName: "Сбербанк"},
	{ID: "100000000004", Name: "T-Bank", RuName: "Т-Банк"},
	{ID: "100000000005", Name: "VTB Bank", RuName: "Банк ВТБ"},
	{ID: "100000000008", Name: "Alfa-Bank", RuName: "Альфа-Банк"},
	{ID: "100000000069", Name: "Demo Bank", RuName: "Демо Банк"},
}

// SandboxBanks returns the sandbox's list of SBP banks, as its fps/banks answers it.
func SandboxBanks() []SBPBank { return append([]SBPBank{}, sandboxBanks...) }

// sandboxToken is a card behind a magic token.
type sandboxToken struct {
	brand, last4 string
	behaviour    cardBehaviour
}

var sandboxTokens = map[string]sandboxToken{
	SandboxTokenSucceeds: {brand: "visa", last4: "4242", behaviour: cardSucceeds},
	SandboxTokenDeclined: {brand: "mastercard", last4: "4444", behaviour: cardDeclined},
}

// Sandbox tuning.
const (
	defaultWebhookDelay = 20 * time.Millisecond
	defaultErrorHold    = 3 * time.Second
	maxFPSDescription   = 140
	sandboxAPIPrefix    = "/api/v1/"
	sandbox3DSPrefix    = "/_sandbox/3ds/"
)

// SandboxConfig configures a Sandbox.
type SandboxConfig struct {
	// PartnerPublicKey verifies X-PARTNER-SIGN on requests; with none, every request is refused.
	PartnerPublicKey *rsa.PublicKey
	// BankPrivateKey signs webhooks; with none, no webhook is sent.
	BankPrivateKey *rsa.PrivateKey
	// Project is the expected X-PARTNER-PROJECT; empty accepts any.
	Project string
	// PromoRates are the promo rates by their project's id, which a transfer at one must send in X-PARTNER-PROJECT
	// (seed 002); nil is {SandboxPromoProject: SandboxPromoRate}.
	PromoRates map[string]string
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
	// NoWebhooks sends no webhook at all, as a bank that was asked for none: the partner must poll session/status.
	// It may be changed later with SetNoWebhooks.
	NoWebhooks bool
	// ErrorHold is how long a session of the error mode (SandboxCardErrorThenSucceeds,
	// SandboxPhoneErrorThenSucceeds) stays in status error after confirm; 3 s when zero.
	ErrorHold time.Duration
	// PublicURL is the sandbox's own base URL, for the 3-D Secure redirect of a transfer; taken from the request's
	// Host when empty.
	PublicURL string
}

// Ledger methods: how the money of a ledger entry travelled.
const (
	LedgerCard     = "card"
	LedgerToken    = "token"
	LedgerSBP      = "sbp"
	LedgerTransfer = "transfer"
)

// LedgerEntry is one payout the sandbox executed: money that "moved".
type LedgerEntry struct {
	SessionID string `json:"session_id"`
	PaymentID string `json:"payment_id"`
	// Metadata is the payout's metadata: a JSON string's value, or the raw JSON of any other value.
	Metadata string `json:"metadata"`
	// Method is card, token, sbp or transfer (Ledger*).
	Method string `json:"method"`
	// SourceAccount is the account paid from: "" (default), nominal or settlement.
	SourceAccount string `json:"source_account,omitempty"`
	// Amount and Currency are what the recipient got.
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	CardLast4 string `json:"card_last4,omitempty"`
	// PhoneLast4 and BankID are an SBP payout's.
	PhoneLast4 string `json:"phone_last4,omitempty"`
	BankID     string `json:"bank_id,omitempty"`
	// SourceAmount and SourceCurrency are what a transfer's sender paid.
	SourceAmount   int64     `json:"source_amount,omitempty"`
	SourceCurrency string    `json:"source_currency,omitempty"`
	ExecutedAt     time.Time `json:"executed_at"`
}

// Sandbox simulates Bank 131's API for payouts to cards (by number or token) and by SBP, and for cross-border
// transfers, in memory or saved to a file (OpenSandbox): it verifies signed requests, moves sessions through their
// states, keeps a ledger of executed payouts and sends signed webhooks. It is an http.Handler.
type Sandbox struct {
	partnerKey *rsa.PublicKey
	bankKey    *rsa.PrivateKey
	project    string
	promoRates map[string]string
	delay      time.Duration
	errorHold  time.Duration
	publicURL  string
	http       *http.Client
	log        *slog.Logger
	state      sandboxkit.State[sandboxState] // the zero State: in memory only

	// tasks runs the delayed steps and the webhook deliveries; Close stops them.
	tasks    *background.Group
	webhooks *delivery.Queue

	mu         sync.Mutex
	closed     bool
	noWebhooks bool
	webhookURL string
	lastID     int64
	sessions   map[string]*sandboxSession
	seenKeys   map[string]bool // method + "\x00" + idempotency key
	ledger     []LedgerEntry
	// savedLedger is how many of the ledger's entries the state file holds.
	savedLedger int
	// failNext is how many accepted money-moving calls still answer 504 after they took effect.
	failNext int
}

// cardBehaviour is what the sandbox does with a payout to a card.
type cardBehaviour string

const (
	cardSucceeds   cardBehaviour = "succeeds"
	cardDeclined   cardBehaviour = "declined"
	cardFailsLater cardBehaviour = "fails_later"
	// errorThenSucceeds: after confirm the session is in error for a while, then the payout succeeds.
	errorThenSucceeds cardBehaviour = "error_then_succeeds"
	// sbpRejected: the recipient's bank refuses the SBP payout right after start.
	sbpRejected cardBehaviour = "sbp_rejected"
)

// sandboxSession is a session's state. It never holds a card number or security code: only a card's brand, last
// four digits and behaviour.
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
	// errorUntil is when a session of the error mode leaves status error; zero before it entered it.
	errorUntil time.Time
	// acquiring is a transfer's charge of the sender's card.
	acquiring *sandboxAcquiring
	// webhooks keeps the session's webhooks in order.
	webhooks delivery.Line
	// sent holds the webhook types answered 200, which are not sent again after a restart.
	sent map[string]bool
}

type sandboxPayment struct {
	id     string
	status string
	err    *APIError
	// method is card, token, sbp or transfer (Ledger*); "" is card (a state saved before there were others).
	method string
	// account is the source account: "", nominal or settlement.
	account string
	brand   string
	last4   string
	// token is a token payout's tokenized_card token, shown back as the bank shows it.
	token string
	// phone (digits), bankID and description are an SBP payout's.
	phone       string
	bankID      string
	description string
	behaviour   cardBehaviour
	amount      int64
	currency    string
	metadata    json.RawMessage
	createdAt   time.Time
	finishedAt  time.Time
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
	return fault(http.StatusBadRequest, CodeInvalidRequest, format, args...)
}

// NewSandbox returns a sandbox with no sessions that keeps its state in memory only (see OpenSandbox). Close it
// to stop its pending webhooks.
func NewSandbox(cfg SandboxConfig) *Sandbox {
	if cfg.WebhookDelay <= 0 {
		cfg.WebhookDelay = defaultWebhookDelay
	}
	if cfg.ErrorHold <= 0 {
		cfg.ErrorHold = defaultErrorHold
	}
	m := sandboxkit.NewMachinery("webhook", cfg.HTTPClient, cfg.Logger)
	return &Sandbox{
		partnerKey: cfg.PartnerPublicKey,
		bankKey:    cfg.BankPrivateKey,
		project:    cfg.Project,
		promoRates: promoRates(cfg.PromoRates),
		delay:      cfg.WebhookDelay,
		errorHold:  cfg.ErrorHold,
		publicURL:  strings.TrimRight(cfg.PublicURL, "/"),
		noWebhooks: cfg.NoWebhooks,
		http:       m.HTTP,
		log:        m.Log,
		tasks:      m.Tasks,
		webhooks:   m.Queue,
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

// SetNoWebhooks stops (true) or resumes (false) sending webhooks; a webhook not sent while they are stopped is not
// sent later, except as a restart resends what a session's state calls for.
func (s *Sandbox) SetNoWebhooks(none bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noWebhooks = none
}

// Ledger returns the payouts executed so far, in order.
func (s *Sandbox) Ledger() []LedgerEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LedgerEntry{}, s.ledger...)
}

// Close stops pending steps and webhook deliveries, waits for them to end, then writes the whole state to its file
// once more and closes it. The API keeps answering, in memory only.
func (s *Sandbox) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.tasks.Close()
	s.mu.Lock()
	s.state.Close()
	s.mu.Unlock()
}

// ServeHTTP serves the API under /api/v1/, the ledger, unsigned, at GET /_sandbox/ledger, and the payer's 3-D
// Secure page of a transfer at /_sandbox/3ds/<session id>.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == sandboxkit.LedgerPath && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Ledger())
	case strings.HasPrefix(r.URL.Path, sandbox3DSPrefix):
		s.serve3DS(w, r)
	case strings.HasPrefix(r.URL.Path, sandboxAPIPrefix):
		s.serveAPI(w, r)
	default:
		writeFailure(w, fault(http.StatusNotFound, CodeInvalidRequest, "no such path: %s", r.URL.Path))
	}
}

// serveAPI checks who calls, then runs the method.
func (s *Sandbox) serveAPI(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.URL.Path, sandboxAPIPrefix)
	want := http.MethodPost
	if op == opFPSBanks {
		want = http.MethodGet
	}
	if r.Method != want {
		writeFailure(w, fault(http.StatusMethodNotAllowed, CodeInvalidRequest, "use %s", want))
		return
	}
	body, err := httpx.ReadRequest(w, r)
	if err != nil {
		writeFailure(w, invalid("cannot read the request body"))
		return
	}
	project := r.Header.Get(headerProject)
	if !s.knownProject(project) {
		writeFailure(w, fault(http.StatusForbidden, CodeIdentificationError, "unknown or missing %s", headerProject))
		return
	}
	// The signature covers the exact bytes that came, an empty body (a GET) included.
	if err := Verify(s.partnerKey, body, r.Header.Get(headerSign)); err != nil {
		writeFailure(w, fault(http.StatusUnauthorized, CodeAuthenticationError, "%s is missing or does not verify", headerSign))
		return
	}

	var method func([]byte) (*sandboxSession, *apiFailure)
	switch op {
	case opFPSBanks:
		writeJSON(w, http.StatusOK, envelope{Status: "ok", Banks: SandboxBanks()})
		return
	case opTokenInfo:
		info, fail := tokenInfo(body)
		if fail != nil {
			s.log.Debug("call refused", "method", op, "http_status", fail.status, "code", fail.Code)
			writeFailure(w, fail)
			return
		}
		writeJSON(w, http.StatusOK, envelope{Status: "ok", Info: &info})
		return
	case opCreate:
		method = s.create
	case opStart:
		method = s.start
	case opInit:
		method = func(b []byte) (*sandboxSession, *apiFailure) { return s.initPayout(b, "") }
	case opInitNominal:
		method = func(b []byte) (*sandboxSession, *apiFailure) { return s.initPayout(b, payout.SourceNominal) }
	case opInitRKO:
		method = func(b []byte) (*sandboxSession, *apiFailure) { return s.initPayout(b, payout.SourceSettlement) }
	case opMultiInit:
		base := s.baseURL(r)
		method = func(b []byte) (*sandboxSession, *apiFailure) { return s.multiInit(b, base, project) }
	case opConfirm:
		method = s.confirm
	case opCancel:
		method = s.cancel
	case opStatus:
		method = s.status
	default:
		writeFailure(w, fault(http.StatusNotFound, CodeInvalidRequest, "unknown method %s", op))
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
	lost := false
	if fail == nil {
		var seen []string
		if key != "" {
			s.seenKeys[op+"\x00"+key] = true
			seen = append(seen, op+"\x00"+key)
		}
		snap = sess.view()
		if op != opStatus {
			s.save(sess, seen...)
		} else {
			snap, fail = lagged(sess, snap, faults.LagOf(r))
		}
		if lost = s.failNext > 0 && movesMoney(op); lost {
			s.failNext--
		}
	}
	s.mu.Unlock()

	if lost {
		s.log.Debug("call took effect, answer lost (FailNext)", "method", op, "session", snap.ID)
		w.WriteHeader(http.StatusGatewayTimeout)
		return
	}
	if fail != nil {
		s.log.Debug("call refused", "method", op, "http_status", fail.status, "code", fail.Code)
		writeFailure(w, fail)
		return
	}
	s.log.Debug("call", "method", op, "session", snap.ID, "session_status", snap.Status)
	writeJSON(w, http.StatusOK, envelope{Status: "ok", Session: &snap})
}

// lagged is the session as a session/status call that lags behind the bank's writes (faults.Lag) sees it: a
// session created within the lag does not exist yet, a payout started within it is not in the session yet, and a
// payout finished within it (paid or failed) is still in progress, or, cancelled, still waits for confirmation.
// Without the fault it is the session as it is. Called with s.mu held.
func lagged(sess *sandboxSession, v Session, lag faults.Lag) (Session, *apiFailure) {
	if lag.Hides(sess.createdAt) {
		return Session{}, invalid("session_id: no session %s", sess.id)
	}
	unfinished := func(status, next, payment string) {
		v.Status, v.NextAction, v.Error, v.FinishedAt = status, next, nil, Timestamp{}
		if payment != "" && len(v.Payments) > 0 {
			v.Payments[0].Status, v.Payments[0].Error, v.Payments[0].FinishedAt = payment, nil, Timestamp{}
		}
	}
	p := sess.payment
	switch {
	case p == nil:
		if sess.status == sessionCancelled && lag.Hides(sess.finishedAt) {
			unfinished(sessionCreated, "", "")
		}
	case lag.Hides(p.createdAt):
		unfinished(sessionCreated, "", "")
		v.Payments, v.AcquiringPayments = nil, nil
	case sess.status == sessionCancelled && lag.Hides(sess.finishedAt):
		unfinished(sessionInProgress, nextActionConfirm, paymentPending)
	case (p.status == paymentSucceeded || p.status == paymentFailed) && lag.Hides(p.finishedAt):
		unfinished(sessionInProgress, "", paymentInProgress)
	}
	return v, nil
}

// FailNext makes the next n accepted calls that move money (init/payout and its variants, start/payout,
// multi/init, confirm) take effect as usual but answer 504 Gateway Timeout with no body: the answer is lost, the
// case a lookup or the idempotency key must resolve. It is not saved.
func (s *Sandbox) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = max(n, 0)
}

func movesMoney(op string) bool {
	switch op {
	case opStart, opInit, opInitNominal, opInitRKO, opMultiInit, opConfirm:
		return true
	}
	return false
}

// baseURL is the sandbox's own URL: PublicURL, or the scheme and host the request came to.
func (s *Sandbox) baseURL(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// create is session/create: a new session with no payout. Called with s.mu held, like every method.
func (s *Sandbox) create(body []byte) (*sandboxSession, *apiFailure) {
	var in struct {
		Metadata json.RawMessage `json:"metadata"`
	}
	if f := decode(body, &in); f != nil {
		return nil, f
	}
	return s.newSession(in.Metadata), nil
}

// newSession adds a created session. Called with s.mu held.
func (s *Sandbox) newSession(metadata json.RawMessage) *sandboxSession {
	now := time.Now()
	sess := &sandboxSession{
		id:        s.newID("ps_"),
		status:    sessionCreated,
		metadata:  metadata,
		createdAt: now,
		updatedAt: now,
	}
	s.sessions[sess.id] = sess
	return sess
}

// start is session/start/payout: a payout in a created session, then ready_to_confirm (or a refusal).
func (s *Sandbox) start(body []byte) (*sandboxSession, *apiFailure) {
	in, metadata, f := decodePayout(body)
	if f != nil {
		return nil, f
	}
	sess, f := s.session(in.SessionID)
	if f != nil {
		return nil, f
	}
	p, f := s.newPayment(in, metadata, "")
	if f != nil {
		return nil, f
	}
	if sess.status != sessionCreated || sess.payment != nil {
		return nil, wrongState(sess)
	}
	s.begin(sess, p)
	return sess, nil
}

// initPayout is session/init/payout and its nominal and rko variants: a session created with its payout, which
// then goes on like a started one (ready_to_confirm, confirm), as the token payout guide describes it.
func (s *Sandbox) initPayout(body []byte, account string) (*sandboxSession, *apiFailure) {
	in, metadata, f := decodePayout(body)
	if f != nil {
		return nil, f
	}
	if in.SessionID != "" {
		return nil, invalid("session_id is not taken here: init creates the session")
	}
	p, f := s.newPayment(in, metadata, account)
	if f != nil {
		return nil, f
	}
	sess := s.newSession(metadata)
	s.begin(sess, p)
	return sess, nil
}

// begin puts the payout into the session and schedules the bank's offer. Called with s.mu held.
func (s *Sandbox) begin(sess *sandboxSession, p *sandboxPayment) {
	now := time.Now()
	p.id = s.newID("po_")
	p.status = paymentInProgress
	p.createdAt = now
	sess.payment = p
	sess.status = sessionInProgress
	sess.updatedAt = now
	s.after(sess.id, s.offer)
}

// decodePayout reads a start or init body and its raw metadata.
func decodePayout(body []byte) (startPayoutBody, json.RawMessage, *apiFailure) {
	var in startPayoutBody
	if f := decode(body, &in); f != nil {
		return in, nil, f
	}
	var raw struct {
		Metadata json.RawMessage `json:"metadata"`
	}
	_ = json.Unmarshal(body, &raw) // body decoded above
	return in, raw.Metadata, nil
}

// newPayment checks a payout as the bank would and returns it, not yet in a session. It names the wrong field,
// never its value.
func (s *Sandbox) newPayment(in startPayoutBody, metadata json.RawMessage, account string) (*sandboxPayment,
	*apiFailure) {
	p := &sandboxPayment{account: account, currency: "rub", metadata: metadata, behaviour: cardSucceeds}
	pm := in.PaymentMethod
	switch {
	case pm == nil:
		return nil, invalid("payment_method is required")
	case pm.Type == "card":
		if f := payoutCard(pm.Card, p); f != nil {
			return nil, f
		}
		if in.ParticipantDetails == nil || in.ParticipantDetails.Recipient == nil ||
			strings.TrimSpace(in.ParticipantDetails.Recipient.FullName) == "" {
			return nil, invalid("participant_details.recipient.full_name is required")
		}
	case pm.Type == "bank_account":
		if f := payoutFPS(pm.BankAccount, p); f != nil {
			return nil, f
		}
	default:
		return nil, invalid("payment_method.type must be card or bank_account: the sandbox pays out to cards and by SBP")
	}
	switch {
	case in.AmountDetails == nil:
		return nil, invalid("amount_details is required")
	case in.AmountDetails.Amount <= 0:
		return nil, invalid("amount_details.amount must be greater than 0")
	case !strings.EqualFold(in.AmountDetails.Currency, "rub"):
		return nil, invalid("amount_details.currency must be rub")
	}
	p.amount = in.AmountDetails.Amount
	return p, nil
}

// payoutCard checks a payout's card, by number or token, and fills in p.
func payoutCard(c *cardBody, p *sandboxPayment) *apiFailure {
	switch {
	case c == nil || (c.Type != "bank_card" && c.Type != "tokenized_card"):
		return invalid("payment_method.card.type must be bank_card or tokenized_card")
	case c.Type == "tokenized_card":
		if c.TokenizedCard == nil || c.TokenizedCard.Token == "" {
			return invalid("payment_method.card.tokenized_card.token is required")
		}
		tok, ok := sandboxTokens[c.TokenizedCard.Token]
		if !ok {
			return invalid("payment_method.card.tokenized_card.token: no such token")
		}
		p.method, p.token, p.brand, p.last4, p.behaviour = LedgerToken, c.TokenizedCard.Token, tok.brand, tok.last4,
			tok.behaviour
		return nil
	case c.BankCard == nil || c.BankCard.Number == "":
		return invalid("payment_method.card.bank_card.number is required")
	case !validCardNumber(c.BankCard.Number):
		return invalid("payment_method.card.bank_card.number is not a card number: 14 to 19 digits passing the Luhn check")
	}
	number := c.BankCard.Number
	p.method, p.brand, p.last4 = LedgerCard, payout.CardBrand(number), number[len(number)-4:]
	switch number {
	case SandboxCardDeclined:
		p.behaviour = cardDeclined
	case SandboxCardFailsLater:
		p.behaviour = cardFailsLater
	case SandboxCardErrorThenSucceeds:
		p.behaviour = errorThenSucceeds
	}
	return nil
}

// payoutFPS checks an SBP payout (bank_account faster_payment_system) and fills in p.
func payoutFPS(ba *BankAccountDetails, p *sandboxPayment) *apiFailure {
	const field = "payment_method.bank_account.faster_payment_system"
	switch {
	case ba == nil:
		return invalid("payment_method.bank_account is required")
	case ba.SystemType != systemFPS:
		return invalid("payment_method.bank_account.system_type must be faster_payment_system: the sandbox pays bank accounts by SBP only")
	case ba.FasterPaymentSystem == nil:
		return invalid("%s is required", field)
	}
	fps := ba.FasterPaymentSystem
	switch {
	case !validFPSPhone(fps.Phone):
		return invalid("%s.phone must be 7 followed by 10 digits", field)
	case fps.BankID == "":
		return invalid("%s.bank_id is required", field)
	case !knownBank(fps.BankID):
		return invalid("%s.bank_id: no such bank in fps/banks", field)
	case strings.TrimSpace(fps.Description) == "":
		return invalid("%s.description is required", field)
	case utf8.RuneCountInString(fps.Description) > maxFPSDescription:
		return invalid("%s.description is longer than %d characters", field, maxFPSDescription)
	}
	p.method, p.phone, p.bankID, p.description = LedgerSBP, fps.Phone, fps.BankID, fps.Description
	switch "+" + fps.Phone {
	case SandboxPhoneRejected:
		p.behaviour = sbpRejected
	case SandboxPhoneErrorThenSucceeds:
		p.behaviour = errorThenSucceeds
	}
	return nil
}

// validFPSPhone reports whether phone is a Russian number as the bank takes it: 7 and 10 digits.
func validFPSPhone(phone string) bool {
	if len(phone) != 11 || phone[0] != '7' {
		return false
	}
	for _, c := range phone {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// knownBank reports whether id is in the sandbox's fps/banks list.
func knownBank(id string) bool {
	for _, b := range sandboxBanks {
		if b.ID == id {
			return true
		}
	}
	return false
}

// tokenInfo is token/info for a tokenized_card token.
func tokenInfo(body []byte) (TokenInfo, *apiFailure) {
	var in tokenInfoBody
	if f := decode(body, &in); f != nil {
		return TokenInfo{}, f
	}
	switch {
	case in.Type != "card":
		return TokenInfo{}, invalid("type must be card")
	case in.Card == nil || in.Card.Type != "tokenized_card":
		return TokenInfo{}, invalid("card.type must be tokenized_card")
	case in.Card.TokenizedCard == nil || in.Card.TokenizedCard.Token == "":
		return TokenInfo{}, invalid("card.tokenized_card.token is required")
	}
	tok, ok := sandboxTokens[in.Card.TokenizedCard.Token]
	if !ok {
		return TokenInfo{}, invalid("card.tokenized_card.token: no such token")
	}
	return TokenInfo{Token: in.Card.TokenizedCard.Token, Brand: tok.brand, Last4: tok.last4, Type: "card"}, nil
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

// offer runs after start: the payout waits for confirmation (ready_to_confirm), or the issuer (the recipient's
// bank) refuses it.
func (s *Sandbox) offer(sess *sandboxSession) {
	p := sess.payment
	if p == nil || p.status != paymentInProgress || sess.confirmed || sess.acquiring != nil {
		return
	}
	switch p.behaviour {
	case cardDeclined:
		s.fail(sess, APIError{Code: CodeDeclinedByIssuerBank, Description: "Declined by issuer bank"})
		s.notify(sess, hookPaymentFinished)
		return
	case sbpRejected:
		s.fail(sess, APIError{Code: CodeAccountNotFound, Description: "The recipient's bank found no account for the phone"})
		s.notify(sess, hookPaymentFinished)
		return
	}
	p.status = paymentPending
	sess.nextAction = nextActionConfirm
	sess.updatedAt = time.Now()
	s.notify(sess, hookReadyToConfirm)
}

// execute runs after confirm: the money moves, once, or the payout fails. In the error mode the session is first
// in status error for errorHold; execute runs again when it ends.
func (s *Sandbox) execute(sess *sandboxSession) {
	p := sess.payment
	if p == nil || !sess.confirmed || sess.executed || p.status != paymentInProgress {
		return
	}
	if p.behaviour == errorThenSucceeds {
		now := time.Now()
		if sess.errorUntil.IsZero() {
			sess.errorUntil = now.Add(s.errorHold)
			sess.status = sessionError
			sess.err = &APIError{Code: CodeProviderTimeout, Description: "The provider did not answer in time: wait for the final status"}
			sess.updatedAt = now
			s.afterDelay(s.errorHold, sess.id, s.execute)
			return
		}
		if now.Before(sess.errorUntil) {
			s.afterDelay(sess.errorUntil.Sub(now), sess.id, s.execute)
			return
		}
		sess.err = nil
	}
	sess.executed = true
	if p.behaviour == cardFailsLater {
		s.fail(sess, APIError{Code: CodeProviderIssuerUnavailable, Description: "Issuer unavailable"})
		s.notify(sess, hookPaymentFinished)
		return
	}
	s.pay(sess)
	s.notify(sess, hookPaymentFinished)
}

// pay records the payout in the ledger and ends it in success. Called with s.mu held.
func (s *Sandbox) pay(sess *sandboxSession) {
	p := sess.payment
	now := time.Now()
	e := LedgerEntry{
		SessionID:     sess.id,
		PaymentID:     p.id,
		Metadata:      metadataText(p.metadata, sess.metadata),
		Method:        p.method,
		SourceAccount: p.account,
		Amount:        p.amount,
		Currency:      p.currency,
		CardLast4:     p.last4,
		ExecutedAt:    now.UTC(),
	}
	if e.Method == "" {
		e.Method = LedgerCard
	}
	if p.method == LedgerSBP {
		e.PhoneLast4, e.BankID = lastN(p.phone, 4), p.bankID
	}
	if a := sess.acquiring; a != nil {
		e.SourceAmount, e.SourceCurrency = a.amount, a.currency
	}
	s.ledger = append(s.ledger, e)
	p.status = paymentSucceeded
	p.finishedAt = now
	sess.status = sessionAccepted
	sess.updatedAt = now
	sess.finishedAt = now
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
	s.afterDelay(s.delay, id, step)
}

// afterDelay is after with a delay of its own.
func (s *Sandbox) afterDelay(d time.Duration, id string, step func(*sandboxSession)) {
	if s.closed {
		return
	}
	s.tasks.After(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if sess := s.sessions[id]; sess != nil {
			step(sess)
			s.save(sess)
		}
	})
}

// notify sends a signed webhook of the session as it is now, after the session's earlier webhooks, unless
// webhooks are switched off. Called with s.mu held.
func (s *Sandbox) notify(sess *sandboxSession, typ string) {
	if s.closed || s.noWebhooks {
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
	s.save(sess)
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
			PaymentMethod: p.view(),
			AmountDetails: &AmountDetails{Amount: p.amount, Currency: p.currency},
			Metadata:      p.metadata,
			Error:         copyError(p.err),
		}}
	}
	if a := sess.acquiring; a != nil {
		v.AcquiringPayments = []AcquiringPayment{a.view(sess.payment)}
	}
	return v
}

// view is where the payout goes, as the bank shows it: a card masked (by token: the token, as the token payout
// guide shows it), an SBP account in full.
func (p *sandboxPayment) view() *PaymentMethod {
	switch p.method {
	case LedgerToken:
		return &PaymentMethod{Type: "card", Card: &MaskedCard{Type: "tokenized_card",
			TokenizedCard: &TokenizedCard{Token: p.token}}}
	case LedgerSBP:
		return &PaymentMethod{Type: "bank_account", BankAccount: &BankAccountDetails{SystemType: systemFPS,
			FasterPaymentSystem: &FPSAccount{Phone: p.phone, BankID: p.bankID, Description: p.description}}}
	}
	return &PaymentMethod{Type: "card", Card: &MaskedCard{Brand: p.brand, Last4: p.last4}}
}

func wrongState(sess *sandboxSession) *apiFailure {
	status := sess.status
	if sess.payment != nil {
		status += ", payout " + sess.payment.status
	}
	return fault(http.StatusBadRequest, CodeSessionWrongState, "session %s is %s", sess.id, status)
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
const encodeFailure = `{"status":"error","error":{"code":"` + CodeInternalError + `","description":"cannot encode the answer"}}`

func writeJSON(w http.ResponseWriter, status int, v any) {
	httpx.WriteJSON(w, status, v, encodeFailure)
}

func writeFailure(w http.ResponseWriter, f *apiFailure) {
	writeJSON(w, f.status, envelope{Status: "error", Error: &f.APIError})
}
