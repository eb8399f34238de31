// Package peer is the benchmark's yardstick: a payout of payoutflow's shape written with nothing but the Temporal Go
// SDK and the standard library. Its workflow opens a session and starts the payout at a bank (one HTTP POST each),
// waits for the bank's ready_to_confirm webhook and for the confirm, confirms (one POST) and waits for the bank's
// payment_finished webhook. Bank is the minimal bank it talks to, Receiver turns the bank's webhooks into signals.
package peer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Names the peer's workflow, driver and webhooks agree on.
const (
	TaskQueue       = "bench-peer"
	WorkflowName    = "PeerPayout"
	UpdateConfirm   = "confirm"
	SignalReady     = "ready_to_confirm"
	SignalFinished  = "payment_finished"
	StatusSucceeded = "succeeded"
)

// Input is what a payout is started with.
type Input struct {
	PayoutID string `json:"payout_id"`
	Amount   int64  `json:"amount"`
}

// Webhook is what the bank sends and the receiver signals.
type Webhook struct {
	Type      string `json:"type"`
	PayoutID  string `json:"payout_id"`
	SessionID string `json:"session_id"`
	Status    string `json:"status,omitempty"`
}

// Payout is the peer's payout workflow. Confirm is an Update whose handler waits for ready_to_confirm, so a caller
// confirms in one call without polling; its validator refuses a second confirm.
func Payout(ctx workflow.Context, in Input) (string, error) {
	ready, confirmed := false, false
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateConfirm, func(ctx workflow.Context) error {
		if err := workflow.Await(ctx, func() bool { return ready }); err != nil {
			return err
		}
		confirmed = true
		return nil
	}, workflow.UpdateHandlerOptions{Validator: func() error {
		if confirmed {
			return errors.New("already confirmed")
		}
		return nil
	}})
	if err != nil {
		return "", err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	var a *Activities
	var session string
	if err := workflow.ExecuteActivity(ctx, a.OpenSession, in).Get(ctx, &session); err != nil {
		return "", err
	}
	if err := workflow.ExecuteActivity(ctx, a.StartPayout, session, in).Get(ctx, nil); err != nil {
		return "", err
	}
	workflow.GetSignalChannel(ctx, SignalReady).Receive(ctx, nil)
	ready = true
	if err := workflow.Await(ctx, func() bool { return confirmed }); err != nil {
		return "", err
	}
	if err := workflow.ExecuteActivity(ctx, a.Confirm, session).Get(ctx, nil); err != nil {
		return "", err
	}
	var finished Webhook
	workflow.GetSignalChannel(ctx, SignalFinished).Receive(ctx, &finished)
	return finished.Status, nil
}

// Activities call the bank.
type Activities struct {
	Bank *BankClient
}

// OpenSession opens a session for a payout at the bank and returns its id.
func (a *Activities) OpenSession(ctx context.Context, in Input) (string, error) {
	var out struct {
		SessionID string `json:"session_id"`
	}
	if err := a.Bank.post(ctx, "/session", in, &out); err != nil {
		return "", err
	}
	if out.SessionID == "" {
		return "", fmt.Errorf("open session for %s: the bank gave no session id", in.PayoutID)
	}
	return out.SessionID, nil
}

// StartPayout starts the payout in a session; the bank answers ready_to_confirm by webhook.
func (a *Activities) StartPayout(ctx context.Context, session string, in Input) error {
	return a.Bank.post(ctx, "/payout", map[string]any{"session_id": session, "amount": in.Amount}, nil)
}

// Confirm confirms the payout of a session; the bank answers payment_finished by webhook.
func (a *Activities) Confirm(ctx context.Context, session string) error {
	return a.Bank.post(ctx, "/confirm", map[string]string{"session_id": session}, nil)
}
