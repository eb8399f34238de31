package mandarin

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
)

func callbackFields() url.Values {
	f := url.Values{"transaction": {"05991602ed7c47d996ca7ab119b07f66"}, "status": {"success"},
		"action": {"payout"}, "merchantId": {testMerchantID}, "price": {"12.34"}, "orderId": {"po_1"},
		"object_type": {"transaction"}}
	f.Set("sign", Sign(f, testSecret))
	return f
}

func TestValidCallbackBecomesAnEvent(t *testing.T) {
	events, err := NewWebhooks(testMerchantID, testSecret).Translate(nil, []byte(callbackFields().Encode()))
	require.NoError(t, err)
	require.Len(t, events, 1)
	e := events[0]
	require.Equal(t, providers.EventPaymentFinished, e.Kind)
	require.Equal(t, Name, e.Provider)
	require.Equal(t, providers.Ref{PayoutID: "po_1", SessionID: "05991602ed7c47d996ca7ab119b07f66"}, e.Outcome.Ref)
	require.Equal(t, providers.StateSucceeded, e.Outcome.State)
	require.Equal(t, int64(1234), e.Outcome.Amount.Value)
}

func TestForgedCallbacksAreRefused(t *testing.T) {
	for name, mutate := range map[string]func(url.Values){
		"missing sign":      func(f url.Values) { f.Del("sign") },
		"bad sign":          func(f url.Values) { f.Set("sign", "00"+f.Get("sign")[2:]) },
		"changed status":    func(f url.Values) { f.Set("status", "failed") },
		"added field":       func(f url.Values) { f.Set("extra", "x") },
		"signed by another": func(f url.Values) { f.Del("sign"); f.Set("sign", Sign(f, "other")) },
		"another merchant": func(f url.Values) {
			f.Del("sign")
			f.Set("merchantId", "999")
			f.Set("sign", Sign(f, testSecret))
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := callbackFields()
			mutate(f)
			_, err := NewWebhooks(testMerchantID, testSecret).Translate(nil, []byte(f.Encode()))
			require.ErrorIs(t, err, providers.ErrBadSignature)
		})
	}
	_, err := NewWebhooks(testMerchantID, "").Translate(nil, []byte(callbackFields().Encode()))
	require.ErrorIs(t, err, providers.ErrBadSignature, "no secret trusts nothing")
}

func TestCallbackWithoutOrderIDIsMalformed(t *testing.T) {
	f := callbackFields()
	f.Del("sign")
	f.Del("orderId")
	f.Set("sign", Sign(f, testSecret))
	_, err := NewWebhooks(testMerchantID, testSecret).Translate(nil, []byte(f.Encode()))
	var me *providers.MalformedError
	require.ErrorAs(t, err, &me)
}

func TestAcknowledgeIsOK(t *testing.T) {
	ct, body := NewWebhooks(testMerchantID, testSecret).Acknowledge()
	require.Equal(t, "OK", string(body))
	require.Contains(t, ct, "text/plain")
}
