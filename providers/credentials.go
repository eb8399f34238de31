package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// CredentialChecker is implemented by providers that have a call which moves no money (a balance, a list, a lookup
// of a reference that does not exist), by which they tell whether they accept our credentials. Readiness asks it at
// start and every few minutes, never per request.
type CredentialChecker interface {
	// CheckCredentials makes that call. Its error wraps ErrCredentialsRefused when the provider refuses our
	// credentials; any other error means the provider did not say (unreachable, 5xx, an answer it could not read).
	CheckCredentials(ctx context.Context) error
}

// ErrCredentialsRefused means a provider refused our credentials: no call to it can succeed until they are fixed.
var ErrCredentialsRefused = errors.New("credentials refused")

// RefusedCredentials is err wrapped with ErrCredentialsRefused when it is a provider's 401 or 403 answer (a
// *Error with that HTTP status), and err unchanged otherwise. Providers whose 401 and 403 mean something else tell
// for themselves.
func RefusedCredentials(err error) error {
	var pe *Error
	if errors.As(err, &pe) && (pe.HTTPStatus == http.StatusUnauthorized || pe.HTTPStatus == http.StatusForbidden) {
		return fmt.Errorf("%w: %w", ErrCredentialsRefused, err)
	}
	return err
}

// CredentialChecker returns the provider's credential check; false when the provider is not registered or has no
// call that moves no money to check them with.
func (r *Registry) CredentialChecker(name string) (CredentialChecker, bool) {
	e, ok := r.byName[name]
	if !ok {
		return nil, false
	}
	c, ok := e.plugin.(CredentialChecker)
	return c, ok
}
