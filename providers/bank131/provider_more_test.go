package bank131

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131/sandbox"
)

// tokenRequest is a payout request of 100.00 RUB to a card token.
func tokenRequest(token string) payout.Request {
	r := cardRequest("")
	r.Destination.Card = &payout.Card{Token: token}
	return r
}

// sbpRequest is an SBP payout request of 100.00 RUB to phone at the sandbox's bank.
func sbpRequest(phone string) payout.Request {
	return payout.Request{
		Provider:    Name,
		Amount:      payout.Amount{Value: 10000, Currency: "RUB"},
		Destination: payout.Destination{Type: payout.DestinationSBP, SBP: &payout.SBP{Phone: phone, BankID: sandbox.SandboxBankID}},
		Recipient:   payout.Recipient{FullName: "Ivanov Ivan"},
		Description: "Payout for order 123",
	}
}

func TestSingleRequest(t *testing.T) {
	single := cardRequest(sandbox.SandboxCardSucceeds)
	single.SingleRequest = true
	nominal := tokenRequest(sandbox.SandboxTokenSucceeds)
	nominal.SourceAccount = payout.SourceNominal
	settlement := tokenRequest(sandbox.SandboxTokenSucceeds)
	settlement.SourceAccount = payout.SourceSettlement
	tests := []struct {
		name string
		req  payout.Request
		want bool
	}{
		{"a card payout opens a session first", cardRequest(sandbox.SandboxCardSucceeds), false},
		{"a token payout opens a session first", tokenRequest(sandbox.SandboxTokenSucceeds), false},
		{"single_request is one call", single, true},
		{"a payout from the nominal account is one call", nominal, true},
		{"a payout from the settlement account is one call", settlement, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, SingleRequest(tt.req))
		})
	}
}

func TestProvider_SubmitCallsTheMethodOfThePayout(t *testing.T) {
	single := func(r payout.Request) payout.Request { r.SingleRequest = true; return r }
	from := func(account string, r payout.Request) payout.Request { r.SourceAccount = account; return r }
	tests := []struct {
		name    string
		ref     providers.Ref
		req     payout.Request
		paths   []string
		idemKey string
	}{
		{"card in a session", providers.Ref{PayoutID: "po_1", SessionID: "ps_1"}, cardRequest(sandbox.SandboxCardSucceeds),
			[]string{"/api/v1/session/start/payout"}, "po_1:start"},
		{"token in a session", providers.Ref{PayoutID: "po_1", SessionID: "ps_1"}, tokenRequest(sandbox.SandboxTokenSucceeds),
			[]string{"/api/v1/token/info", "/api/v1/session/start/payout"}, "po_1:start"},
		{"SBP in a session", providers.Ref{PayoutID: "po_1", SessionID: "ps_1"}, sbpRequest(sandbox.SandboxPhoneSucceeds),
			[]string{"/api/v1/session/start/payout"}, "po_1:start"},
		{"single-request card", providers.Ref{PayoutID: "po_1"}, single(cardRequest(sandbox.SandboxCardSucceeds)),
			[]string{"/api/v1/session/init/payout"}, "po_1:init"},
		{"single-request token", providers.Ref{PayoutID: "po_1"}, single(tokenRequest(sandbox.SandboxTokenSucceeds)),
			[]string{"/api/v1/token/info", "/api/v1/session/init/payout"}, "po_1:init"},
		{"single-request SBP", providers.Ref{PayoutID: "po_1"}, single(sbpRequest(sandbox.SandboxPhoneSucceeds)),
			[]string{"/api/v1/session/init/payout"}, "po_1:init"},
		{"token from the nominal account", providers.Ref{PayoutID: "po_1"},
			from(payout.SourceNominal, tokenRequest(sandbox.SandboxTokenSucceeds)),
			[]string{"/api/v1/token/info", "/api/v1/session/init/payout/nominal"}, "po_1:init"},
		{"token from the settlement account", providers.Ref{PayoutID: "po_1"},
			from(payout.SourceSettlement, tokenRequest(sandbox.SandboxTokenSucceeds)),
			[]string{"/api/v1/token/info", "/api/v1/session/init/payout/rko"}, "po_1:init"},
		{"a single-request payout in an opened session is started there", providers.Ref{PayoutID: "po_1", SessionID: "ps_1"},
			single(cardRequest(sandbox.SandboxCardSucceeds)), []string{"/api/v1/session/start/payout"}, "po_1:start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, requests := fakeBank(t, http.StatusOK, `{"status":"ok","session":{"id":"ps_9","status":"in_progress"},
				"info":{"brand":"mir","last4":"1098","type":"card"}}`)
			p := NewProvider(newTestClient(t, srv.URL))

			out, err := p.Submit(context.Background(), tt.ref, tt.req)

			require.NoError(t, err)
			require.Equal(t, "ps_9", out.Ref.SessionID)
			reqs := requests()
			var paths []string
			for _, r := range reqs {
				paths = append(paths, r.Path)
			}
			require.Equal(t, tt.paths, paths)
			last := reqs[len(reqs)-1]
			require.Equal(t, tt.idemKey, last.Header.Get(headerIdempotencyKey))
			require.Contains(t, string(last.Body), `"metadata":"po_1"`)
			if tt.req.Destination.Card != nil && tt.req.Destination.Card.Token != "" {
				require.Equal(t, &payout.MaskedCard{Brand: "mir", Last4: "1098", Tokenized: true}, out.Card)
			}
		})
	}
}

func TestProvider_StatusTellsTheSessionStatus(t *testing.T) {
	tests := []struct {
		name    string
		session string
		state   providers.State
		status  string
	}{
		{"a session in error is pending, flagged", `{"id":"ps_1","status":"error","error":{"code":"provider_timeout"},
			"payments":[{"id":"po_1","status":"in_progress","metadata":"po_ours"}]}`, providers.StatePending, "error"},
		{"an accepted session", `{"id":"ps_1","status":"accepted",
			"payments":[{"id":"po_1","status":"succeeded","metadata":"po_ours"}]}`, providers.StateSucceeded, "accepted"},
		{"a created session", `{"id":"ps_1","status":"created"}`, providers.StateCreated, "created"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := fakeBank(t, http.StatusOK, `{"status":"ok","session":`+tt.session+`}`)
			p := NewProvider(newTestClient(t, srv.URL))

			out, err := p.Status(context.Background(), providers.Ref{PayoutID: "po_ours", SessionID: "ps_1"})

			require.NoError(t, err)
			require.Equal(t, tt.state, out.State)
			require.Equal(t, tt.status, out.Details[DetailSessionStatus])
		})
	}
}

func TestProvider_TransferWithASessionOnlyAsksItsStatus(t *testing.T) {
	srv, requests := fakeBank(t, http.StatusOK, okSession)
	p := NewProvider(newTestClient(t, srv.URL))

	out, err := p.Transfer(context.Background(), providers.Ref{PayoutID: "po_t", SessionID: "ps_1"}, seedTransfer())

	require.NoError(t, err)
	require.Equal(t, "ps_1", out.Ref.SessionID)
	require.Len(t, requests(), 1)
	require.Equal(t, "/api/v1/session/status", requests()[0].Path)
}

func TestProvider_TokenInfoFailures(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		certainty providers.Certainty
		code      string
	}{
		{"an unknown token is invalid_token", 400,
			`{"status":"error","error":{"code":"invalid_request","description":"card.tokenized_card.token: no such token"}}`,
			providers.Known, "invalid_token"},
		{"a refused signature stays the bank's", 401,
			`{"status":"error","error":{"code":"authentication_error","description":"bad sign"}}`,
			providers.Known, "authentication_error"},
		{"no answer is unknown", 502, `<html>Bad Gateway</html>`, providers.Unknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, requests := fakeBank(t, tt.status, tt.body)
			p := NewProvider(newTestClient(t, srv.URL))

			_, err := p.Submit(context.Background(), providers.Ref{PayoutID: "po_1", SessionID: "ps_1"},
				tokenRequest(sandbox.SandboxTokenUnknown))

			pe := requireProviderError(t, err, tt.certainty, tt.code)
			require.Equal(t, "token/info", pe.Op)
			require.Len(t, requests(), 1, "nothing submitted")
		})
	}
}
