package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Bank is the peer's minimal bank: JSON over HTTP, sessions in memory, and each asynchronous step a webhook sent
// Delay after the call that caused it (ready_to_confirm after a payout's start, payment_finished after its
// confirm), retried until answered 200, as the Bank 131 sandbox of `make run` does.
type Bank struct {
	WebhookURL string
	Delay      time.Duration
	HTTP       *http.Client
	Log        *slog.Logger

	mu       sync.Mutex
	sessions map[string]string // session id → payout id
	next     atomic.Int64
}

// ServeHTTP serves POST /session, /payout and /confirm.
func (b *Bank) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var req struct {
		PayoutID  string `json:"payout_id"`
		SessionID string `json:"session_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	switch r.URL.Path {
	case "/session":
		if req.PayoutID == "" {
			http.Error(w, "payout_id is required", http.StatusBadRequest)
			return
		}
		id := "ps_" + strconv.FormatInt(b.next.Add(1), 10)
		b.mu.Lock()
		if b.sessions == nil {
			b.sessions = map[string]string{}
		}
		b.sessions[id] = req.PayoutID
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"session_id": id})
	case "/payout", "/confirm":
		b.mu.Lock()
		payoutID, ok := b.sessions[req.SessionID]
		if ok && r.URL.Path == "/confirm" {
			delete(b.sessions, req.SessionID)
		}
		b.mu.Unlock()
		if !ok {
			http.Error(w, "no session "+req.SessionID, http.StatusNotFound)
			return
		}
		hook := Webhook{Type: SignalReady, PayoutID: payoutID, SessionID: req.SessionID}
		if r.URL.Path == "/confirm" {
			hook = Webhook{Type: SignalFinished, PayoutID: payoutID, SessionID: req.SessionID, Status: StatusSucceeded}
		}
		time.AfterFunc(b.Delay, func() { b.send(hook) })
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"in_progress"}`)
	default:
		http.NotFound(w, r)
	}
}

// send delivers a webhook until it is answered 200: 20 attempts, 50 ms apart at first, doubling up to 5 s.
func (b *Bank) send(hook Webhook) {
	body, _ := json.Marshal(hook)
	wait := 50 * time.Millisecond
	for attempt := 1; attempt <= 20; attempt++ {
		resp, err := b.HTTP.Post(b.WebhookURL, "application/json", bytes.NewReader(body))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("answered %s", resp.Status)
		}
		b.Log.Warn("webhook not delivered", "type", hook.Type, "payout_id", hook.PayoutID, "attempt", attempt, "error", err)
		time.Sleep(wait)
		wait = min(2*wait, 5*time.Second)
	}
}

// BankClient calls the bank.
type BankClient struct {
	URL  string
	HTTP *http.Client
}

func (c *BankClient) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("bank %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("bank %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bank %s: %s: %s", path, resp.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("bank %s: %w", path, err)
	}
	return nil
}
