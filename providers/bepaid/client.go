package bepaid

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/httpx"
	"github.com/payoutflow/payoutflow/providers/internal/redact"
)

// Name is the provider's name in payout requests and errors.
const Name = "bepaid"

// DefaultBaseURL is bePaid's card gateway.
const DefaultBaseURL = "https://gateway.bepaid.by"

// API methods, as they name a failed call (providers.Error.Op).
const (
	opPayout     = "transactions/payouts"
	opByUID      = "transactions/{uid}"
	opByTracking = "v2/transactions/tracking_id/{tracking_id}"
	opConfirm    = "confirm"
	opCancel     = "cancel"
)

// Error codes of refusals that carry no API v3 code of their own (providers.Error.Code).
const (
	CodeValidation   = "validation_error"  // 422: a parameter is wrong
	CodeUnauthorized = "unauthorized"      // 401: wrong shop id or secret key
	CodeForbidden    = "forbidden"         // 403
	CodeNotFound     = "not_found"         // 404: no such transaction
	CodeBadRequest   = "bad_request"       // any other 4xx with bePaid's error answer
	CodeDuplicate    = "duplicate_request" // refused by duplicate_check: Unknown, and Exists (see the package doc)
	CodeNotSupported = "not_supported"     // Confirm and Cancel: bePaid has neither
)

const (
	// headerSignature carries bePaid's signature of notifications and verification requests.
	headerSignature = "Content-Signature"
	// duplicateWord, in an error's message or base errors, marks a duplicate_check refusal.
	duplicateWord    = "duplicate"
	contentTypeJSON  = "application/json"
	transactionsPath = "transactions/"
	trackingIDPath   = "v2/transactions/tracking_id/"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the gateway; DefaultBaseURL when empty.
	BaseURL string
	// ShopID and SecretKey are the shop's credentials, sent as HTTP Basic auth.
	ShopID    string
	SecretKey string
	// HTTPClient sends the requests; a client with a 30 s timeout that follows no redirects when nil.
	HTTPClient *http.Client
}

// Client calls bePaid's card gateway API.
type Client struct {
	base   string
	shopID string
	secret string
	http   *http.Client
}

// NewClient checks cfg and returns a client.
func NewClient(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if err := httpx.CheckBaseURL(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("bepaid: %w", err)
	}
	if cfg.ShopID == "" {
		return nil, errors.New("bepaid: shop id is required")
	}
	if cfg.SecretKey == "" {
		return nil, errors.New("bepaid: secret key is required")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = httpx.DefaultClient()
	}
	return &Client{
		base:   strings.TrimRight(cfg.BaseURL, "/") + "/",
		shopID: cfg.ShopID,
		secret: cfg.SecretKey,
		http:   hc,
	}, nil
}

// CreatePayout sends a payout to a card (POST /transactions/payouts). A decline by the bank is no error: the
// transaction comes back with status failed.
func (c *Client) CreatePayout(ctx context.Context, p PayoutRequest) (Transaction, error) {
	body, err := json.Marshal(payoutEnvelope{Request: &p})
	if err != nil {
		return Transaction{}, &providers.Error{Provider: Name, Op: opPayout, Certainty: providers.Known,
			Err: redact.Error(fmt.Errorf("marshal request: %w", err))}
	}
	var tx Transaction
	err = c.call(ctx, opPayout, http.MethodPost, "transactions/payouts", body, func(raw []byte) error {
		return readTransaction(raw, &tx)
	})
	return tx, err
}

// Transaction returns a transaction by its uid (GET /transactions/{uid}); it changes nothing.
func (c *Client) Transaction(ctx context.Context, uid string) (Transaction, error) {
	if uid == "" {
		return Transaction{}, &providers.Error{Provider: Name, Op: opByUID, Certainty: providers.Known,
			Err: errors.New("uid is required")}
	}
	var tx Transaction
	err := c.call(ctx, opByUID, http.MethodGet, transactionsPath+url.PathEscape(uid), nil, func(raw []byte) error {
		return readTransaction(raw, &tx)
	})
	return tx, err
}

// ByTrackingID returns the transactions with a tracking_id, up to the 10 most recent (GET
// /v2/transactions/tracking_id/{id}); none is an empty list, not an error. It changes nothing.
func (c *Client) ByTrackingID(ctx context.Context, trackingID string) ([]Transaction, error) {
	if trackingID == "" {
		return nil, &providers.Error{Provider: Name, Op: opByTracking, Certainty: providers.Known,
			Err: errors.New("tracking id is required")}
	}
	var txs []Transaction
	err := c.call(ctx, opByTracking, http.MethodGet, trackingIDPath+url.PathEscape(trackingID), nil,
		func(raw []byte) error {
			var env transactionsEnvelope
			if err := json.Unmarshal(raw, &env); err != nil {
				return err
			}
			if env.Transactions == nil {
				return errors.New("no transactions in it")
			}
			txs = *env.Transactions
			return nil
		})
	return txs, err
}

// readTransaction reads {"transaction": {...}} with a uid.
func readTransaction(raw []byte, tx *Transaction) error {
	var env transactionEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return err
	}
	if env.Transaction == nil || env.Transaction.UID == "" {
		return errors.New("no transaction in it")
	}
	*tx = *env.Transaction
	return nil
}

// call sends one request and hands a 2xx body to read. Its errors are *providers.Error and never hold the request
// body or a card number.
func (c *Client) call(ctx context.Context, op, method, path string, reqBody []byte, read func([]byte) error) error {
	fail := func(certainty providers.Certainty, status int, code string, apiErr *APIError, err error) *providers.Error {
		e := &providers.Error{Provider: Name, Op: op, Certainty: certainty, HTTPStatus: status, Code: code,
			Err: redact.Error(err)}
		if apiErr != nil {
			e.Description = redact.Text(apiErr.text())
		}
		return e
	}

	var body io.Reader
	if reqBody != nil {
		body = bytes.NewReader(reqBody)
	}
	// Nothing has left the process until Do: this failure is known.
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fail(providers.Known, 0, "", nil, fmt.Errorf("build request: %w", err))
	}
	if reqBody != nil {
		req.Header.Set("Content-Type", contentTypeJSON)
	}
	req.Header.Set("Accept", contentTypeJSON)
	req.SetBasicAuth(c.shopID, c.secret)

	resp, err := c.http.Do(req)
	if err != nil {
		// The request may have reached bePaid; even a refused connection is not bePaid's refusal.
		return fail(providers.Unknown, 0, "", nil, err)
	}
	defer resp.Body.Close()
	raw, readErr := httpx.ReadResponse(resp)

	var apiErr *APIError
	if readErr == nil {
		apiErr = parseAPIError(raw)
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		parseErr := readErr
		if parseErr == nil {
			parseErr = read(raw)
		}
		if parseErr != nil {
			// Whatever it says, an answer without the transaction does not tell what happened.
			return fail(providers.Unknown, resp.StatusCode, codeOf(apiErr), apiErr,
				fmt.Errorf("read response: %w", parseErr))
		}
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && apiErr != nil:
		if apiErr.mentions(duplicateWord) {
			// duplicate_check refused this request because an identical one came within 30 s: this one did
			// nothing, but the earlier one exists and may well pay out. Look it up by tracking_id; never send
			// it again.
			dup := fail(providers.Unknown, resp.StatusCode, CodeDuplicate, apiErr, nil)
			dup.Exists = true
			return dup
		}
		return fail(providers.Known, resp.StatusCode, refusalCode(resp.StatusCode, apiErr), apiErr, nil)
	}
	// 5xx, a 4xx that is not bePaid's error answer (a proxy's, say), a redirect: the outcome is unknown.
	return fail(providers.Unknown, resp.StatusCode, codeOf(apiErr), apiErr, nil)
}

// refusalCode names a 4xx refusal: bePaid's API v3 code when it gave one, else one for the HTTP status.
func refusalCode(status int, e *APIError) string {
	if code := codeOf(e); code != "" {
		return code
	}
	switch status {
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusForbidden:
		return CodeForbidden
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusUnprocessableEntity:
		return CodeValidation
	}
	return CodeBadRequest
}

func codeOf(e *APIError) string {
	if e == nil {
		return ""
	}
	return string(e.Code)
}
