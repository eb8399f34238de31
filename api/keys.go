package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// Scopes an API key can hold.
const (
	ScopeCreate  = "create"  // start payouts
	ScopeRead    = "read"    // read and list payouts
	ScopeApprove = "approve" // confirm and cancel payouts
)

var allScopes = []string{ScopeCreate, ScopeRead, ScopeApprove}

// Key is an API key as configured: a name that identifies the caller, the SHA-256 of its secret (hex), and its
// scopes. The secret itself is never stored.
type Key struct {
	Name   string   `json:"name"`
	SHA256 string   `json:"sha256"`
	Scopes []string `json:"scopes"`
}

// Keys are the API keys the server accepts.
type Keys struct {
	keys []Key
	sums [][sha256.Size]byte
}

var keyNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$`)

// NewKeys checks keys: names unique and plain, hashes 64 hex digits, scopes known.
func NewKeys(keys []Key) (*Keys, error) {
	ks := &Keys{}
	seen := map[string]bool{}
	for i, k := range keys {
		if !keyNameRE.MatchString(k.Name) {
			return nil, fmt.Errorf("api keys: key %d: name %q must be 1-64 letters, digits, '.', '_', '@' or '-'", i, k.Name)
		}
		if n := strings.ToLower(k.Name); n == "policy" || n == "payoutflow" {
			return nil, fmt.Errorf("api keys: name %q is reserved for payoutflow's own decisions", k.Name)
		}
		if seen[k.Name] {
			return nil, fmt.Errorf("api keys: name %q is used twice", k.Name)
		}
		seen[k.Name] = true
		sum, err := hex.DecodeString(k.SHA256)
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("api keys: key %q: sha256 must be 64 hex digits (the SHA-256 of the secret)", k.Name)
		}
		if len(k.Scopes) == 0 {
			return nil, fmt.Errorf("api keys: key %q has no scopes; use some of %s", k.Name, strings.Join(allScopes, ", "))
		}
		for _, s := range k.Scopes {
			if !slices.Contains(allScopes, s) {
				return nil, fmt.Errorf("api keys: key %q: scope %q is not one of %s", k.Name, s, strings.Join(allScopes, ", "))
			}
		}
		ks.keys = append(ks.keys, k)
		ks.sums = append(ks.sums, [sha256.Size]byte(sum))
	}
	return ks, nil
}

// LoadKeys reads keys from a JSON file: {"keys": [{"name": "...", "sha256": "...", "scopes": ["create", ...]}]}.
func LoadKeys(path string) (*Keys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("api keys: %w", err)
	}
	var f struct {
		Keys []Key `json:"keys"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("api keys: %s: %w", path, err)
	}
	if len(f.Keys) == 0 {
		return nil, fmt.Errorf("api keys: %s holds no keys", path)
	}
	return NewKeys(f.Keys)
}

// HashSecret is the SHA-256, in hex, under which a secret is configured.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewSecret returns a new random API key secret.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("api keys: %w", err)
	}
	return "pf_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// EnsureDevKeys is for `make run`: it writes dir/api-keys.json with one key named "dev" holding every scope, and
// the key's secret to dir/dev-api-key (mode 0600), unless they exist. It returns the keys file's path.
func EnsureDevKeys(dir string) (string, error) {
	keysPath := filepath.Join(dir, "api-keys.json")
	secretPath := filepath.Join(dir, "dev-api-key")
	if _, err := os.Stat(keysPath); err == nil {
		return keysPath, nil
	}
	secret, err := NewSecret()
	if err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(map[string][]Key{"keys": {{Name: "dev", SHA256: HashSecret(secret), Scopes: allScopes}}}, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("api keys: %w", err)
	}
	if err := os.WriteFile(secretPath, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("api keys: %w", err)
	}
	if err := os.WriteFile(keysPath, append(b, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("api keys: %w", err)
	}
	return keysPath, nil
}

// find returns the key whose secret this is. Every configured key is compared, in constant time.
func (ks *Keys) find(secret string) (Key, bool) {
	sum := sha256.Sum256([]byte(secret))
	found := -1
	for i := range ks.sums {
		if subtle.ConstantTimeCompare(sum[:], ks.sums[i][:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Key{}, false
	}
	return ks.keys[found], true
}

const callerKey = "payoutflow.caller"

// authorize lets a request through only with an API key that holds the scope: 401 without a valid key, 403 without
// the scope. The caller's key is kept in the request's context for identity.
func (s *Server) authorize(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			secret, ok := bearer(c.Request())
			if !ok {
				return apiError(http.StatusUnauthorized, "unauthorized",
					"send your API key as 'Authorization: Bearer <key>'")
			}
			key, ok := s.cfg.Keys.find(secret)
			if !ok {
				s.logger(c.Request().Context()).Warn("api key rejected", "remote", c.RealIP(), "path", maskedPath(c.Request().URL.Path))
				return apiError(http.StatusUnauthorized, "unauthorized", "the API key is not valid")
			}
			if !slices.Contains(key.Scopes, scope) {
				return apiError(http.StatusForbidden, "forbidden",
					fmt.Sprintf("the API key %q lacks the %q scope", key.Name, scope))
			}
			c.Set(callerKey, key)
			return next(c)
		}
	}
}

// caller is the key that authorized the request.
func caller(c echo.Context) Key {
	k, _ := c.Get(callerKey).(Key)
	return k
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) > len(prefix) && strings.EqualFold(h[:len(prefix)], prefix) {
		return strings.TrimSpace(h[len(prefix):]), true
	}
	if k := r.Header.Get("X-API-Key"); k != "" {
		return k, true
	}
	return "", false
}
