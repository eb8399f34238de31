package providers_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
)

func TestRegistry_GivesTheCredentialCheckOfEachProviderThatHasOne(t *testing.T) {
	r := registry(t)
	for _, name := range r.Names() {
		_, ok := r.CredentialChecker(name)
		require.True(t, ok, "%s has a call that moves no money", name)
	}
	_, ok := r.CredentialChecker("nobody")
	require.False(t, ok)
}

func TestRefusedCredentials_WrapsOnly401And403(t *testing.T) {
	tests := []struct {
		status  int
		refused bool
	}{
		{http.StatusUnauthorized, true},
		{http.StatusForbidden, true},
		{http.StatusNotFound, false},
		{http.StatusBadGateway, false},
		{0, false},
	}
	for _, tt := range tests {
		err := providers.RefusedCredentials(&providers.Error{Provider: "p", Op: "op", HTTPStatus: tt.status})
		require.Equal(t, tt.refused, errors.Is(err, providers.ErrCredentialsRefused), "http %d", tt.status)
		var pe *providers.Error
		require.ErrorAs(t, err, &pe, "the provider's error stays readable")
	}
	require.NoError(t, providers.RefusedCredentials(nil))
}
