package sandbox

import (
	"maps"
	"slices"

	"github.com/payoutflow/payoutflow/providers/internal/sandboxkit"
)

// stateVersion is the version of the state file's format.
const stateVersion = 1

// sandboxState is a record of a Sandbox's state file: the whole state, or a change (the transaction it touched,
// the ledger's new entries, the balances). Like the sandbox, it holds no card number.
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
	if err := s.state.Open("mandarin sandbox", cfg.StateFile, s.log, &s.mu, s.format()); err != nil {
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
			return sandboxkit.IDs(st.Transactions, func(tx txRecord) string { return tx.ID })
		}}
}

// restore merges a record of the state file into the sandbox's state: its transactions replace those of their
// ids, its ledger entries are added, its balances replace those of their channels. Called with s.mu held.
func (s *Sandbox) restore(st sandboxState) {
	s.lastSeq = max(s.lastSeq, st.LastSeq)
	s.ledger = append(s.ledger, st.Ledger...)
	maps.Copy(s.balances, st.Balances)
	for _, rec := range st.Transactions {
		s.txs[rec.ID] = &sandboxTx{txRecord: rec}
	}
}

// resume decides, after the delay, a payout not yet decided (unless it waits for the recipient on the payment
// page), or sends again the callback of a final one. Called with s.mu held.
func (s *Sandbox) resume(tx *sandboxTx) {
	switch {
	case tx.State == StatePendingExecution && (tx.Method != methodPage || tx.CardLast4 != ""):
		s.after(tx.ID)
	case tx.State != StatePendingExecution:
		s.notify(tx)
	}
}

// save appends a change to the state file, if there is one: tx as it is now (nil: none), the ledger's new entries
// and the balances. Called with s.mu held.
func (s *Sandbox) save(tx *sandboxTx) {
	s.state.Save(func() sandboxState {
		st := sandboxState{Version: stateVersion, LastSeq: s.lastSeq, Balances: s.balances,
			Ledger: sandboxkit.NewEntries(&s.savedLedger, s.ledger)}
		if tx != nil {
			st.Transactions = []txRecord{tx.txRecord}
		}
		return st
	})
}

// snapshot is the whole state to save. Called with s.mu held.
func (s *Sandbox) snapshot() sandboxState {
	st := sandboxState{Version: stateVersion, LastSeq: s.lastSeq, Transactions: []txRecord{},
		Ledger: append([]LedgerEntry{}, s.ledger...), Balances: maps.Clone(s.balances)}
	s.savedLedger = len(s.ledger)
	for _, id := range slices.Sorted(maps.Keys(s.txs)) {
		st.Transactions = append(st.Transactions, s.txs[id].txRecord)
	}
	return st
}
