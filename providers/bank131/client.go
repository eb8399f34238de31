package bank131

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/httpx"
	"github.com/payoutflow/payoutflow/providers/internal/redact"
)

// Name is the provider's name in payout requests and errors.
const Name = "bank131"

// DefaultBaseURL is Bank 131's demo host.
const DefaultBaseURL = "https://demo.bank131.ru"

// API methods, relative to BaseURL + "/api/v1/".
const (
	opCreate      = "session/create"
	opStart       = "session/start/payout"
	opInit        = "session/init/payout"
	opInitNominal = "session/init/payout/nominal"
	opInitRKO     = "session/init/payout/rko"
	opMultiInit   = "session/multi/init"
	opConfirm     = "session/confirm"
	opCancel      = "session/cancel"
	opStatus      = "session/status"
	opTokenInfo   = "token/info"
	opFPSBanks    = "fps/banks" // GET
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

// StartPayout is a payout in a created session (session/start/payout) or, without SessionID, one that creates its
// session (session/init/payout and its variants). Exactly one of CardNumber, CardToken and SBP names where the
// money goes. Its String, GoString and Format show no card number and no full phone number.
type StartPayout struct {
	SessionID string
	// CardNumber is the card's number (bank_card).
	CardNumber string
	// CardToken is the bank's token of a card (tokenized_card).
	CardToken string
	// SBP is a payout by phone number through the Faster Payments System (bank_account faster_payment_system).
	SBP *SBPPayout
	// RecipientName is participant_details.recipient.full_name; sent when not empty.
	RecipientName string
	// Amount is in minor units of Currency (10000 rub = 100 roubles).
	Amount   int64
	Currency string
	// Metadata comes back in responses and webhooks; any JSON value.
	Metadata any
	// IdempotencyKey, when set, is sent as X-PARTNER-IDEMPOTENCY-KEY.
	IdempotencyKey string
}

// SBPPayout is the recipient of an SBP payout.
type SBPPayout struct {
	// Phone is the recipient's phone, +7XXXXXXXXXX or 7XXXXXXXXXX; it is sent as digits only, as the bank shows it.
	Phone string
	// BankID is the recipient's bank, its SBP id from fps/banks.
	BankID string
	// Description is the payout's purpose, at most 140 characters.
	Description string
}

// String shows the payout without its card number, token or full phone number.
func (p StartPayout) String() string {
	return fmt.Sprintf("bank131.StartPayout{session %s, %s, %d %s}", p.SessionID, p.destination(), p.Amount, p.Currency)
}

// GoString is String: %#v shows no card number either.
func (p StartPayout) GoString() string { return p.String() }

// Format prints String whatever the verb, so that no verb shows the card number.
func (p StartPayout) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

// destination names where the payout goes, masked.
func (p StartPayout) destination() string {
	switch {
	case p.CardNumber != "":
		return "card " + payout.Destination{Card: &payout.Card{Number: p.CardNumber}}.Masked().Card.String()
	case p.CardToken != "":
		return "tokenized card"
	case p.SBP != nil:
		return "sbp phone •" + lastN(p.SBP.Phone, 4) + " bank " + p.SBP.BankID
	}
	return "no destination"
}

// paymentMethod is the request's payment_method, or an error naming what is wrong with the destination.
func (p StartPayout) paymentMethod() (*paymentMethodBody, error) {
	n := 0
	for _, set := range []bool{p.CardNumber != "", p.CardToken != "", p.SBP != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, errors.New("only one of card number, card token and SBP may be given")
	}
	switch {
	case p.CardNumber != "" || n == 0: // none: an empty card number, which the bank refuses with its own words
		return &paymentMethodBody{Type: "card",
			Card: &cardBody{Type: "bank_card", BankCard: &bankCardBody{Number: p.CardNumber}}}, nil
	case p.CardToken != "":
		return &paymentMethodBody{Type: "card",
			Card: &cardBody{Type: "tokenized_card", TokenizedCard: &TokenizedCard{Token: p.CardToken}}}, nil
	}
	return &paymentMethodBody{Type: "bank_account", BankAccount: &BankAccountDetails{
		SystemType: systemFPS,
		FasterPaymentSystem: &FPSAccount{
			Phone:       strings.TrimPrefix(p.SBP.Phone, "+"),
			BankID:      p.SBP.BankID,
			Description: p.SBP.Description,
		},
	}}, nil
}

// body is the request body of start (with the session) or init (without).
func (p StartPayout) body() (startPayoutBody, error) {
	pm, err := p.paymentMethod()
	if err != nil {
		return startPayoutBody{}, err
	}
	b := startPayoutBody{
		SessionID:     p.SessionID,
		PaymentMethod: pm,
		AmountDetails: &AmountDetails{Amount: p.Amount, Currency: strings.ToLower(p.Currency)},
		Metadata:      p.Metadata,
	}
	if p.RecipientName != "" {
		b.ParticipantDetails = &participantDetails{Recipient: &participant{FullName: p.RecipientName}}
	}
	return b, nil
}

// CreateSession creates a payment session that holds no payout yet (session/create).
func (c *Client) CreateSession(ctx context.Context, metadata any) (Session, error) {
	return c.call(ctx, opCreate, "", createSessionBody{Metadata: metadata})
}

// StartPayout starts a payout in a created session (session/start/payout); the bank refuses one without
// SessionID.
func (c *Client) StartPayout(ctx context.Context, p StartPayout) (Session, error) {
	body, err := p.body()
	if err != nil {
		return Session{}, localError(opStart, err)
	}
	return c.call(ctx, opStart, p.IdempotencyKey, body)
}

// InitPayout creates a session and its payout in one call: session/init/payout from the default account,
// session/init/payout/nominal from the nominal (escrow) account (payout.SourceNominal) and
// session/init/payout/rko from the settlement account (payout.SourceSettlement). p.SessionID must be empty.
func (c *Client) InitPayout(ctx context.Context, account string, p StartPayout) (Session, error) {
	op, err := initOp(account)
	if err != nil {
		return Session{}, localError(opInit, err)
	}
	if p.SessionID != "" {
		return Session{}, localError(op, errors.New("init creates its own session: use StartPayout for a created one"))
	}
	body, err := p.body()
	if err != nil {
		return Session{}, localError(op, err)
	}
	return c.call(ctx, op, p.IdempotencyKey, body)
}

// initOp is the init method for a source account.
func initOp(account string) (string, error) {
	switch account {
	case "":
		return opInit, nil
	case payout.SourceNominal:
		return opInitNominal, nil
	case payout.SourceSettlement:
		return opInitRKO, nil
	}
	return "", fmt.Errorf("unknown source account %q: want %q or %q", account, payout.SourceNominal,
		payout.SourceSettlement)
}

// TokenInfo tells the brand and last four digits of the card behind a tokenized_card token (token/info). A token
// the bank does not know is a Known error with the bank's code.
func (c *Client) TokenInfo(ctx context.Context, token string) (TokenInfo, error) {
	if token == "" {
		return TokenInfo{}, localError(opTokenInfo, errors.New("token is empty"))
	}
	var info TokenInfo
	err := c.send(ctx, http.MethodPost, c.project, opTokenInfo, "",
		tokenInfoBody{Type: "card", Card: &cardBody{Type: "tokenized_card", TokenizedCard: &TokenizedCard{Token: token}}},
		func(env envelope) error {
			if env.Info == nil || env.Info.Last4 == "" {
				return errors.New("no token info in it")
			}
			info = *env.Info
			return nil
		})
	return info, err
}

// FPSBanks lists the banks that take SBP payouts (GET fps/banks).
func (c *Client) FPSBanks(ctx context.Context) ([]SBPBank, error) {
	var banks []SBPBank
	err := c.send(ctx, http.MethodGet, c.project, opFPSBanks, "", nil, func(env envelope) error {
		banks = env.Banks
		return nil
	})
	return banks, err
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

// call sends one signed POST and reads the session from the answer.
func (c *Client) call(ctx context.Context, op, idempotencyKey string, reqBody any) (Session, error) {
	return c.callAs(ctx, "", op, idempotencyKey, reqBody)
}

// callAs is call under another X-PARTNER-PROJECT (a promo rate's project); "" is the client's project.
func (c *Client) callAs(ctx context.Context, project, op, idempotencyKey string, reqBody any) (Session, error) {
	if project == "" {
		project = c.project
	}
	var s Session
	err := c.send(ctx, http.MethodPost, project, op, idempotencyKey, reqBody, func(env envelope) error {
		if env.Session == nil || env.Session.ID == "" {
			return errors.New("no session in it")
		}
		s = *env.Session
		return nil
	})
	return s, err
}

// send sends one signed request under project (a nil reqBody sends an empty body, signed as such) and hands a
// successful answer to read. Its errors are *providers.Error and never hold the request body.
func (c *Client) send(ctx context.Context, method, project, op, idempotencyKey string, reqBody any,
	read func(envelope) error) error {
	fail := func(certainty providers.Certainty, status int, apiErr *APIError, err error) error {
		e := &providers.Error{Provider: Name, Op: op, Certainty: certainty, HTTPStatus: status, Err: redact.Error(err)}
		if apiErr != nil {
			e.Code, e.Description = apiErr.Code, redact.Text(apiErr.Description)
			// An earlier request with this key was taken: this one did nothing, what it asked for exists.
			e.Exists = apiErr.Code == codeIdempotencyKeyExists
		}
		return e
	}

	// Nothing has left the process until Do: these failures are known.
	var body []byte
	if reqBody != nil {
		var err error
		if body, err = json.Marshal(reqBody); err != nil {
			return fail(providers.Known, 0, nil, fmt.Errorf("marshal request: %w", err))
		}
	}
	sig, err := Sign(c.key, body)
	if err != nil {
		return fail(providers.Known, 0, nil, err)
	}
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+op, rd)
	if err != nil {
		return fail(providers.Known, 0, nil, fmt.Errorf("build request: %w", err))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set(headerProject, project)
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
			if err := read(env); err != nil {
				return fail(providers.Unknown, resp.StatusCode, nil, fmt.Errorf("read response: %w", err))
			}
			return nil
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

// localError is a call refused before anything was sent: its outcome is known.
func localError(op string, err error) error {
	return &providers.Error{Provider: Name, Op: op, Certainty: providers.Known, Err: redact.Error(err)}
}

// lastN is the last n characters of s, or s when it is shorter.
func lastN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
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
