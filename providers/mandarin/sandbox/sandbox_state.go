package sandbox

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/payoutflow/payoutflow/providers/internal/statefile"
)

// stateVersion is the version of the state file's format.
const stateVersion = 1

// sandboxState is what a Sandbox keeps in its state file. Like the sandbox, it holds no card number.
type sandboxState struct {
	Version      int              `json:"version"`
	LastSeq      int64            `json:"last_seq"`
	Transactions []txRecord       `json:"transactions"`
	Ledger       []LedgerEntry    `json:"ledger"`
	Balances     map[string]int64 `json:"balances"`
}

// OpenSandbox returns a sandbox that keeps its state in cfg.StateFile, or in memory only when it is empty. It loads
// the file if it exists and resumes what was in flight: a payout not yet decided is decided after the delay, and
// the callback of a final payout is sent again unless it was answered. A file that cannot be decoded is moved
// aside (<name>.corrupt-<unix seconds>) and the sandbox starts empty.
func OpenSandbox(cfg SandboxConfig) (*Sandbox, error) {
	s := NewSandbox(cfg)
	if cfg.StateFile == "" {
		return s, nil
	}
	s.stateFile = cfg.StateFile
	if err := s.load(); err != nil {
		s.Close()
		return nil, fmt.Errorf("mandarin sandbox state %s: %w", cfg.StateFile, err)
	}
	return s, nil
}

func (s *Sandbox) load() error {
	st, err := statefile.Load(s.stateFile, stateVersion, s.log, checkState)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSeq = max(s.lastSeq, st.LastSeq)
	s.ledger = st.Ledger
	if st.Balances != nil {
		s.balances = st.Balances
	}
	for _, rec := range st.Transactions {
		s.txs[rec.ID] = &sandboxTx{txRecord: rec}
	}
	if err := s.write(); err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(s.txs)) {
		tx := s.txs[id]
		switch {
		case tx.State == StatePendingExecution && (tx.Method != methodPage || tx.CardLast4 != ""):
			s.after(id)
		case tx.State != StatePendingExecution:
			s.notify(tx)
		}
	}
	return nil
}

func checkState(st *sandboxState) error {
	for _, tx := range st.Transactions {
		if tx.ID == "" {
			return errors.New("a transaction has no id")
		}
	}
	return nil
}

// save writes the state file, if there is one, and logs a failure. Called with s.mu held.
func (s *Sandbox) save() {
	if s.stateFile == "" {
		return
	}
	if err := s.write(); err != nil {
		s.log.Error("sandbox state not saved", "file", s.stateFile, "err", err)
	}
}

// write replaces the state file atomically. Called with s.mu held.
func (s *Sandbox) write() error {
	st := sandboxState{Version: stateVersion, LastSeq: s.lastSeq, Transactions: []txRecord{},
		Ledger: append([]LedgerEntry{}, s.ledger...), Balances: maps.Clone(s.balances)}
	for _, id := range slices.Sorted(maps.Keys(s.txs)) {
		st.Transactions = append(st.Transactions, s.txs[id].txRecord)
	}
	return statefile.Write(s.stateFile, st)
}
