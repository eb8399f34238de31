package sandbox

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/payoutflow/payoutflow/providers/internal/sandboxkit"
)

// stateVersion is the version of the state file's format.
const stateVersion = 1

// sandboxState is a record of a Sandbox's state file: the whole state, or a change (the sessions it touched, the
// idempotency keys it saw, the ledger's new entries). Like the sandbox, it holds no card number.
type sandboxState struct {
	Version  int            `json:"version"`
	LastID   int64          `json:"last_id"`
	Sessions []savedSession `json:"sessions"`
	SeenKeys []string       `json:"seen_keys"` // method + "\x00" + idempotency key
	Ledger   []LedgerEntry  `json:"ledger"`
}

type savedSession struct {
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	NextAction string          `json:"next_action,omitempty"`
	Error      *APIError       `json:"error,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	FinishedAt time.Time       `json:"finished_at,omitzero"`
	Payment    *savedPayment   `json:"payment,omitempty"`
	Confirmed  bool            `json:"confirmed,omitempty"`
	Executed   bool            `json:"executed,omitempty"`
	ErrorUntil time.Time       `json:"error_until,omitzero"`
	Acquiring  *savedAcquiring `json:"acquiring,omitempty"`
	Sent       []string        `json:"webhooks_sent,omitempty"`
}

type savedPayment struct {
	ID          string          `json:"id"`
	Status      string          `json:"status"`
	Error       *APIError       `json:"error,omitempty"`
	Method      string          `json:"method,omitempty"`
	Account     string          `json:"source_account,omitempty"`
	Brand       string          `json:"brand"`
	Last4       string          `json:"last4"`
	Token       string          `json:"token,omitempty"`
	Phone       string          `json:"phone,omitempty"`
	BankID      string          `json:"bank_id,omitempty"`
	Description string          `json:"description,omitempty"`
	Behaviour   cardBehaviour   `json:"behaviour"`
	Amount      int64           `json:"amount"`
	Currency    string          `json:"currency"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	FinishedAt  time.Time       `json:"finished_at,omitzero"`
}

// savedAcquiring is a transfer's payment from the sender's card: no card number, no security code.
type savedAcquiring struct {
	ID             string    `json:"id"`
	Status         string    `json:"status"`
	Error          *APIError `json:"error,omitempty"`
	Brand          string    `json:"brand"`
	Last4          string    `json:"last4"`
	Amount         int64     `json:"amount"`
	Currency       string    `json:"currency"`
	Recurrent      bool      `json:"recurrent,omitempty"`
	RecurrentToken string    `json:"recurrent_token,omitempty"`
	ReturnURL      string    `json:"return_url,omitempty"`
	RedirectURL    string    `json:"redirect_url"`
	Awaiting       bool      `json:"awaiting,omitempty"`
	Auth           string    `json:"auth,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	FinishedAt     time.Time `json:"finished_at,omitzero"`
}

// OpenSandbox returns a sandbox that keeps its state in cfg.StateFile, or in memory only when it is empty.
//
// It loads the file if it exists and resumes what was in flight: steps not taken yet are scheduled again, and the
// webhook a session's state calls for is sent again unless it was answered 200. A file that cannot be decoded is
// renamed to <name>.corrupt-<unix seconds>, logged as an error, and the sandbox starts empty. It fails when the
// file cannot be read, moved aside or written.
func OpenSandbox(cfg SandboxConfig) (*Sandbox, error) {
	s := NewSandbox(cfg)
	if err := s.state.Open("bank131 sandbox", cfg.StateFile, s.log, &s.mu, s.format()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// format is how the state goes to and from the file.
func (s *Sandbox) format() sandboxkit.Format[sandboxState] {
	return sandboxkit.Format[sandboxState]{Version: stateVersion, Snapshot: s.snapshot, Restore: s.restore,
		Resume: func() { sandboxkit.InIDOrder(s.sessions, s.resume) },
		IDs: func(st *sandboxState) []string {
			return sandboxkit.IDs(st.Sessions, func(ss savedSession) string { return ss.ID })
		}}
}

// resume schedules the session's next step, if one is due, and sends again the webhook its state calls for unless
// it was answered 200. Called with s.mu held.
func (s *Sandbox) resume(sess *sandboxSession) {
	p := sess.payment
	if p == nil {
		return
	}
	if a := sess.acquiring; a != nil {
		s.resumeTransfer(sess, a)
		return
	}
	switch {
	case p.status == paymentInProgress && !sess.confirmed:
		s.after(sess.id, s.offer)
	case sess.confirmed && !sess.executed:
		s.after(sess.id, s.execute)
	case p.status == paymentPending && !sess.sent[hookReadyToConfirm]:
		s.notify(sess, hookReadyToConfirm)
	case (p.status == paymentSucceeded || p.status == paymentFailed) && sess.status != sessionCancelled &&
		!sess.sent[hookPaymentFinished]:
		s.notify(sess, hookPaymentFinished)
	}
}

// resumeTransfer is resume for a transfer. Called with s.mu held.
func (s *Sandbox) resumeTransfer(sess *sandboxSession, a *sandboxAcquiring) {
	switch {
	case a.status == paymentInProgress && a.auth != "":
		s.after(sess.id, s.settle)
	case a.status == paymentInProgress && !a.awaiting:
		s.after(sess.id, s.requireAction)
	case a.awaiting && !sess.sent[hookActionRequired]:
		s.notify(sess, hookActionRequired)
	case a.status != paymentInProgress && !sess.sent[hookPaymentFinished]:
		s.notify(sess, hookPaymentFinished)
	}
}

// save appends a change to the state file, if there is one: sess as it is now (nil: no session), the idempotency
// keys seen, and the ledger's new entries. Called with s.mu held.
func (s *Sandbox) save(sess *sandboxSession, seenKeys ...string) {
	s.state.Save(func() sandboxState {
		st := sandboxState{Version: stateVersion, LastID: s.lastID, SeenKeys: seenKeys,
			Ledger: sandboxkit.NewEntries(&s.savedLedger, s.ledger)}
		if sess != nil {
			st.Sessions = []savedSession{sess.saved()}
		}
		return st
	})
}

// snapshot is the whole state to save. Called with s.mu held.
func (s *Sandbox) snapshot() sandboxState {
	st := sandboxState{
		Version:  stateVersion,
		LastID:   s.lastID,
		Sessions: []savedSession{},
		SeenKeys: slices.Sorted(maps.Keys(s.seenKeys)),
		Ledger:   append([]LedgerEntry{}, s.ledger...),
	}
	s.savedLedger = len(s.ledger)
	for _, id := range slices.Sorted(maps.Keys(s.sessions)) {
		st.Sessions = append(st.Sessions, s.sessions[id].saved())
	}
	return st
}

// saved is the session as the state file keeps it.
func (sess *sandboxSession) saved() savedSession {
	ss := savedSession{
		ID:         sess.id,
		Status:     sess.status,
		NextAction: sess.nextAction,
		Error:      sess.err,
		Metadata:   sess.metadata,
		CreatedAt:  sess.createdAt,
		UpdatedAt:  sess.updatedAt,
		FinishedAt: sess.finishedAt,
		Confirmed:  sess.confirmed,
		Executed:   sess.executed,
		ErrorUntil: sess.errorUntil,
		Sent:       slices.Sorted(maps.Keys(sess.sent)),
	}
	if a := sess.acquiring; a != nil {
		ss.Acquiring = &savedAcquiring{
			ID:             a.id,
			Status:         a.status,
			Error:          a.err,
			Brand:          a.brand,
			Last4:          a.last4,
			Amount:         a.amount,
			Currency:       a.currency,
			Recurrent:      a.recurrent,
			RecurrentToken: a.recurrentToken,
			ReturnURL:      a.returnURL,
			RedirectURL:    a.redirectURL,
			Awaiting:       a.awaiting,
			Auth:           a.auth,
			CreatedAt:      a.createdAt,
			FinishedAt:     a.finishedAt,
		}
	}
	if p := sess.payment; p != nil {
		ss.Payment = &savedPayment{
			ID:          p.id,
			Status:      p.status,
			Error:       p.err,
			Method:      p.method,
			Account:     p.account,
			Brand:       p.brand,
			Last4:       p.last4,
			Token:       p.token,
			Phone:       p.phone,
			BankID:      p.bankID,
			Description: p.description,
			Behaviour:   p.behaviour,
			Amount:      p.amount,
			Currency:    p.currency,
			Metadata:    p.metadata,
			CreatedAt:   p.createdAt,
			FinishedAt:  p.finishedAt,
		}
	}
	return ss
}

// restore merges a record of the state file into the sandbox's state: its sessions replace those of their ids,
// its keys and ledger entries are added. Called with s.mu held.
func (s *Sandbox) restore(st sandboxState) {
	s.lastID = max(s.lastID, st.LastID)
	s.ledger = append(s.ledger, st.Ledger...)
	for _, k := range st.SeenKeys {
		s.seenKeys[k] = true
	}
	for _, ss := range st.Sessions {
		s.sessions[ss.ID] = ss.session()
	}
}

// session is the session the state file keeps as ss.
func (ss savedSession) session() *sandboxSession {
	sess := &sandboxSession{
		id:         ss.ID,
		status:     ss.Status,
		nextAction: ss.NextAction,
		err:        ss.Error,
		metadata:   ss.Metadata,
		createdAt:  ss.CreatedAt,
		updatedAt:  ss.UpdatedAt,
		finishedAt: ss.FinishedAt,
		confirmed:  ss.Confirmed,
		executed:   ss.Executed,
		errorUntil: ss.ErrorUntil,
		sent:       make(map[string]bool),
	}
	if a := ss.Acquiring; a != nil {
		sess.acquiring = &sandboxAcquiring{
			id:             a.ID,
			status:         a.Status,
			err:            a.Error,
			brand:          a.Brand,
			last4:          a.Last4,
			amount:         a.Amount,
			currency:       a.Currency,
			recurrent:      a.Recurrent,
			recurrentToken: a.RecurrentToken,
			returnURL:      a.ReturnURL,
			redirectURL:    a.RedirectURL,
			awaiting:       a.Awaiting,
			auth:           a.Auth,
			createdAt:      a.CreatedAt,
			finishedAt:     a.FinishedAt,
		}
	}
	for _, typ := range ss.Sent {
		sess.sent[typ] = true
	}
	if p := ss.Payment; p != nil {
		sess.payment = &sandboxPayment{
			id:          p.ID,
			status:      p.Status,
			err:         p.Error,
			method:      p.Method,
			account:     p.Account,
			brand:       p.Brand,
			last4:       p.Last4,
			token:       p.Token,
			phone:       p.Phone,
			bankID:      p.BankID,
			description: p.Description,
			behaviour:   p.Behaviour,
			amount:      p.Amount,
			currency:    p.Currency,
			metadata:    p.Metadata,
			createdAt:   p.CreatedAt,
			finishedAt:  p.FinishedAt,
		}
	}
	return sess
}
