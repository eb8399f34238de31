package bepaid

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// stateVersion is the version of the state file's format.
const stateVersion = 1

// sandboxState is what a Sandbox keeps in its state file. Like the sandbox, it holds no card number, and no hash
// of one either: duplicate_check's memory of recent requests is not saved.
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
	if cfg.StateFile == "" {
		return s, nil
	}
	s.stateFile = cfg.StateFile
	if err := s.load(); err != nil {
		s.Close()
		return nil, fmt.Errorf("bepaid sandbox state %s: %w", cfg.StateFile, err)
	}
	return s, nil
}

// load reads the state file, writes it back (so that a file that cannot be written fails now), then resumes.
func (s *Sandbox) load() error {
	data, err := os.ReadFile(s.stateFile)
	var st sandboxState
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := decodeState(data, &st); err != nil {
			bad := fmt.Sprintf("%s.corrupt-%d", s.stateFile, time.Now().Unix())
			if rerr := os.Rename(s.stateFile, bad); rerr != nil {
				return fmt.Errorf("corrupt (%w), and cannot move it aside: %w", err, rerr)
			}
			s.log.Error("sandbox state file is corrupt: moved aside, starting empty", "file", s.stateFile,
				"moved_to", bad, "err", err)
			st = sandboxState{}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.restore(st)
	if err := s.write(); err != nil {
		return err
	}
	for _, uid := range slices.Sorted(maps.Keys(s.txs)) {
		s.resume(s.txs[uid])
	}
	return nil
}

func decodeState(data []byte, st *sandboxState) error {
	if err := json.Unmarshal(data, st); err != nil {
		return err
	}
	if st.Version != stateVersion {
		return fmt.Errorf("version %d, want %d", st.Version, stateVersion)
	}
	for _, tx := range st.Transactions {
		if tx.UID == "" {
			return errors.New("a transaction has no uid")
		}
	}
	return nil
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

// save writes the state file, if there is one, and logs a failure. Called with s.mu held.
func (s *Sandbox) save() {
	if s.stateFile == "" {
		return
	}
	if err := s.write(); err != nil {
		s.log.Error("sandbox state not saved", "file", s.stateFile, "err", err)
	}
}

// write replaces the state file atomically: a private temporary file in the same directory, renamed over it.
// Called with s.mu held.
func (s *Sandbox) write() error {
	data, err := json.Marshal(s.snapshot())
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(s.stateFile), filepath.Base(s.stateFile)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), s.stateFile)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// snapshot is the state to save. Called with s.mu held.
func (s *Sandbox) snapshot() sandboxState {
	st := sandboxState{
		Version:      stateVersion,
		LastID:       s.lastID,
		Transactions: []txRecord{},
		Ledger:       append([]LedgerEntry{}, s.ledger...),
	}
	for _, uid := range slices.Sorted(maps.Keys(s.txs)) {
		rec := s.txs[uid].txRecord
		if rec.Bank != nil {
			bank := *rec.Bank
			rec.Bank = &bank
		}
		st.Transactions = append(st.Transactions, rec)
	}
	return st
}

// restore replaces the sandbox's state with st. Called with s.mu held.
func (s *Sandbox) restore(st sandboxState) {
	s.lastID = max(s.lastID, st.LastID)
	s.ledger = st.Ledger
	for _, rec := range st.Transactions {
		s.txs[rec.UID] = &sandboxTx{txRecord: rec}
	}
}
