package bepaid

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"sync"
	"testing"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
)

const (
	testShopID    = "361"
	testSecretKey = "b8647b68898b084b836474ed8d61ffe117c9a01168d867f24953b776ddcb134d"
)

// testKeys are generated once per test binary: bePaid's key for the shop and another.
var testKeys = sync.OnceValues(func() (*rsa.PrivateKey, *rsa.PrivateKey) {
	gen := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	}
	return gen(), gen()
})

// bepaidKey is the key bePaid signs the shop's notifications with.
func bepaidKey() *rsa.PrivateKey { k, _ := testKeys(); return k }

// otherKey is a key that is not bePaid's.
func otherKey() *rsa.PrivateKey { _, k := testKeys(); return k }

func testWebhooks() *Webhooks {
	return NewWebhooks(testShopID, testSecretKey, &bepaidKey().PublicKey)
}

// cardRequest is a payout request of 100.00 BYN to card.
func cardRequest(card string) payout.Request {
	return payout.Request{
		Provider: Name,
		Amount:   payout.Amount{Value: 10000, Currency: "BYN"},
		Destination: payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{
			Number: card, Holder: "IVAN IVANOV", ExpMonth: "12", ExpYear: "2030",
		}},
		Recipient: payout.Recipient{FullName: "Ivanov Ivan"},
	}
}

// tokenRequest is a payout request of 100.00 BYN to a card token.
func tokenRequest(token string) payout.Request {
	r := cardRequest("")
	r.Destination.Card = &payout.Card{Token: token}
	return r
}

// requireProviderError asserts err is a *providers.Error of certainty and code, and returns it.
func requireProviderError(t *testing.T, err error, certainty providers.Certainty, code string) *providers.Error {
	t.Helper()
	return providertest.RequireError(t, err, Name, certainty, code)
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
