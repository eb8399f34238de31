package sandbox

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/payoutflow/payoutflow/internal/faults"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers/internal/background"
	"github.com/payoutflow/payoutflow/providers/internal/delivery"
	"github.com/payoutflow/payoutflow/providers/internal/httpx"
	"github.com/payoutflow/payoutflow/providers/internal/sandboxkit"
)

// Magic card numbers and tokens of the sandbox. Any other valid card number behaves like SandboxCardSucceeds; a
// token the sandbox does not know is refused as invalid.
const (
	// SandboxCardSucceeds is paid out at once: status successful in the answer.
	SandboxCardSucceeds = "4200000000000000"
	// SandboxCardDeclined is declined at once: status failed, message "Payout was declined", bank_code 05.
	SandboxCardDeclined = "4005550000000019"
	// SandboxCardPending is answered pending, and paid out (successful) after SandboxConfig.Delay.
	SandboxCardPending = "4012888888881881"
	// SandboxTokenSucceeds pays out at once to a Mastercard •4444 (the token of the seed's example).
	SandboxTokenSucceeds = "b4469f38-cec7-4f55-a86d-2ab2dc300e0b"
	// SandboxTokenDeclined is declined at once, like SandboxCardDeclined, for a Visa •0019.
	SandboxTokenDeclined = "0f6a3c1e-7d2b-4e59-9c84-5b1d2e3f4a60"
)

// Messages and codes the sandbox answers with.
const (
	msgProcessing  = "Payout is being processed"
	msgSucceeded   = "Successfully processed"
	msgDeclined    = "Payout was declined"
	bankCodeOK     = "00"
	bankCodeDenied = BankCodeDeclined
	msgDuplicate   = "Duplicate transaction: the same amount to the same card within 30 seconds"
)

// Sandbox tuning.
const (
	defaultSandboxDelay        = 20 * time.Millisecond
	defaultVerificationTimeout = 10 * time.Second
	duplicateWindow            = 30 * time.Second
	sandboxDrain               = 64 << 10
	sandboxListLimit           = 10
	maxHolder                  = 32
	maxText                    = 255
)

// languages bePaid accepts.
var languages = []string{"en", "es", "tr", "de", "it", "ru", "zh", "fr", "da", "sv", "no", "fi", "pl", "ja", "be",
	"uk", "ka", "ro"}

// SandboxConfig configures a Sandbox.
type SandboxConfig struct {
	// ShopID and SecretKey are the credentials every API request must carry as HTTP Basic auth; the sandbox sends
	// them with its notifications and verification requests too. With none set, every request is refused.
	ShopID    string
	SecretKey string
	// SigningKey signs notifications and verification requests (Content-Signature), as bePaid does with the
	// shop's key. Without it they go unsigned, and a receiver that checks signatures refuses them.
	SigningKey *rsa.PrivateKey
	// Delay is how long a pending payout takes to complete; 20 ms when zero.
	Delay time.Duration
	// VerificationTimeout bounds the wait for a verification answer; 10 s when zero.
	VerificationTimeout time.Duration
	// HTTPClient sends notifications and verification requests; a client with a 10 s timeout when nil.
	HTTPClient *http.Client
	// Logger receives what happens; nothing is logged when nil. It never gets a card number.
	Logger *slog.Logger
	// StateFile is where OpenSandbox keeps the state across restarts; NewSandbox ignores it.
	StateFile string
}

// LedgerEntry is one payout the sandbox executed: money that "moved".
type LedgerEntry struct {
	UID        string    `json:"uid"`
	TrackingID string    `json:"tracking_id"`
	Amount     int64     `json:"amount"`
	Currency   string    `json:"currency"`
	CardLast4  string    `json:"card_last4"`
	ExecutedAt time.Time `json:"executed_at"`
}

// Sandbox simulates bePaid's card payout API, in memory or saved to a file (OpenSandbox): it checks credentials,
// validates payout requests, refuses duplicates, asks the verification_url, keeps a ledger of executed payouts and
// sends signed notifications. It is an http.Handler.
type Sandbox struct {
	shopID        string
	secretKey     string
	key           *rsa.PrivateKey
	delay         time.Duration
	verifyTimeout time.Duration
	http          *http.Client
	log           *slog.Logger
	state         sandboxkit.State[sandboxState] // the zero State: in memory only
	// cardKey keys the hashes of card numbers and tokens (stamps, duplicate checks). It lives in memory only, so
	// that nothing on disk can be checked against guessed card numbers.
	cardKey []byte

	// tasks runs the delayed payouts and the notifications, and its context bounds verifications; Close stops
	// them all.
	tasks         *background.Group
	notifications *delivery.Queue

	mu     sync.Mutex
	closed bool
	lastID int64
	txs    map[string]*sandboxTx
	recent []recentPayout // for duplicate_check; in memory only
	ledger []LedgerEntry
	// savedLedger is how many of the ledger's entries the state file holds.
	savedLedger int
	failNext    int
}

// behaviour is what the sandbox does with a payout.
type behaviour string

const (
	behaviourSucceeds behaviour = "succeeds"
	behaviourDeclined behaviour = "declined"
	behaviourPending  behaviour = "pending_then_succeeds"
)

// txRecord is a payout transaction as the sandbox keeps it, and saves it. It never holds a card number: only the
// card as bePaid shows it.
type txRecord struct {
	Seq             int64          `json:"seq"`
	UID             string         `json:"uid"`
	Status          string         `json:"status"`
	Message         string         `json:"message"`
	TrackingID      string         `json:"tracking_id,omitempty"`
	Description     string         `json:"description"`
	Amount          int64          `json:"amount"`
	Currency        string         `json:"currency"`
	Language        string         `json:"language"`
	Test            bool           `json:"test,omitempty"`
	Card            CreditCard     `json:"card"`
	Behaviour       behaviour      `json:"behaviour"`
	NotificationURL string         `json:"notification_url,omitempty"`
	VerificationURL string         `json:"verification_url,omitempty"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
	PaidAt          time.Time      `json:"paid_at,omitzero"`
	Bank            *PayoutDetails `json:"bank,omitempty"`
	// Executed: the ledger has this payout. Notified: its notification was answered 200.
	Executed bool `json:"executed,omitempty"`
	Notified bool `json:"notified,omitempty"`
}

type sandboxTx struct {
	txRecord
	// completing is set while the transaction is being verified and decided, so that it is decided once.
	completing bool
	// notifications keeps the transaction's notifications in order.
	notifications delivery.Line
}

// recentPayout is a payout request remembered for duplicate_check: a keyed hash of amount and card, and when.
type recentPayout struct {
	fingerprint string
	at          time.Time
}

// sandboxToken is a card the sandbox knows by token.
type sandboxToken struct {
	card      CreditCard
	behaviour behaviour
}

var sandboxTokens = map[string]sandboxToken{
	SandboxTokenSucceeds: {CreditCard{Holder: "JOHN DOE", Brand: "master", Last4: "4444", First1: "5", BIN: "555555"},
		behaviourSucceeds},
	SandboxTokenDeclined: {CreditCard{Holder: "JOHN DOE", Brand: "visa", Last4: "0019", First1: "4", BIN: "400555"},
		behaviourDeclined},
}

// NewSandbox returns a sandbox with no transactions that keeps its state in memory only (see OpenSandbox). Close
// it to stop its pending work.
func NewSandbox(cfg SandboxConfig) *Sandbox {
	if cfg.Delay <= 0 {
		cfg.Delay = defaultSandboxDelay
	}
	if cfg.VerificationTimeout <= 0 {
		cfg.VerificationTimeout = defaultVerificationTimeout
	}
	m := sandboxkit.NewMachinery("notification", cfg.HTTPClient, cfg.Logger)
	if cfg.SigningKey == nil {
		m.Log.Warn("bepaid sandbox has no signing key: notifications and verification requests go unsigned")
	}
	cardKey := make([]byte, 32)
	_, _ = rand.Read(cardKey) // never fails
	return &Sandbox{
		shopID:        cfg.ShopID,
		secretKey:     cfg.SecretKey,
		key:           cfg.SigningKey,
		delay:         cfg.Delay,
		verifyTimeout: cfg.VerificationTimeout,
		http:          m.HTTP,
		log:           m.Log,
		cardKey:       cardKey,
		tasks:         m.Tasks,
		notifications: m.Queue,
		// IDs go on from the clock, so that a restarted sandbox never reuses the ID of a transaction it forgot.
		lastID: time.Now().UnixMilli(),
		txs:    make(map[string]*sandboxTx),
	}
}

// Ledger returns the payouts executed so far, in order.
func (s *Sandbox) Ledger() []LedgerEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LedgerEntry{}, s.ledger...)
}

// FailNext makes the next n payout requests that the sandbox accepts execute as usual (transaction, verification,
// ledger, notification, state) but answer 504 Gateway Timeout with an empty body: the payout happened and its
// answer was lost. Refused requests (credentials, validation, duplicate_check) do not count. It is not saved.
func (s *Sandbox) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = max(n, 0)
}

// Close stops pending payouts, verifications and notifications, waits for them to end, then writes the whole
// state to its file once more and closes it. The API keeps answering, in memory only.
func (s *Sandbox) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.tasks.Close()
	s.mu.Lock()
	s.state.Close()
	s.mu.Unlock()
}

// ServeHTTP serves the API (POST /transactions/payouts, GET /transactions/{uid}, GET
// /v2/transactions/tracking_id/{id}), each with the shop's Basic credentials, and the ledger, without them, at GET
// /_sandbox/ledger.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == sandboxkit.LedgerPath && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, s.Ledger())
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="bePaid sandbox"`)
		writeError(w, http.StatusUnauthorized, "Unauthorized", nil)
		return
	}
	path := r.URL.EscapedPath()
	switch {
	case path == "/transactions/payouts":
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "Use POST", nil)
			return
		}
		s.servePayout(w, r)
	case strings.HasPrefix(path, "/"+trackingIDPath) && r.Method == http.MethodGet:
		id, ok := lastSegment(path, "/"+trackingIDPath)
		if !ok {
			writeError(w, http.StatusNotFound, "Not found", nil)
			return
		}
		writeJSON(w, http.StatusOK, map[string][]Transaction{"transactions": s.byTrackingID(id, faults.LagOf(r))})
	case strings.HasPrefix(path, "/"+transactionsPath) && r.Method == http.MethodGet:
		uid, ok := lastSegment(path, "/"+transactionsPath)
		if !ok {
			writeError(w, http.StatusNotFound, "Not found", nil)
			return
		}
		s.mu.Lock()
		tx := s.txs[uid]
		var view Transaction
		seen := false
		if tx != nil {
			view, seen = tx.laggedView(faults.LagOf(r))
		}
		s.mu.Unlock()
		if !seen {
			writeError(w, http.StatusNotFound, "Transaction not found", nil)
			return
		}
		writeJSON(w, http.StatusOK, transactionEnvelope{Transaction: &view})
	default:
		writeError(w, http.StatusNotFound, "Not found", nil)
	}
}

// authorized checks the shop's Basic credentials, in constant time.
func (s *Sandbox) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || s.shopID == "" || s.secretKey == "" {
		return false
	}
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(s.shopID))
	passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(s.secretKey))
	return userOK&passOK == 1
}

// lastSegment reads the one escaped path segment after prefix.
func lastSegment(path, prefix string) (string, bool) {
	seg := strings.TrimPrefix(path, prefix)
	if seg == "" || strings.Contains(seg, "/") {
		return "", false
	}
	v, err := url.PathUnescape(seg)
	return v, err == nil && v != ""
}

// servePayout is POST /transactions/payouts.
func (s *Sandbox) servePayout(w http.ResponseWriter, r *http.Request) {
	body, err := httpx.ReadRequest(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "The request body cannot be read", nil)
		return
	}
	var in payoutEnvelope
	if err := json.Unmarshal(body, &in); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			// Name the field, never its value.
			field := strings.TrimPrefix(typeErr.Field, "request.")
			writeValidation(w, []fieldError{{field, "is invalid"}})
			return
		}
		writeError(w, http.StatusBadRequest, "The request body is not a JSON object", nil)
		return
	}
	if in.Request == nil {
		writeValidation(w, []fieldError{{"request", "can't be blank"}})
		return
	}
	req := in.Request
	now := time.Now()
	card, behaviour, errs := validatePayout(req, now)
	if len(errs) > 0 {
		s.log.Debug("payout refused: invalid", "tracking_id", req.TrackingID, "fields", fieldNames(errs))
		writeValidation(w, errs)
		return
	}
	cardSecret := "token:" + req.Card.Token
	if req.Card.Number != "" {
		cardSecret = "number:" + req.Card.Number
	}
	card.Stamp = s.hash("stamp", cardSecret)
	fingerprint := s.hash("duplicate", strconv.FormatInt(req.Amount, 10), cardSecret)

	s.mu.Lock()
	if req.DuplicateCheck == nil || *req.DuplicateCheck {
		if s.seenRecently(fingerprint, now) {
			s.mu.Unlock()
			s.log.Info("payout refused: duplicate", "tracking_id", req.TrackingID)
			writeError(w, http.StatusUnprocessableEntity, msgDuplicate, map[string]any{"base": []string{msgDuplicate}})
			return
		}
	}
	s.recent = append(s.recent, recentPayout{fingerprint: fingerprint, at: now})
	s.lastID++
	language := req.Language
	if language == "" {
		language = "en"
	}
	tx := &sandboxTx{txRecord: txRecord{
		Seq:             s.lastID,
		UID:             fmt.Sprintf("%d-%010x", s.lastID, mathrand.Uint64()&0xffffffffff),
		Status:          StatusPending,
		Message:         msgProcessing,
		TrackingID:      req.TrackingID,
		Description:     req.Description,
		Amount:          req.Amount,
		Currency:        req.Currency,
		Language:        language,
		Test:            req.Test,
		Card:            card,
		Behaviour:       behaviour,
		NotificationURL: req.NotificationURL,
		VerificationURL: req.VerificationURL,
		CreatedAt:       now,
		UpdatedAt:       now,
	}}
	s.txs[tx.UID] = tx
	s.save(tx)
	s.mu.Unlock()
	s.log.Info("payout accepted", "uid", tx.UID, "tracking_id", tx.TrackingID, "amount", tx.Amount,
		"currency", tx.Currency, "card_last4", card.Last4, "behaviour", behaviour)

	if behaviour == behaviourPending {
		s.mu.Lock()
		s.after(tx.UID)
		s.mu.Unlock()
	} else {
		s.complete(tx.UID) // verification, if asked for, happens before the answer
	}

	s.mu.Lock()
	view := tx.view()
	lose := s.failNext > 0
	if lose {
		s.failNext--
	}
	s.mu.Unlock()
	if lose {
		s.log.Info("payout answer dropped: 504 (FailNext)", "uid", view.UID)
		w.WriteHeader(http.StatusGatewayTimeout)
		return
	}
	writeJSON(w, http.StatusOK, transactionEnvelope{Transaction: &view})
}

// seenRecently reports whether a payout with this fingerprint came within the duplicate window, and forgets older
// ones. Called with s.mu held.
func (s *Sandbox) seenRecently(fingerprint string, now time.Time) bool {
	s.recent = slices.DeleteFunc(s.recent, func(p recentPayout) bool { return now.Sub(p.at) >= duplicateWindow })
	return slices.ContainsFunc(s.recent, func(p recentPayout) bool { return p.fingerprint == fingerprint })
}

// hash is a keyed hash of parts, keyed by the sandbox's in-memory key.
func (s *Sandbox) hash(parts ...string) string {
	m := hmac.New(sha256.New, s.cardKey)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(m.Sum(nil))
}

// byTrackingID lists up to 10 transactions with the tracking_id, the newest first, as a call with lag sees them.
func (s *Sandbox) byTrackingID(id string, lag faults.Lag) []Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []*sandboxTx
	for _, tx := range s.txs {
		if tx.TrackingID == id {
			found = append(found, tx)
		}
	}
	slices.SortFunc(found, func(a, b *sandboxTx) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.Seq, a.Seq)
	})
	out := []Transaction{}
	for _, tx := range found {
		if v, seen := tx.laggedView(lag); seen && len(out) < sandboxListLimit {
			out = append(out, v)
		}
	}
	return out
}

// laggedView is the transaction as a status call that lags behind bePaid's writes (faults.Lag) sees it: one
// created within the lag is not seen at all (seen is false), one decided within it is still pending. Without the
// fault it is the view. Called with s.mu held.
func (tx *sandboxTx) laggedView(lag faults.Lag) (v Transaction, seen bool) {
	if lag.Hides(tx.CreatedAt) {
		return Transaction{}, false
	}
	v = tx.view()
	if final(tx.Status) && lag.Hides(tx.UpdatedAt) {
		v.Status, v.Message, v.PaidAt, v.AdditionalData = StatusPending, msgProcessing, "", nil
		v.UpdatedAt = timestamp(tx.CreatedAt)
	}
	return v, true
}

// complete asks the verification_url, if there is one, then decides the payout: executed (ledger entry), or
// failed. It does nothing to a transaction that is final or being decided, and leaves it pending when the sandbox
// closes meanwhile.
func (s *Sandbox) complete(uid string) {
	s.mu.Lock()
	tx := s.txs[uid]
	if tx == nil || s.closed || final(tx.Status) || tx.completing {
		s.mu.Unlock()
		return
	}
	tx.completing = true
	verifyURL, amount := tx.VerificationURL, tx.Amount
	var question []byte
	if verifyURL != "" {
		view := tx.view()
		question, _ = json.Marshal(transactionEnvelope{Transaction: &view}) // plain fields: always marshals
	}
	s.mu.Unlock()

	approved, message := true, ""
	if verifyURL != "" {
		approved, message = s.verify(verifyURL, question, uid, amount)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	tx.completing = false
	if s.tasks.Context().Err() != nil || final(tx.Status) {
		return // closing: resumed on the next start
	}
	switch {
	case !approved:
		s.fail(tx, message, "")
	case tx.Behaviour == behaviourDeclined:
		s.fail(tx, msgDeclined, bankCodeDenied)
	default:
		s.execute(tx)
	}
	s.log.Info("payout decided", "uid", tx.UID, "status", tx.Status, "message", tx.Message)
	s.notify(tx)
	s.save(tx)
}

// verify asks the verification_url whether to go on: only an HTTP 200 answer with code 0 and the transaction's
// uid and amount approves. Anything else (another code, status or body, no answer in time) declines, with the
// answer's message when it gave one.
func (s *Sandbox) verify(target string, body []byte, uid string, amount int64) (bool, string) {
	ctx, cancel := context.WithTimeout(s.tasks.Context(), s.verifyTimeout)
	defer cancel()
	resp, err := s.post(ctx, target, body)
	if err != nil {
		s.log.Warn("verification failed: declined", "uid", uid, "err", err)
		return false, defaultDeclineMessage
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, sandboxDrain))
	if err != nil || resp.StatusCode != http.StatusOK {
		s.log.Warn("verification not answered 200: declined", "uid", uid, "http_status", resp.StatusCode)
		return false, defaultDeclineMessage
	}
	var ans struct {
		Code    Text   `json:"code"`
		UID     string `json:"uid"`
		Amount  int64  `json:"amount"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		s.log.Warn("verification answer unreadable: declined", "uid", uid)
		return false, defaultDeclineMessage
	}
	if ans.Code == "0" && ans.UID == uid && ans.Amount == amount {
		return true, ""
	}
	message := ans.Message
	if message == "" {
		message = defaultDeclineMessage
	}
	s.log.Info("verification declined", "uid", uid, "code", ans.Code, "message", message)
	return false, message
}

// execute pays the payout out, once: the ledger gets it. Called with s.mu held.
func (s *Sandbox) execute(tx *sandboxTx) {
	if tx.Executed {
		return
	}
	now := time.Now()
	s.ledger = append(s.ledger, LedgerEntry{
		UID:        tx.UID,
		TrackingID: tx.TrackingID,
		Amount:     tx.Amount,
		Currency:   tx.Currency,
		CardLast4:  tx.Card.Last4,
		ExecutedAt: now.UTC(),
	})
	tx.Executed = true
	tx.Status, tx.Message = StatusSuccessful, msgSucceeded
	tx.UpdatedAt, tx.PaidAt = now, now
	tx.Bank = &PayoutDetails{
		Status:   StatusSuccessful,
		Message:  msgSucceeded,
		RefID:    Text(strconv.FormatUint(mathrand.Uint64N(1e18), 10)),
		RRN:      Text(fmt.Sprintf("%012d", mathrand.Uint64N(1e12))),
		AuthCode: Text(fmt.Sprintf("%06d", mathrand.Uint64N(1e6))),
		BankCode: bankCodeOK,
	}
}

// fail ends the payout in failure. Called with s.mu held.
func (s *Sandbox) fail(tx *sandboxTx, message, bankCode string) {
	tx.Status, tx.Message = StatusFailed, message
	tx.UpdatedAt = time.Now()
	tx.Bank = &PayoutDetails{Status: StatusFailed, Message: message, BankCode: Text(bankCode)}
}

func final(status string) bool { return status == StatusSuccessful || status == StatusFailed }

// after completes the transaction once the delay has passed, unless the sandbox is closed first. Called with s.mu
// held.
func (s *Sandbox) after(uid string) {
	if s.closed {
		return
	}
	s.tasks.After(s.delay, func() { s.complete(uid) })
}

// notify sends a signed notification of the transaction as it is now to its notification_url, after the
// transaction's earlier notifications. Called with s.mu held.
func (s *Sandbox) notify(tx *sandboxTx) {
	if s.closed || tx.NotificationURL == "" {
		return
	}
	view := tx.view()
	body, _ := json.Marshal(transactionEnvelope{Transaction: &view}) // plain fields: always marshals
	uid, target := tx.UID, tx.NotificationURL
	attempt := func(ctx context.Context) error { return s.postNotification(ctx, target, body) }
	s.notifications.Send(&tx.notifications, attempt, func() { s.markNotified(uid) }, "uid", uid)
}

// markNotified records that the transaction's notification was answered 200.
func (s *Sandbox) markNotified(uid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tx := s.txs[uid]; tx != nil {
		tx.Notified = true
		s.save(tx)
	}
}

// postNotification makes one delivery attempt.
func (s *Sandbox) postNotification(ctx context.Context, target string, body []byte) error {
	return delivery.Check(s.post(ctx, target, body))
}

// post sends body as bePaid sends notifications and verification requests: JSON, with the shop's Basic
// credentials and the Content-Signature of the exact bytes.
func (s *Sandbox) post(ctx context.Context, target string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", contentTypeJSON)
	req.Header.Set("Accept", contentTypeJSON)
	req.SetBasicAuth(s.shopID, s.secretKey)
	if s.key != nil {
		sig, err := Sign(s.key, body)
		if err != nil {
			return nil, err
		}
		req.Header.Set(headerSignature, sig)
	}
	return s.http.Do(req)
}

// view is the transaction as the API shows it, in the seed's shape.
func (tx *sandboxTx) view() Transaction {
	card := tx.Card
	repeat := tx.Card
	v := Transaction{
		UID:                 tx.UID,
		Status:              tx.Status,
		Amount:              tx.Amount,
		Currency:            tx.Currency,
		Description:         tx.Description,
		Type:                "payout",
		PaymentMethodType:   "credit_card",
		TrackingID:          tx.TrackingID,
		Message:             tx.Message,
		Test:                tx.Test,
		Language:            tx.Language,
		CreatedAt:           timestamp(tx.CreatedAt),
		UpdatedAt:           timestamp(tx.UpdatedAt),
		PaidAt:              timestamp(tx.PaidAt),
		RecipientCreditCard: &card,
		CreditCard:          &repeat,
	}
	if tx.Bank != nil {
		bank := *tx.Bank
		v.AdditionalData = &AdditionalData{Payout: &bank}
	}
	return v
}

// timestamp writes a time as bePaid does: UTC with milliseconds, e.g. 2021-07-01T13:44:56.936Z; empty when zero.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// fieldError is one parameter's error: its path ("recipient_credit_card.number") and message ("is invalid").
type fieldError struct {
	field, message string
}

// validatePayout checks a payout request as bePaid would and reads its card: masked, and what the sandbox does
// with it.
func validatePayout(p *PayoutRequest, now time.Time) (CreditCard, behaviour, []fieldError) {
	var errs []fieldError
	add := func(field, message string) { errs = append(errs, fieldError{field, message}) }

	if p.Amount <= 0 {
		add("amount", "must be greater than 0")
	}
	if !isCurrency(p.Currency) {
		add("currency", "is invalid")
	}
	switch n := len([]rune(p.Description)); {
	case strings.TrimSpace(p.Description) == "":
		add("description", "can't be blank")
	case n > maxText:
		add("description", "is too long (maximum is 255 characters)")
	}
	if len([]rune(p.TrackingID)) > maxText {
		add("tracking_id", "is too long (maximum is 255 characters)")
	}
	if p.Language != "" && !slices.Contains(languages, p.Language) {
		add("language", "is not included in the list")
	}
	for field, u := range map[string]string{"notification_url": p.NotificationURL, "verification_url": p.VerificationURL} {
		if u != "" && !isHTTPURL(u) {
			add(field, "is invalid")
		}
	}

	var card CreditCard
	behaviour := behaviourSucceeds
	c := p.Card
	switch {
	case c == nil || (c.Number == "" && c.Token == ""):
		add("recipient_credit_card.number", "can't be blank")
	case c.Number != "" && c.Token != "":
		add("recipient_credit_card.token", "must be blank when a number is given")
	case c.Token != "":
		known, ok := sandboxTokens[c.Token]
		if !ok {
			add("recipient_credit_card.token", "is invalid")
			break
		}
		card, behaviour = known.card, known.behaviour
		card.Token = c.Token
	default:
		if !isCardNumber(c.Number) {
			add("recipient_credit_card.number", "is invalid")
		}
		switch n := len([]rune(c.Holder)); {
		case strings.TrimSpace(c.Holder) == "":
			add("recipient_credit_card.holder", "can't be blank")
		case n > maxHolder:
			add("recipient_credit_card.holder", "is too long (maximum is 32 characters)")
		case payout.LooksLikeCardNumber(c.Holder):
			add("recipient_credit_card.holder", "is invalid")
		}
		// Seed 003: exp_month two digits (an integer, or the string of its example), exp_year an integer of four
		// digits; a string exp_year does not even decode (see servePayout).
		month, monthBlank, monthOK := expMonth(c.ExpMonth)
		switch {
		case monthBlank:
			add("recipient_credit_card.exp_month", "can't be blank")
		case !monthOK:
			add("recipient_credit_card.exp_month", "is invalid")
		}
		switch year := c.ExpYear; {
		case year == 0:
			add("recipient_credit_card.exp_year", "can't be blank")
		case year < 1000 || year > 9999:
			add("recipient_credit_card.exp_year", "is invalid")
		case monthOK && (year < now.Year() || (year == now.Year() && month < int(now.Month()))):
			add("recipient_credit_card.exp_year", "is expired")
		}
		if len(errs) > 0 {
			break
		}
		card = CreditCard{
			Holder: c.Holder,
			Brand:  bepaidBrand(payout.CardBrand(c.Number)),
			Last4:  c.Number[len(c.Number)-4:],
			First1: c.Number[:1],
			BIN:    c.Number[:6],
		}
		switch c.Number {
		case SandboxCardDeclined:
			behaviour = behaviourDeclined
		case SandboxCardPending:
			behaviour = behaviourPending
		}
	}
	slices.SortStableFunc(errs, func(a, b fieldError) int { return strings.Compare(a.field, b.field) })
	return card, behaviour, errs
}

// isCardNumber reports whether n is 12 to 19 digits that pass the Luhn check.
func isCardNumber(n string) bool {
	if len(n) < 12 || len(n) > 19 {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return payout.Luhn(n)
}

// isCurrency reports whether c is three upper-case letters.
func isCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// bepaidBrand names a brand as bePaid does (master, not mastercard).
func bepaidBrand(b string) string {
	switch b {
	case "mastercard":
		return "master"
	case "unknown":
		return ""
	}
	return b
}

func fieldNames(errs []fieldError) []string {
	var names []string
	for _, e := range errs {
		names = append(names, e.field)
	}
	return names
}

// writeValidation answers 422 in bePaid's documented shape: a message naming every wrong field, and the errors
// nested as the request is.
func writeValidation(w http.ResponseWriter, errs []fieldError) {
	nested := map[string]any{}
	var sentences []string
	for _, e := range errs {
		parts := strings.Split(e.field, ".")
		m := nested
		for _, p := range parts[:len(parts)-1] {
			sub, ok := m[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[p] = sub
			}
			m = sub
		}
		leaf := parts[len(parts)-1]
		msgs, _ := m[leaf].([]string)
		m[leaf] = append(msgs, e.message)
		name := strings.NewReplacer("_", " ", ".", " ").Replace(e.field)
		sentences = append(sentences, strings.ToUpper(name[:1])+name[1:]+" "+e.message+".")
	}
	writeError(w, http.StatusUnprocessableEntity, strings.Join(sentences, " "), nested)
}

// writeError answers with bePaid's error shape: {"message": ..., "errors": {...}}.
func writeError(w http.ResponseWriter, status int, message string, errs map[string]any) {
	if errs == nil {
		errs = map[string]any{}
	}
	writeJSON(w, status, map[string]any{"message": message, "errors": errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	httpx.WriteJSON(w, status, v, `{"message":"cannot encode the answer","errors":{}}`)
}
