package stacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/payoutflow/payoutflow/api"
	"github.com/payoutflow/payoutflow/payout"
)

// Reporter is told of every mismatch with the contract: a *testing.T, or anything with its Errorf.
type Reporter interface {
	Errorf(format string, args ...any)
}

// ContractTransport returns a RoundTripper that sends with base (http.DefaultTransport when nil) and checks every
// request to payoutflow's API and every answer against the API's OpenAPI contract (api/openapi.yaml), reporting
// each mismatch to r with the operation and the problem. A request is the API's when its path is under one of the
// contract's first path segments (/v1, /webhooks, /healthz, ...); others (a sandbox, the codec) pass unchecked.
//
// A request the contract refuses must be refused by the API too (4xx): tests send such requests on purpose, and the
// API agreeing is what the contract promises. Every answer must match the contract, whatever the request: its
// status must be one the operation declares, with the headers and body the contract gives it. A path the contract
// does not have must be answered 404, a method a path does not take 405, both with the contract's error body.
// Card numbers are masked in what is reported.
func ContractTransport(r Reporter, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &contractTransport{r: r, base: base}
}

// ContractClient is an *http.Client that sends through ContractTransport(r, nil).
func ContractClient(r Reporter) *http.Client {
	return &http.Client{Transport: ContractTransport(r, nil)}
}

type contractTransport struct {
	r    Reporter
	base http.RoundTripper
}

// seen are the answers checked so far, as "METHOD /path status", for ContractCoverage.
var seen sync.Map

// ContractCoverage returns the answers the contract declares (as "METHOD /path status") that no ContractTransport
// of this process has checked yet, and how many it declares.
func ContractCoverage() (unseen []string, declared int, err error) {
	c, err := contract()
	if err != nil {
		return nil, 0, err
	}
	for _, path := range slices.Sorted(maps.Keys(c.doc.Paths.Map())) {
		for method, op := range c.doc.Paths.Value(path).Operations() {
			for status := range op.Responses.Map() {
				declared++
				if key := method + " " + path + " " + status; !isSeen(key) {
					unseen = append(unseen, key)
				}
			}
		}
	}
	slices.Sort(unseen)
	return unseen, declared, nil
}

func isSeen(key string) bool { _, ok := seen.Load(key); return ok }

// reported are the problems reported so far, by reporter: a test that polls reads of the same mismatch once.
var reported sync.Map

// errorf reports one problem to t.r, once per reporter; detail (a body) is shown the first time only.
func (t *contractTransport) errorf(detail []byte, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if _, seen := reported.LoadOrStore(fmt.Sprintf("%p\x00%s", t.r, msg), true); seen {
		return
	}
	if detail != nil {
		msg += "\nbody: " + clip(detail)
	}
	t.r.Errorf("%s", msg)
}

// contract is the API's contract, loaded once.
var contract = sync.OnceValues(func() (*contractDoc, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPIYAML())
	if err != nil {
		return nil, fmt.Errorf("load api/openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("api/openapi.yaml is not valid OpenAPI: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route api/openapi.yaml: %w", err)
	}
	c := &contractDoc{doc: doc, router: router, prefixes: map[string]bool{}}
	for path := range doc.Paths.Map() {
		c.prefixes[firstSegment(path)] = true
	}
	ref := doc.Components.Schemas["ErrorResponse"]
	if ref == nil {
		return nil, errors.New("api/openapi.yaml has no components.schemas.ErrorResponse")
	}
	c.errorSchema = ref.Value
	return c, nil
})

type contractDoc struct {
	doc         *openapi3.T
	router      routers.Router
	prefixes    map[string]bool
	errorSchema *openapi3.Schema
}

func firstSegment(path string) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return "/" + seg
}

func (t *contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c, err := contract()
	if err != nil {
		t.errorf(nil, "contract: %v", err)
		return t.base.RoundTrip(req)
	}
	if !c.prefixes[firstSegment(req.URL.Path)] {
		return t.base.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("contract: read the request body: %w", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	op := req.Method + " " + req.URL.Path
	// HEAD is the GET of its path without the body (the contract's rule): it is checked as that GET.
	head := req.Method == http.MethodHead
	routed := req
	if head {
		routed = req.Clone(req.Context())
		routed.Method = http.MethodGet
	}
	route, params, routeErr := c.router.FindRoute(withBody(routed, body))
	var in *openapi3filter.RequestValidationInput
	var reqErr error
	if routeErr == nil {
		op = req.Method + " " + route.Path
		in = &openapi3filter.RequestValidationInput{Request: withBody(routed, body), PathParams: params, Route: route,
			Options: options(&openapi3filter.Options{AuthenticationFunc: authenticated})}
		reqErr = openapi3filter.ValidateRequest(req.Context(), in)
	}

	res, err := t.base.RoundTrip(req)
	if err != nil {
		return res, err
	}
	resBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	if err != nil {
		return res, err
	}

	switch {
	case errors.Is(routeErr, routers.ErrPathNotFound):
		t.checkError(c, op, res, resBody, http.StatusNotFound, "a path the contract does not have")
	case errors.Is(routeErr, routers.ErrMethodNotAllowed):
		t.checkError(c, op, res, resBody, http.StatusMethodNotAllowed, "a method the contract does not give this path")
	case routeErr != nil:
		t.errorf(nil, "contract: %s: %v", op, routeErr)
	default:
		if reqErr != nil && (res.StatusCode < 400 || res.StatusCode > 499) {
			t.errorf(body, "contract: %s: the request does not match the contract, yet the API answered %d, not 4xx: %s",
				op, res.StatusCode, masked(reqErr))
		}
		seen.Store(fmt.Sprintf("%s %d", op, res.StatusCode), true)
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode,
			Header: res.Header, Options: options(&openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: head})}
		out.SetBodyBytes(resBody)
		if err := openapi3filter.ValidateResponse(context.WithoutCancel(req.Context()), out); err != nil {
			t.errorf(resBody, "contract: %s: the answer %d does not match the contract: %s", op, res.StatusCode, masked(err))
		}
	}
	return res, nil
}

// ContractWebhook returns a handler for a test's backend that checks every request payoutflow sends it against the
// contract's webhook name (its top-level webhooks, as payoutEvent), reporting each mismatch to r, then serves it
// with next.
func ContractWebhook(r Reporter, name string, next http.Handler) http.Handler {
	t := &contractTransport{r: r}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		if err == nil {
			t.checkWebhook(name, withBody(req, body), body)
		}
		next.ServeHTTP(w, req)
	})
}

func (t *contractTransport) checkWebhook(name string, req *http.Request, body []byte) {
	c, err := contract()
	if err != nil {
		t.errorf(nil, "contract: %v", err)
		return
	}
	item := c.doc.Webhooks[name]
	if item == nil {
		t.errorf(nil, "contract: no webhook %q in api/openapi.yaml", name)
		return
	}
	op := item.GetOperation(req.Method)
	if op == nil {
		t.errorf(body, "contract: webhook %s is not sent as %s", name, req.Method)
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: req, Route: &routers.Route{Spec: c.doc, Path: name,
		PathItem: item, Method: req.Method, Operation: op}, Options: options(&openapi3filter.Options{})}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
		t.errorf(body, "contract: webhook %s %s: the request does not match the contract: %s", req.Method, name, masked(err))
	}
}

// checkError checks the answer to a request the contract has no operation for: want, with the contract's error body.
func (t *contractTransport) checkError(c *contractDoc, op string, res *http.Response, body []byte, want int, what string) {
	if res.StatusCode != want {
		t.errorf(body, "contract: %s is %s: answered %d, want %d", op, what, res.StatusCode, want)
		return
	}
	if res.Header.Get("X-Request-Id") == "" {
		t.errorf(nil, "contract: %s: the %d answer has no X-Request-Id", op, want)
	}
	if want == http.StatusMethodNotAllowed && res.Header.Get("Allow") == "" {
		t.errorf(nil, "contract: %s: the 405 answer has no Allow header naming the methods the path takes", op)
	}
	if res.Request != nil && res.Request.Method == http.MethodHead {
		return // a HEAD answer has no body
	}
	var v any
	err := json.Unmarshal(body, &v)
	if err == nil {
		err = c.errorSchema.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors(),
			openapi3.SetSchemaErrorMessageCustomizer(schemaProblem))
	}
	if err != nil {
		t.errorf(body, "contract: %s: the %d answer is not the contract's ErrorResponse: %s", op, want, masked(err))
	}
}

// options are o with every problem reported, each in one line.
func options(o *openapi3filter.Options) *openapi3filter.Options {
	o.MultiError = true
	o.WithCustomSchemaErrorFunc(schemaProblem)
	return o
}

// schemaProblem says where a value breaks its schema and how, without the schema and the value (a whole payout).
func schemaProblem(err *openapi3.SchemaError) string {
	return fmt.Sprintf("at /%s: %s", strings.Join(err.JSONPointer(), "/"), err.Reason)
}

// withBody is a copy of req whose body the validator may read.
func withBody(req *http.Request, body []byte) *http.Request {
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	return r
}

// authenticated checks that a request sends the credentials its security scheme names; whether they are valid is
// the API's to say.
func authenticated(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header
	switch s := in.SecurityScheme; {
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		v := h.Get("Authorization")
		if len(v) <= len("Bearer ") || !strings.EqualFold(v[:len("Bearer ")], "Bearer ") {
			return errors.New("no Authorization: Bearer <key>")
		}
	case s.Type == "apiKey" && s.In == "header":
		if h.Get(s.Name) == "" {
			return fmt.Errorf("no %s header", s.Name)
		}
	default:
		return fmt.Errorf("security scheme %s %s is not checked by stacktest", s.Type, s.Scheme)
	}
	return nil
}

func masked(err error) string { return string(payout.MaskCardNumbers([]byte(err.Error()))) }

func clip(b []byte) string {
	b = payout.MaskCardNumbers(b)
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}
