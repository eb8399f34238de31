package mandarin

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
	"time"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/httpx"
	"github.com/payoutflow/payoutflow/providers/internal/redact"
)

// Name is the provider's name in payout requests and errors.
const Name = "mandarin"

// DefaultBaseURL is Mandarin's API; sandbox and production share it, the secret chooses.
const DefaultBaseURL = "https://secure.mandarinpay.com"

// Default timeouts: Mandarin recommends 600 s for API requests; the calls that create nothing get 30 s.
const (
	DefaultCreateTimeout  = 600 * time.Second
	DefaultRequestTimeout = 30 * time.Second
)

// API methods, as they name a failed call (providers.Error.Op).
const (
	opCreate     = "transactions"
	opBanks      = "sbp/banks"
	opSBPStatus  = "sbp/{id}/status"
	opSBPConfirm = "sbp/{id}/confirm"
	opSBPReject  = "sbp/{id}/reject"
	opBalance    = "account/channels/{name}/balance"
	opOperation  = "operations/{id}"
)

// Error codes (providers.Error.Code) of refusals that carry no errorCode of their own.
const (
	// CodeDuplicateOrderID: 400 "Duplicate order id" (errorCode -2). Unknown: this request did nothing, but a
	// payout with the orderId exists and succeeded or is in progress. Never create another: wait for its callback.
	CodeDuplicateOrderID = "duplicate_order_id"
	CodeInvalidRequest   = "invalid_request" // 400
	CodeUnauthorized     = "unauthorized"    // 401, 403: X-Auth refused
	CodeNotFound         = "not_found"       // 404
	CodeBadRequest       = "bad_request"     // any other 4xx with Mandarin's error answer
	CodeNotSupported     = "not_supported"   // Confirm and Cancel of a payout that waits for no confirmation
	// CodeOperationIDUnknown: Status was asked of a payout whose operation id is not known (the create's answer
	// was lost). Mandarin has no lookup by orderId: Submit again with the same orderId (see the package doc).
	CodeOperationIDUnknown = "operation_id_unknown"
	CodeUnsupportedPayout  = "unsupported_payout" // a payout Mandarin cannot make (currency, destination)
	CodeUnknownBank        = "unknown_bank"       // an SBP bank id not in the bank list
)

const (
	headerXAuth     = "X-Auth"
	contentTypeJSON = "application/json"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the API; DefaultBaseURL when empty.
	BaseURL string
	// MerchantID and Secret sign every request (X-Auth).
	MerchantID string
	Secret     string
	// HTTPClient sends the requests; when nil, a client that follows no redirects, its timeouts set per call.
	// A client given here keeps its own Timeout, which then bounds every call too.
	HTTPClient *http.Client
	// CreateTimeout bounds creating a transaction; 600 s (Mandarin's advice) when zero.
	CreateTimeout time.Duration
	// RequestTimeout bounds the other calls; 30 s when zero.
	RequestTimeout time.Duration
}

// Client calls Mandarin's API.
type Client struct {
	base          string
	merchantID    string
	secret        string
	http          *http.Client
	createTimeout time.Duration
	timeout       time.Duration
}

// NewClient checks cfg and returns a client.
func NewClient(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if err := httpx.CheckBaseURL(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("mandarin: %w", err)
	}
	if cfg.MerchantID == "" || strings.Contains(cfg.MerchantID, "-") {
		return nil, errors.New("mandarin: merchant id is required and holds no '-'")
	}
	if cfg.Secret == "" {
		return nil, errors.New("mandarin: secret is required")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.CreateTimeout <= 0 {
		cfg.CreateTimeout = DefaultCreateTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	return &Client{
		base:          strings.TrimRight(cfg.BaseURL, "/") + "/",
		merchantID:    cfg.MerchantID,
		secret:        cfg.Secret,
		http:          hc,
		createTimeout: cfg.CreateTimeout,
		timeout:       cfg.RequestTimeout,
	}, nil
}

// CreateTransaction creates a transaction (POST /api/transactions): a payout to a card token, a known card
// number, the payment page (no target) or SBP. Its answer is the operation id, and for the payment page the
// userWebLink; the result comes later by callback.
func (c *Client) CreateTransaction(ctx context.Context, t TransactionRequest) (Transaction, error) {
	body, err := json.Marshal(t)
	if err != nil {
		return Transaction{}, &providers.Error{Provider: Name, Op: opCreate, Certainty: providers.Known,
			Err: redact.Error(fmt.Errorf("marshal request: %w", err))}
	}
	var tx Transaction
	err = c.call(ctx, c.createTimeout, opCreate, http.MethodPost, "api/transactions", body, func(raw []byte) error {
		if err := json.Unmarshal(raw, &tx); err != nil {
			return err
		}
		if tx.ID == "" {
			return errors.New("no id in it")
		}
		return nil
	})
	return tx, err
}

// Banks lists the banks that take SBP payouts (GET /api/sbp/banks), those whose name contains name (any case)
// when name is not empty.
func (c *Client) Banks(ctx context.Context, name string) ([]Bank, error) {
	path := "api/sbp/banks"
	if name != "" {
		path += "?bankName=" + url.QueryEscape(name)
	}
	var banks []Bank
	err := c.call(ctx, c.timeout, opBanks, http.MethodGet, path, nil, func(raw []byte) error {
		var env banksEnvelope
		if err := json.Unmarshal(raw, &env); err != nil {
			return err
		}
		if env.Banks == nil {
			return errors.New("no banks in it")
		}
		banks = *env.Banks
		return nil
	})
	return banks, err
}

// SBPStatus asks where an SBP payout without the recipient's name stands (POST /api/sbp/{id}/status): pending
// while the bank checks the recipient, then success with the recipient's name (fio), or fail.
func (c *Client) SBPStatus(ctx context.Context, id string) (SBPStatus, error) {
	var st SBPStatus
	err := c.sbp(ctx, opSBPStatus, id, "status", func(raw []byte) error {
		if err := json.Unmarshal(raw, &st); err != nil {
			return err
		}
		if st.Status == "" {
			return errors.New("no status in it")
		}
		return nil
	})
	return st, err
}

// ConfirmSBP confirms an SBP payout without the recipient's name once its status is success (POST
// /api/sbp/{id}/confirm): the money goes to the recipient.
func (c *Client) ConfirmSBP(ctx context.Context, id string) error {
	return c.sbp(ctx, opSBPConfirm, id, "confirm", func([]byte) error { return nil })
}

// RejectSBP drops an SBP payout without the recipient's name that is not confirmed yet (POST
// /api/sbp/{id}/reject).
func (c *Client) RejectSBP(ctx context.Context, id string) error {
	return c.sbp(ctx, opSBPReject, id, "reject", func([]byte) error { return nil })
}

func (c *Client) sbp(ctx context.Context, op, id, verb string, read func([]byte) error) error {
	if id == "" {
		return &providers.Error{Provider: Name, Op: op, Certainty: providers.Known, Err: errors.New("id is required")}
	}
	return c.call(ctx, c.timeout, op, http.MethodPost, "api/sbp/"+url.PathEscape(id)+"/"+verb, nil, read)
}

// Balance is the balance of an account channel.
type Balance struct {
	Channel string        `json:"channel"`
	Amount  payout.Amount `json:"amount"`
}

// Balance returns the balance of the account that payouts are paid from (GET
// /api/account/channels/{name}/balance), channel openbank_direct or psb_direct. The answer's shape is not
// documented: see balanceWire. The currency is RUB unless the answer names another.
func (c *Client) Balance(ctx context.Context, channel string) (Balance, error) {
	if channel == "" {
		return Balance{}, &providers.Error{Provider: Name, Op: opBalance, Certainty: providers.Known,
			Err: errors.New("channel is required")}
	}
	out := Balance{Channel: channel}
	err := c.call(ctx, c.timeout, opBalance, http.MethodGet,
		"api/account/channels/"+url.PathEscape(channel)+"/balance", nil, func(raw []byte) error {
			var w balanceWire
			if err := json.Unmarshal(raw, &w); err != nil {
				return err
			}
			if len(w.Balance) == 0 {
				return errors.New("no balance in it")
			}
			v, err := ParsePrice(decimalText(w.Balance))
			if err != nil {
				return err
			}
			out.Amount = payout.Amount{Value: v, Currency: "RUB"}
			if w.Currency != "" {
				out.Amount.Currency = strings.ToUpper(w.Currency)
			}
			return nil
		})
	return out, err
}

// Operation returns an operation's state and card (GET /api/operations/{id}); it changes nothing.
func (c *Client) Operation(ctx context.Context, id string) (Operation, error) {
	if id == "" {
		return Operation{}, &providers.Error{Provider: Name, Op: opOperation, Certainty: providers.Known,
			Err: errors.New("operation id is required")}
	}
	var op Operation
	err := c.call(ctx, c.timeout, opOperation, http.MethodGet, "api/operations/"+url.PathEscape(id), nil,
		func(raw []byte) error {
			if err := json.Unmarshal(raw, &op); err != nil {
				return err
			}
			if op.State == "" {
				return errors.New("no state in it")
			}
			return nil
		})
	return op, err
}

// call sends one request with a fresh X-Auth and hands a 2xx body to read. Its errors are *providers.Error and
// never hold the request body or a card number.
//
// X-Auth request ids are single-use, and Go's transport sends a GET again, with the same headers, when a reused
// connection closes before the answer: Mandarin then refuses the copy as unauthorized. So a GET refused as
// unauthorized is asked once more with a fresh request id; it changes nothing at Mandarin.
func (c *Client) call(ctx context.Context, timeout time.Duration, op, method, path string, reqBody []byte,
	read func([]byte) error) error {
	err := c.callOnce(ctx, timeout, op, method, path, reqBody, read)
	var pe *providers.Error
	if method == http.MethodGet && errors.As(err, &pe) && pe.Code == CodeUnauthorized {
		err = c.callOnce(ctx, timeout, op, method, path, reqBody, read)
	}
	return err
}

func (c *Client) callOnce(ctx context.Context, timeout time.Duration, op, method, path string, reqBody []byte,
	read func([]byte) error) error {
	fail := func(certainty providers.Certainty, status int, code string, apiErr *APIError, err error) *providers.Error {
		e := &providers.Error{Provider: Name, Op: op, Certainty: certainty, HTTPStatus: status, Code: code,
			Err: redact.Error(err)}
		if apiErr != nil {
			e.Description = redact.Text(apiErr.Message)
		}
		return e
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

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
	req.Header.Set(headerXAuth, XAuth(c.merchantID, NewRequestID(), c.secret))

	resp, err := c.http.Do(req)
	if err != nil {
		// Timeout, connection lost or refused: the request may have reached Mandarin.
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
			return fail(providers.Unknown, resp.StatusCode, "", apiErr, fmt.Errorf("read response: %w", parseErr))
		}
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && apiErr != nil:
		if apiErr.duplicate() {
			// This request did nothing, but the first one with the orderId exists: succeeded or in progress.
			dup := fail(providers.Unknown, resp.StatusCode, CodeDuplicateOrderID, apiErr, nil)
			dup.Exists = true
			return dup
		}
		return fail(providers.Known, resp.StatusCode, refusalCode(resp.StatusCode, apiErr), apiErr, nil)
	}
	// 5xx (502, 504), a 4xx that is not Mandarin's error answer, a redirect: the outcome is unknown.
	return fail(providers.Unknown, resp.StatusCode, "", apiErr, nil)
}

// refusalCode names a 4xx refusal: Mandarin's errorCode when it gave one, else one for the HTTP status.
func refusalCode(status int, e *APIError) string {
	if e.ErrorCode != nil {
		return fmt.Sprint(*e.ErrorCode)
	}
	switch status {
	case http.StatusBadRequest:
		return CodeInvalidRequest
	case http.StatusUnauthorized, http.StatusForbidden:
		return CodeUnauthorized
	case http.StatusNotFound:
		return CodeNotFound
	}
	return CodeBadRequest
}
