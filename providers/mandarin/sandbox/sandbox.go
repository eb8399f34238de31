package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
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

// Magic values of the sandbox.
const (
	// SandboxPhoneSucceeds: an SBP payout to it succeeds (the seed's phone for payouts with the name). Without the
	// name, its status names the recipient SandboxFIOSucceeds.
	SandboxPhoneSucceeds = "+79001234567"
	// SandboxPhoneNoName: an SBP payout to it succeeds; without the name, its status names the recipient
	// SandboxFIONoName. Any other phone fails (SBP status fail, operation failed).
	SandboxPhoneNoName = "+79007654321"
	SandboxFIONoName   = "Ivan Ivanovich Ivanov"
	SandboxFIOSucceeds = "Petr Ivanovich S."

	// SandboxCardSucceeds (and any other valid card number) is paid out after Delay.
	SandboxCardSucceeds = "4012888888881881"
	// SandboxCardDeclined fails after Delay.
	SandboxCardDeclined = "4000000000000002"
	// SandboxTokenSucceeds (the seed's token) pays out to a Mastercard •4444; SandboxTokenDeclined fails, a Visa
	// •0002. Any other token is refused: 400 Invalid request.
	SandboxTokenSucceeds = "0eb51e74-e704-4c36-b5cb-8f0227621518"
	SandboxTokenDeclined = "5d0e7ae2-1c5e-4b8f-9a3c-7e1f2d3c4b5a"

	// DefaultSandboxBalance is each channel's balance of a new sandbox: 1 000 000.00 RUB.
	DefaultSandboxBalance int64 = 100_000_000
)

// SandboxBanks is the SBP bank list the sandbox answers: the banks of the seed and of the sandbox's test data.
var SandboxBanks = []Bank{
	{BankID: "100000000111", BankName: "Сбербанк", BankBIC: "044525225"},
	{BankID: "100000000008", BankName: "Альфа-Банк", BankBIC: "044525593"},
	{BankID: "100000000010", BankName: "Промсвязьбанк", BankBIC: "044525555"},
	{BankID: "100000000005", BankName: "ВТБ", BankBIC: "044525187"},
	{BankID: "100000000004", BankName: "Т-Банк", BankBIC: "044525974"},
	{BankID: "100000000007", BankName: "Райффайзенбанк", BankBIC: "044525700"},
}

// Sandbox tuning.
const (
	defaultSandboxDelay = 20 * time.Millisecond
	maxSeenRequestIDs   = 100_000
	maxOrderID          = 255
)

// Payout methods, as the sandbox records them.
const (
	methodToken     = "card_token"
	methodNumber    = "card_number"
	methodPage      = "payment_page"
	methodSBP       = "sbp"
	methodSBPNoName = "sbp_without_name"
)

// SandboxConfig configures a Sandbox.
type SandboxConfig struct {
	// MerchantID and Secret check every API request's X-Auth and sign the callbacks. With none set, every request
	// is refused.
	MerchantID string
	Secret     string
	// Delay is how long a payout takes to be decided (an SBP payout without the name: to be checked); 20 ms
	// when zero.
	Delay time.Duration
	// Channel is the account channel payouts are paid from; openbank_direct when empty.
	Channel string
	// PublicURL is the sandbox's own base URL, for the payment page's userWebLink; taken from the request's Host
	// when empty.
	PublicURL string
	// HTTPClient sends callbacks; a client with a 10 s timeout when nil.
	HTTPClient *http.Client
	// Logger receives what happens; nothing is logged when nil. It never gets a card number.
	Logger *slog.Logger
	// StateFile is where OpenSandbox keeps the state across restarts; NewSandbox ignores it.
	StateFile string
}

// LedgerEntry is one payout the sandbox executed: money that "moved".
type LedgerEntry struct {
	TransactionID string    `json:"transaction_id"`
	OrderID       string    `json:"order_id"`
	Amount        int64     `json:"amount"`
	Price         string    `json:"price"`
	Channel       string    `json:"channel"`
	Method        string    `json:"method"`
	CardLast4     string    `json:"card_last4,omitempty"`
	PhoneLast4    string    `json:"phone_last4,omitempty"`
	ExecutedAt    time.Time `json:"executed_at"`
}

// Sandbox simulates Mandarin's payout API. It is an http.Handler.
type Sandbox struct {
	merchantID string
	secret     string
	delay      time.Duration
	channel    string
	publicURL  string
	http       *http.Client
	log        *slog.Logger
	state      sandboxkit.State[sandboxState] // the zero State: in memory only
	mux        *http.ServeMux

	tasks     *background.Group
	callbacks *delivery.Queue

	mu      sync.Mutex
	closed  bool
	lastSeq int64
	txs     map[string]*sandboxTx
	ledger  []LedgerEntry
	// savedLedger is how many of the ledger's entries the state file holds.
	savedLedger int
	balances    map[string]int64
	failNext    int
	// dropCallbacks sends no callbacks, so that the operation status is the only way to learn the result.
	dropCallbacks bool
	seen          map[string]bool // request ids of X-Auth; in memory only
	seenList      []string
}

// txRecord is a transaction as the sandbox keeps and saves it. It never holds a card number: brand, bin and last
// four digits only.
type txRecord struct {
	Seq         int64     `json:"seq"`
	ID          string    `json:"id"`
	OrderID     string    `json:"order_id"`
	Amount      int64     `json:"amount"`
	Method      string    `json:"method"`
	Succeeds    bool      `json:"succeeds"`
	State       string    `json:"state"`
	SBPStatus   string    `json:"sbp_status,omitempty"`
	FIO         string    `json:"fio,omitempty"`
	Confirmed   bool      `json:"confirmed,omitempty"`
	Rejected    bool      `json:"rejected,omitempty"`
	Error       string    `json:"error,omitempty"`
	CardBrand   string    `json:"card_brand,omitempty"`
	CardBIN     string    `json:"card_bin,omitempty"`
	CardLast4   string    `json:"card_last4,omitempty"`
	Email       string    `json:"email,omitempty"`
	Phone       string    `json:"phone,omitempty"`
	CallbackURL string    `json:"callback_url,omitempty"`
	UserWebLink string    `json:"user_web_link,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Executed    bool      `json:"executed,omitempty"`
	Notified    bool      `json:"notified,omitempty"`
}

type sandboxTx struct {
	txRecord
	line delivery.Line
}

type sandboxCard struct {
	brand, bin, last4 string
	succeeds          bool
}

var sandboxTokens = map[string]sandboxCard{
	SandboxTokenSucceeds: {"mastercard", "555555", "4444", true},
	SandboxTokenDeclined: {"visa", "400000", "0002", false},
}

// NewSandbox returns a sandbox with no transactions that keeps its state in memory only (see OpenSandbox). Close
// it to stop its pending work.
func NewSandbox(cfg SandboxConfig) *Sandbox {
	if cfg.Delay <= 0 {
		cfg.Delay = defaultSandboxDelay
	}
	if cfg.Channel == "" {
		cfg.Channel = ChannelOpenbank
	}
	m := sandboxkit.NewMachinery("callback", cfg.HTTPClient, cfg.Logger)
	s := &Sandbox{
		merchantID: cfg.MerchantID,
		secret:     cfg.Secret,
		delay:      cfg.Delay,
		channel:    cfg.Channel,
		publicURL:  strings.TrimRight(cfg.PublicURL, "/"),
		http:       m.HTTP,
		log:        m.Log,
		tasks:      m.Tasks,
		callbacks:  m.Queue,
		// Sequence numbers go on from the clock, so that a restarted sandbox never reuses an id it forgot.
		lastSeq:  time.Now().UnixMilli(),
		txs:      map[string]*sandboxTx{},
		balances: map[string]int64{ChannelOpenbank: DefaultSandboxBalance, ChannelPSB: DefaultSandboxBalance},
		seen:     map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/transactions", s.auth(s.serveCreate))
	mux.HandleFunc("GET /api/sbp/banks", s.auth(s.serveBanks))
	mux.HandleFunc("GET /api/sbp/banks/", s.auth(s.serveBanks))
	mux.HandleFunc("POST /api/sbp/{id}/status", s.auth(s.serveSBPStatus))
	mux.HandleFunc("POST /api/sbp/{id}/confirm", s.auth(s.serveConfirm))
	mux.HandleFunc("POST /api/sbp/{id}/reject", s.auth(s.serveReject))
	mux.HandleFunc("GET /api/account/channels/{name}/balance", s.auth(s.serveBalance))
	mux.HandleFunc("GET /api/operations/{id}", s.auth(s.serveOperation))
	mux.HandleFunc("/Pay", s.servePay)
	mux.HandleFunc("GET "+sandboxkit.LedgerPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Ledger())
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { writeError(w, http.StatusNotFound, "Not found") })
	s.mux = mux
	return s
}

// ServeHTTP serves the API (with X-Auth), the payment page at /Pay and the ledger at GET /_sandbox/ledger.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Ledger returns the payouts executed so far, in order.
func (s *Sandbox) Ledger() []LedgerEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LedgerEntry{}, s.ledger...)
}

// SetBalance sets a channel's balance, in kopecks.
func (s *Sandbox) SetBalance(channel string, minor int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.balances[channel] = minor
	s.save(nil)
}

// BalanceOf returns a channel's balance in kopecks, and whether the channel exists.
func (s *Sandbox) BalanceOf(channel string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.balances[channel]
	return v, ok
}

// FailNext makes the next n accepted creates execute as usual but answer 504 Gateway Timeout with an empty body:
// the payout goes on and its answer is lost. Refused requests do not count. It is not saved.
func (s *Sandbox) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = max(n, 0)
}

// DropCallbacks makes the sandbox send no callbacks (true) or send them again (false): the result is then learnt
// only by GET /api/operations/{id}, the polling fallback. It is not saved.
func (s *Sandbox) DropCallbacks(drop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropCallbacks = drop
}

// Close stops pending payouts and callbacks, waits for them to end, then writes the whole state to its file once
// more and closes it. The API keeps answering, in memory only.
func (s *Sandbox) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.tasks.Close()
	s.mu.Lock()
	s.state.Close()
	s.mu.Unlock()
}

// auth checks X-Auth, and refuses a request id seen before (replay).
func (s *Sandbox) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		requestID, ok := CheckXAuth(r.Header.Get(headerXAuth), s.merchantID, s.secret)
		if ok {
			s.mu.Lock()
			if s.seen[requestID] {
				ok = false
			} else {
				s.seen[requestID] = true
				s.seenList = append(s.seenList, requestID)
				if len(s.seenList) > maxSeenRequestIDs {
					delete(s.seen, s.seenList[0])
					s.seenList = s.seenList[1:]
				}
			}
			s.mu.Unlock()
		}
		if !ok {
			writeError(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		next(w, r)
	}
}

// serveCreate is POST /api/transactions.
func (s *Sandbox) serveCreate(w http.ResponseWriter, r *http.Request) {
	body, err := httpx.ReadRequest(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Invalid request")
		return
	}
	var in TransactionRequest
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid request") // never quote the body: it may hold a card
		return
	}
	rec, field := validateCreate(&in)
	if field != "" {
		s.log.Info("payout refused: invalid", "order_id", in.Payment.OrderID, "field", field)
		writeError(w, http.StatusBadRequest, "Invalid request: "+field)
		return
	}
	now := time.Now()

	s.mu.Lock()
	for _, tx := range s.txs {
		// orderId is unique among payouts that succeeded or are in progress; after a failure it may be reused.
		if tx.OrderID == rec.OrderID && tx.State != StateFailed {
			s.mu.Unlock()
			s.log.Info("payout refused: duplicate order id", "order_id", rec.OrderID)
			writeJSON(w, http.StatusBadRequest, APIError{Message: "Duplicate order id " + rec.OrderID +
				" found for incomplete payout transaction", ErrorCode: new(errorCodeDuplicate)})
			return
		}
	}
	s.lastSeq++
	rec.Seq = s.lastSeq
	rec.ID = newTxID()
	rec.State = StatePendingExecution
	rec.CreatedAt, rec.UpdatedAt = now, now
	if rec.Method == methodSBPNoName {
		rec.SBPStatus = StatusPending
	}
	if rec.Method == methodPage {
		rec.UserWebLink = s.baseURL(r) + "/Pay?transaction=" + url.QueryEscape(rec.ID)
	}
	tx := &sandboxTx{txRecord: rec}
	s.txs[tx.ID] = tx
	if rec.Method != methodPage {
		s.after(tx.ID)
	}
	s.save(tx)
	lose := s.failNext > 0
	if lose {
		s.failNext--
	}
	s.mu.Unlock()
	s.log.Info("payout accepted", "id", tx.ID, "order_id", tx.OrderID, "amount", tx.Amount, "method", tx.Method)
	if lose {
		s.log.Info("payout answer dropped: 504 (FailNext)", "id", tx.ID)
		w.WriteHeader(http.StatusGatewayTimeout)
		return
	}
	writeJSON(w, http.StatusOK, Transaction{ID: tx.ID, UserWebLink: tx.UserWebLink})
}

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

// validateCreate checks a create as the sandbox reads the seed, and names the first wrong field.
func validateCreate(in *TransactionRequest) (txRecord, string) {
	rec := txRecord{OrderID: in.Payment.OrderID}
	if in.Payment.Action != ActionPayout {
		return rec, "payment.action"
	}
	if rec.OrderID == "" || len(rec.OrderID) > maxOrderID {
		return rec, "payment.orderId"
	}
	amount, err := ParsePrice(in.Payment.Price)
	if err != nil || amount <= 0 {
		return rec, "payment.price"
	}
	rec.Amount = amount
	if in.URLs != nil && in.URLs.Callback != "" {
		if httpx.CheckBaseURL(in.URLs.Callback) != nil {
			return rec, "urls.callback"
		}
		rec.CallbackURL = in.URLs.Callback
	}
	info := CustomerInfo{}
	if in.CustomerInfo != nil {
		info = *in.CustomerInfo
	}
	rec.Email, rec.Phone = info.Email, info.Phone
	needContact := func() string {
		switch {
		case info.Email == "":
			return "customerInfo.email"
		case info.Phone == "":
			return "customerInfo.phone"
		}
		return ""
	}
	t := Target{}
	if in.Target != nil {
		t = *in.Target
	}
	kinds := 0
	for _, set := range []bool{t.Card != "", t.KnownCardNumber != "", t.SBP != nil} {
		if set {
			kinds++
		}
	}
	if kinds > 1 {
		return rec, "target"
	}
	switch {
	case t.Card != "":
		c, ok := sandboxTokens[t.Card]
		if !ok {
			return rec, "target.card"
		}
		rec.Method, rec.Succeeds = methodToken, c.succeeds
		rec.CardBrand, rec.CardBIN, rec.CardLast4 = c.brand, c.bin, c.last4
	case t.KnownCardNumber != "":
		n := t.KnownCardNumber
		if len(n) < 12 || len(n) > 19 || !digits(n) || !payout.Luhn(n) {
			return rec, "target.knownCardNumber"
		}
		if f := needContact(); f != "" {
			return rec, f
		}
		rec.Method, rec.Succeeds = methodNumber, n != SandboxCardDeclined
		rec.CardBrand, rec.CardBIN, rec.CardLast4 = payout.CardBrand(n), n[:6], n[len(n)-4:]
	case t.SBP != nil:
		if !knownBank(*t.SBP) {
			return rec, "target.sbp"
		}
		if f := needContact(); f != "" {
			return rec, f
		}
		rec.Method = methodSBP
		if info.FirstName == "" && info.LastName == "" && info.MiddleName == "" {
			rec.Method = methodSBPNoName
		} else if info.FirstName == "" || info.LastName == "" {
			return rec, "customerInfo.firstName"
		}
		rec.Succeeds = info.Phone == SandboxPhoneSucceeds || info.Phone == SandboxPhoneNoName
		switch info.Phone {
		case SandboxPhoneNoName:
			rec.FIO = SandboxFIONoName
		case SandboxPhoneSucceeds:
			rec.FIO = SandboxFIOSucceeds
		}
	default:
		if f := needContact(); f != "" {
			return rec, f
		}
		rec.Method = methodPage
	}
	return rec, ""
}

func knownBank(t SBPTarget) bool {
	for _, b := range SandboxBanks {
		if b.BankID == t.BankID && b.BankBIC == t.BankBIC {
			return true
		}
	}
	return false
}

// newTxID is 32 hex digits like Mandarin's ids, with a letter in every eight, so that no id looks like a card
// number.
func newTxID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := []byte(hex.EncodeToString(b))
	for i := 0; i < len(id); i += 8 {
		id[i] = "abcdef"[int(id[i])%6]
	}
	return string(id)
}

// after decides the transaction once the delay has passed. Called with s.mu held.
func (s *Sandbox) after(id string) {
	if s.closed {
		return
	}
	s.tasks.After(s.delay, func() { s.decide(id) })
}

// decide moves a pending transaction on: a card or SBP payout is executed or fails; an SBP payout without the name
// gets its SBP status (success with the name, or fail) and waits for confirm.
func (s *Sandbox) decide(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.txs[id]
	if tx == nil || tx.State != StatePendingExecution || s.tasks.Context().Err() != nil {
		return
	}
	switch {
	case tx.Method == methodSBPNoName && tx.SBPStatus != StatusPending:
		return // checked already: waits for confirm or reject
	case tx.Method == methodSBPNoName && tx.Succeeds:
		tx.SBPStatus, tx.UpdatedAt = StatusSuccess, time.Now()
		s.log.Info("sbp recipient checked: waits for confirm", "id", tx.ID)
		s.save(tx)
		return
	case tx.Method == methodSBPNoName:
		tx.SBPStatus = StatusFail
		s.fail(tx, "The recipient's bank refused the payout")
	case tx.Succeeds:
		s.execute(tx)
	default:
		s.fail(tx, "Payout was declined")
	}
	s.log.Info("payout decided", "id", tx.ID, "state", tx.State)
	s.notify(tx)
	s.save(tx)
}

// execute pays the payout out, once, from the sandbox's channel: the ledger gets it. Without the money it fails.
// Called with s.mu held.
func (s *Sandbox) execute(tx *sandboxTx) {
	if tx.Executed {
		return
	}
	if s.balances[s.channel] < tx.Amount {
		s.fail(tx, "Insufficient funds")
		return
	}
	now := time.Now()
	s.balances[s.channel] -= tx.Amount
	phoneLast4 := ""
	if tx.Method == methodSBP || tx.Method == methodSBPNoName {
		phoneLast4 = tx.Phone[max(len(tx.Phone)-4, 0):]
	}
	s.ledger = append(s.ledger, LedgerEntry{TransactionID: tx.ID, OrderID: tx.OrderID, Amount: tx.Amount,
		Price: FormatPrice(tx.Amount), Channel: s.channel, Method: tx.Method, CardLast4: tx.CardLast4,
		PhoneLast4: phoneLast4, ExecutedAt: now.UTC()})
	tx.Executed = true
	tx.State, tx.UpdatedAt = StateSuccess, now
}

// fail ends the payout in failure. Called with s.mu held.
func (s *Sandbox) fail(tx *sandboxTx, message string) {
	tx.State, tx.Error, tx.UpdatedAt = StateFailed, message, time.Now()
}

// lookup finds a transaction by the path's id, or answers 404. Called with s.mu held.
func (s *Sandbox) lookup(w http.ResponseWriter, r *http.Request) *sandboxTx {
	tx := s.txs[r.PathValue("id")]
	if tx == nil {
		writeError(w, http.StatusNotFound, "Transaction not found")
	}
	return tx
}

// seen is the transaction's state and SBP status as a status call that lags behind Mandarin's writes
// (faults.Lag) sees them: a transaction created within the lag is not there yet (ok is false); one decided within
// it is still pendingExecution; an SBP payout without the name whose recipient was checked within the lag (and not
// confirmed or rejected since) is still pending its check. Without the fault they are as they are. Called with s.mu
// held.
func (tx *sandboxTx) seen(lag faults.Lag, sbp bool) (state, sbpStatus string, ok bool) {
	if lag.Hides(tx.CreatedAt) {
		return "", "", false
	}
	state, sbpStatus = tx.State, tx.SBPStatus
	if (state == StateSuccess || state == StateFailed) && lag.Hides(tx.UpdatedAt) {
		state = StatePendingExecution
	}
	if sbp && tx.Method == methodSBPNoName && sbpStatus != StatusPending && !tx.Confirmed && !tx.Rejected &&
		lag.Hides(tx.UpdatedAt) {
		sbpStatus = StatusPending
	}
	return state, sbpStatus, true
}

// lookupSeen is lookup for a status call (of the SBP status with sbp), which may lag (seen). Called with s.mu held.
func (s *Sandbox) lookupSeen(w http.ResponseWriter, r *http.Request, sbp bool) (tx *sandboxTx, state, sbpStatus string) {
	tx = s.txs[r.PathValue("id")]
	if tx != nil {
		var ok bool
		if state, sbpStatus, ok = tx.seen(faults.LagOf(r), sbp); ok {
			return tx, state, sbpStatus
		}
	}
	writeError(w, http.StatusNotFound, "Transaction not found")
	return nil, "", ""
}

// serveSBPStatus is POST /api/sbp/{id}/status.
func (s *Sandbox) serveSBPStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, state, st := s.lookupSeen(w, r, true)
	if tx == nil {
		return
	}
	if tx.Method != methodSBP && tx.Method != methodSBPNoName {
		writeError(w, http.StatusBadRequest, "Not an SBP payout")
		return
	}
	if tx.Method == methodSBP {
		st = map[string]string{StateSuccess: StatusSuccess, StateFailed: StatusFail}[state]
		if st == "" {
			st = StatusPending
		}
	}
	var fio *string
	if st == StatusSuccess && tx.Method == methodSBPNoName {
		fio = &tx.FIO
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": st, "fio": fio})
}

// serveConfirm is POST /api/sbp/{id}/confirm: an SBP payout without the name, checked (status success), is
// executed at once. Confirming it again answers 200 and does nothing.
func (s *Sandbox) serveConfirm(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.lookup(w, r)
	if tx == nil {
		return
	}
	switch {
	case tx.Confirmed:
	case tx.Method != methodSBPNoName || tx.SBPStatus != StatusSuccess || tx.Rejected ||
		tx.State != StatePendingExecution:
		writeError(w, http.StatusBadRequest, "The payout cannot be confirmed")
		return
	default:
		tx.Confirmed = true
		s.execute(tx)
		s.log.Info("sbp payout confirmed", "id", tx.ID, "state", tx.State)
		s.notify(tx)
		s.save(tx)
	}
	writeJSON(w, http.StatusOK, Transaction{ID: tx.ID})
}

// serveReject is POST /api/sbp/{id}/reject: an SBP payout without the name, not confirmed, is dropped (operation
// failed, no callback). Rejecting it again answers 200.
func (s *Sandbox) serveReject(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.lookup(w, r)
	if tx == nil {
		return
	}
	switch {
	case tx.Rejected:
	case tx.Method != methodSBPNoName || tx.Confirmed || tx.State != StatePendingExecution:
		writeError(w, http.StatusBadRequest, "The payout cannot be rejected")
		return
	default:
		tx.Rejected, tx.Notified = true, true
		s.fail(tx, "Rejected")
		s.log.Info("sbp payout rejected", "id", tx.ID)
		s.save(tx)
	}
	writeJSON(w, http.StatusOK, Transaction{ID: tx.ID})
}

// serveBanks is GET /api/sbp/banks[?bankName=...].
func (s *Sandbox) serveBanks(w http.ResponseWriter, r *http.Request) {
	name := strings.ToLower(r.URL.Query().Get("bankName"))
	banks := []Bank{}
	for _, b := range SandboxBanks {
		if strings.Contains(strings.ToLower(b.BankName), name) {
			banks = append(banks, b)
		}
	}
	writeJSON(w, http.StatusOK, map[string][]Bank{"banks": banks})
}

// serveBalance is GET /api/account/channels/{name}/balance.
func (s *Sandbox) serveBalance(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	v, ok := s.BalanceOf(name)
	if !ok {
		writeError(w, http.StatusNotFound, "Unknown channel")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"channel": name, "balance": FormatPrice(v), "currency": "RUB"})
}

// serveOperation is GET /api/operations/{id}.
func (s *Sandbox) serveOperation(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, state, _ := s.lookupSeen(w, r, false)
	if tx == nil {
		return
	}
	op := Operation{OperationType: "Transaction", State: state, UserWebLink: tx.UserWebLink}
	if tx.CardLast4 != "" {
		op.Card = &OperationCard{CardNumber: tx.maskedCard(), Brand: tx.CardBrand}
	}
	writeJSON(w, http.StatusOK, op)
}

func (tx *sandboxTx) maskedCard() string {
	if tx.CardLast4 == "" {
		return ""
	}
	return tx.CardBIN + "XXXXXX" + tx.CardLast4
}

// servePay is the payment page: GET shows a form, POST with card_number pays the payout out to that card (after
// Delay, like a known card number).
func (s *Sandbox) servePay(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("transaction")
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, `<!doctype html><title>Mandarin sandbox payout</title><form method="post" `+
			`action="/Pay?transaction=%s"><input name="card_number" autocomplete="off"><button>Get the payout`+
			`</button></form>`, html.EscapeString(url.QueryEscape(id)))
		return
	case http.MethodPost:
	default:
		writeError(w, http.StatusMethodNotAllowed, "Use GET or POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid request")
		return
	}
	n := r.PostForm.Get("card_number")
	if len(n) < 12 || len(n) > 19 || !digits(n) || !payout.Luhn(n) {
		writeError(w, http.StatusBadRequest, "Invalid request: card_number")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.txs[id]
	if tx == nil || tx.Method != methodPage || tx.CardLast4 != "" || tx.State != StatePendingExecution {
		writeError(w, http.StatusNotFound, "Transaction not found")
		return
	}
	tx.Succeeds = n != SandboxCardDeclined
	tx.CardBrand, tx.CardBIN, tx.CardLast4 = payout.CardBrand(n), n[:6], n[len(n)-4:]
	tx.UpdatedAt = time.Now()
	s.after(tx.ID)
	s.save(tx)
	writeJSON(w, http.StatusOK, Transaction{ID: tx.ID})
}

// notify sends the signed callback of a final transaction to its callback URL, after its earlier callbacks.
// Called with s.mu held.
func (s *Sandbox) notify(tx *sandboxTx) {
	if s.closed || tx.CallbackURL == "" || tx.Notified || s.dropCallbacks {
		return
	}
	body := []byte(s.callbackForm(tx).Encode())
	id, target := tx.ID, tx.CallbackURL
	attempt := func(ctx context.Context) error { return s.postCallback(ctx, target, body) }
	s.callbacks.Send(&tx.line, attempt, func() { s.markNotified(id) }, "id", id)
}

// callbackForm is the callback of a transaction, signed.
func (s *Sandbox) callbackForm(tx *sandboxTx) url.Values {
	status := StatusSuccess
	if tx.State != StateSuccess {
		status = StatusFailed
	}
	f := url.Values{
		"transaction":    {tx.ID},
		"status":         {status},
		"action":         {ActionPayout},
		"merchantId":     {s.merchantID},
		"price":          {FormatPrice(tx.Amount)},
		"orderId":        {tx.OrderID},
		"object_type":    {"transaction"},
		"customer_email": {tx.Email},
		"customer_phone": {tx.Phone},
	}
	if m := tx.maskedCard(); m != "" {
		f.Set("card_number", m)
	}
	f.Set(signField, Sign(f, s.secret))
	return f
}

// markNotified records that the transaction's callback was answered 200 OK.
func (s *Sandbox) markNotified(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tx := s.txs[id]; tx != nil {
		tx.Notified = true
		s.save(tx)
	}
}

// postCallback makes one delivery attempt: it must be answered 200 with body OK.
func (s *Sandbox) postCallback(ctx context.Context, target string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(got)) != AckBody {
		return fmt.Errorf("answered %s, not 200 OK", resp.Status)
	}
	return nil
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, APIError{Message: message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	httpx.WriteJSON(w, status, v, `{"error":"Internal error"}`)
}
