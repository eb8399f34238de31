package bank131

import (
	"crypto/rsa"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
)

const testProject = "test-project"

// testKeys returns the fixed partner and bank keys.
func testKeys(t testing.TB) (partner, bank *rsa.PrivateKey) {
	t.Helper()
	partner, err := ParsePrivateKeyPEM([]byte(testPartnerKeyPKCS1))
	require.NoError(t, err)
	bank, err = ParsePrivateKeyPEM([]byte(testBankKeyPKCS1))
	require.NoError(t, err)
	return partner, bank
}

// cardRequest is a payout request of 100.00 RUB to card.
func cardRequest(card string) payout.Request {
	return payout.Request{
		Provider:    Name,
		Amount:      payout.Amount{Value: 10000, Currency: "RUB"},
		Destination: payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Number: card}},
		Recipient:   payout.Recipient{FullName: "Ivanov Ivan"},
	}
}

// requireProviderError asserts err is a *providers.Error of certainty and code, and returns it.
func requireProviderError(t *testing.T, err error, certainty providers.Certainty, code string) *providers.Error {
	t.Helper()
	return providertest.RequireError(t, err, Name, certainty, code)
}
