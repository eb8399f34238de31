package bank131

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/httpx"
	"github.com/payoutflow/payoutflow/providers/internal/redact"
)

// Name is the provider's name in payout requests and errors.
const Name = payout.ProviderBank131

// DefaultBaseURL is Bank 131's demo host.
const DefaultBaseURL = "https://demo.bank131.ru"

// API methods, relative to BaseURL + "/api/v1/".
const (
	opCreate  = "session/create"
	opStart   = "session/start/payout"
	opConfirm = "session/confirm"
	opCancel  = "session/cancel"
	opStatus  = "session/status"
)

// Request headers.
const (
	headerProject        = "X-PARTNER-PROJECT"
	headerSign           = "X-PARTNER-SIGN"
	headerIdempotencyKey = "X-PARTNER-IDEMPOTENCY-KEY"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the bank's host; DefaultBaseURL when empty.
	BaseURL string
	// Project is the X-PARTNER-PROJECT issued by the bank.
	Project string
	// PrivateKey signs every request; the bank holds its public key.
	PrivateKey *rsa.PrivateKey
	// HTTPClient sends the requests; a client with a 30 s timeout that follows no redirects when nil.
	HTTPClient *http.Client
}

// Client calls the Bank 131 API (v1) with signed requests.
type Client struct {
	base    string
	project string
	key     *rsa.PrivateKey
	http    *http.Client
}

// NewClient checks cfg and returns a client.
func NewClient(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if err := httpx.CheckBaseURL(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("bank131: %w", err)
	}
	if cfg.Project == "" {
		return nil, errors.New("bank131: project is required")
	}
	if cfg.PrivateKey == nil {
		return nil, errors.New("bank131: private key is required")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = httpx.DefaultClient()
	}
	return &Client{
		base:    strings.TrimRight(cfg.BaseURL, "/") + "/api/v1/",
		project: cfg.Project,
		key:     cfg.PrivateKey,
		http:    hc,
	}, nil
}

// StartPayout is a payout to a card number in a created session. Its String method masks the card number.
type StartPayout struct {
	SessionID     string
	CardNumber    string
	RecipientName string
	// Amount is in minor units of Currency (10000 rub = 100 roubles).
	Amount   int64
	Currency string
	// Metadata comes back in responses and webhooks; any JSON value.
	Metadata any
	// IdempotencyKey, when set, is sent as X-PARTNER-IDEMPOTENCY-KEY.
	IdempotencyKey string
}

// String shows the payout without its card number.
func (p StartPayout) String() string {
	return fmt.Sprintf("bank131.StartPayout{session %s, card %s, %d %s}",
		p.SessionID, payout.Destination{Card: &payout.Card{Number: p.CardNumber}}.Masked().Card, p.Amount, p.Currency)
}

// CreateSession creates a payment session that holds no payout yet (session/create).
func (c *Client) CreateSession(ctx context.Context, metadata any) (Session, error) {
	return c.call(ctx, opCreate, "", createSessionBody{Metadata: metadata})
}

// StartPayout starts a payout to a card in a created session (session/start/payout).
func (c *Client) StartPayout(ctx context.Context, p StartPayout) (Session, error) {
	body := startPayoutBody{
		SessionID: p.SessionID,
		PaymentMethod: &paymentMethodBody{
			Type: "card",
			Card: &cardBody{Type: "bank_card", BankCard: &bankCardBody{Number: p.CardNumber}},
		},
		ParticipantDetails: &participantDetails{Recipient: &participant{FullName: p.RecipientName}},
		AmountDetails:      &AmountDetails{Amount: p.Amount, Currency: strings.ToLower(p.Currency)},
		Metadata:           p.Metadata,
	}
	return c.call(ctx, opStart, p.IdempotencyKey, body)
}

// Confirm tells the bank to execute a payout that waits for confirmation (session/confirm). An empty
// idempotencyKey sends none.
func (c *Client) Confirm(ctx context.Context, sessionID, idempotencyKey string) (Session, error) {
	return c.call(ctx, opConfirm, idempotencyKey, sessionIDBody{SessionID: sessionID})
}

// Cancel drops a session that waits to be started or confirmed (session/cancel). An empty idempotencyKey sends
// none.
func (c *Client) Cancel(ctx context.Context, sessionID, idempotencyKey string) (Session, error) {
	return c.call(ctx, opCancel, idempotencyKey, sessionIDBody{SessionID: sessionID})
}

// Status returns the session as it stands (session/status); it changes nothing.
func (c *Client) Status(ctx context.Context, sessionID string) (Session, error) {
	return c.call(ctx, opStatus, "", sessionIDBody{SessionID: sessionID})
}

// call sends one signed request and reads the session from the answer. Its errors are *providers.Error and never
// hold the request body.
func (c *Client) call(ctx context.Context, op, idempotencyKey string, reqBody any) (Session, error) {
	fail := func(certainty providers.Certainty, status int, apiErr *APIError, err error) (Session, error) {
		e := &providers.Error{Provider: Name, Op: op, Certainty: certainty, HTTPStatus: status, Err: redact.Error(err)}
		if apiErr != nil {
			e.Code, e.Description = apiErr.Code, redact.Text(apiErr.Description)
		}
		return Session{}, e
	}

	// Nothing has left the process until Do: these failures are known.
	body, err := json.Marshal(reqBody)
	if err != nil {
		return fail(providers.Known, 0, nil, fmt.Errorf("marshal request: %w", err))
	}
	sig, err := Sign(c.key, body)
	if err != nil {
		return fail(providers.Known, 0, nil, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+op, bytes.NewReader(body))
	if err != nil {
		return fail(providers.Known, 0, nil, fmt.Errorf("build request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(headerProject, c.project)
	req.Header.Set(headerSign, sig)
	if idempotencyKey != "" {
		req.Header.Set(headerIdempotencyKey, idempotencyKey)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		// The request may have reached the bank; even a refused connection is not the bank's refusal.
		return fail(providers.Unknown, 0, nil, err)
	}
	defer resp.Body.Close()
	raw, readErr := httpx.ReadResponse(resp)

	var env envelope
	parseErr := readErr
	if parseErr == nil {
		parseErr = json.Unmarshal(raw, &env)
	}
	if parseErr == nil && env.Status == "" {
		parseErr = errors.New("response has no status")
	}

	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if parseErr != nil {
			return fail(providers.Unknown, resp.StatusCode, nil, fmt.Errorf("read response: %w", parseErr))
		}
		if env.Status == "ok" {
			if env.Session == nil || env.Session.ID == "" {
				return fail(providers.Unknown, resp.StatusCode, nil, errors.New("read response: no session in it"))
			}
			return *env.Session, nil
		}
		return fail(errorCertainty(env.Error), resp.StatusCode, env.Error, nil)
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && parseErr == nil && env.Error != nil:
		return fail(errorCertainty(env.Error), resp.StatusCode, env.Error, nil)
	}
	// 5xx, a 4xx that is not the bank's error answer (a proxy's, say), a redirect: the outcome is unknown.
	var apiErr *APIError
	if parseErr == nil {
		apiErr = env.Error
	}
	return fail(providers.Unknown, resp.StatusCode, apiErr, nil)
}

// errorCertainty tells whether the bank's error answer means the request definitely took no effect.
func errorCertainty(e *APIError) providers.Certainty {
	if e == nil {
		return providers.Unknown
	}
	switch e.Code {
	case codeInternalError:
		// The bank asks to retry later: whether anything happened is not said.
		return providers.Unknown
	case codeIdempotencyKeyExists:
		// An earlier request with this key is in progress or done: this one did nothing, but what was asked may
		// well have happened. Ask for the status.
		return providers.Unknown
	}
	if strings.HasPrefix(e.Code, "provider_") {
		// provider_timeout, provider_internal_error, ...: the bank's own upstream failed; the docs say to retry
		// later, so whether it went through is not known.
		return providers.Unknown
	}
	return providers.Known
}
