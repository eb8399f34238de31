package sandbox

import (
	"maps"
	"slices"

	"github.com/payoutflow/payoutflow/providers/internal/sandboxkit"
)

// stateVersion is the version of the state file's format.
const stateVersion = 1

// sandboxState is a record of a Sandbox's state file: the whole state, or a change (the transaction it touched,
// the ledger's new entries). Like the sandbox, it holds no card number, and no hash of one either:
// duplicate_check's memory of recent requests is not saved.
type sandboxState struct {
	Version      int           `json:"version"`
	LastID       int64         `json:"last_id"`
	Transactions []txRecord    `json:"transactions"`
	Ledger       []LedgerEntry `json:"ledger"`
}

// OpenSandbox returns a sandbox that keeps its state in cfg.StateFile, or in memory only when it is empty.
//
// It loads the file if it exists and resumes what was in flight: a payout not yet decided is decided after the
// delay (asking its verification_url again), and the notification of a final payout is sent again unless it was
// answered 200. A file that cannot be decoded is renamed to <name>.corrupt-<unix seconds>, logged as an error, and
// the sandbox starts empty. It fails when the file cannot be read, moved aside or written.
func OpenSandbox(cfg SandboxConfig) (*Sandbox, error) {
	s := NewSandbox(cfg)
	if err := s.state.Open("bepaid sandbox", cfg.StateFile, s.log, &s.mu, s.format()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// format is how the state goes to and from the file.
func (s *Sandbox) format() sandboxkit.Format[sandboxState] {
	return sandboxkit.Format[sandboxState]{Version: stateVersion, Snapshot: s.snapshot, Restore: s.restore,
		Resume: func() { sandboxkit.InIDOrder(s.txs, s.resume) },
		IDs: func(st *sandboxState) []string {
			return sandboxkit.IDs(st.Transactions, func(tx txRecord) string { return tx.UID })
		}}
}

// resume schedules the decision of a payout not yet decided, or sends again the notification of a final one unless
// it was answered 200. Called with s.mu held.
func (s *Sandbox) resume(tx *sandboxTx) {
	switch {
	case !final(tx.Status):
		s.after(tx.UID)
	case !tx.Notified:
		s.notify(tx)
	}
}

// save appends a change to the state file, if there is one: tx as it is now and the ledger's new entries. Called
// with s.mu held.
func (s *Sandbox) save(tx *sandboxTx) {
	s.state.Save(func() sandboxState {
		return sandboxState{Version: stateVersion, LastID: s.lastID, Transactions: []txRecord{tx.saved()},
			Ledger: sandboxkit.NewEntries(&s.savedLedger, s.ledger)}
	})
}

// snapshot is the whole state to save. Called with s.mu held.
func (s *Sandbox) snapshot() sandboxState {
	st := sandboxState{
		Version:      stateVersion,
		LastID:       s.lastID,
		Transactions: []txRecord{},
		Ledger:       append([]LedgerEntry{}, s.ledger...),
	}
	s.savedLedger = len(s.ledger)
	for _, uid := range slices.Sorted(maps.Keys(s.txs)) {
		st.Transactions = append(st.Transactions, s.txs[uid].saved())
	}
	return st
}

// saved is the transaction as the state file keeps it.
func (tx *sandboxTx) saved() txRecord {
	rec := tx.txRecord
	if rec.Bank != nil {
		bank := *rec.Bank
		rec.Bank = &bank
	}
	return rec
}

// restore merges a record of the state file into the sandbox's state: its transactions replace those of their
// uids, its ledger entries are added. Called with s.mu held.
func (s *Sandbox) restore(st sandboxState) {
	s.lastID = max(s.lastID, st.LastID)
	s.ledger = append(s.ledger, st.Ledger...)
	for _, rec := range st.Transactions {
		s.txs[rec.UID] = &sandboxTx{txRecord: rec}
	}
}
