package mandarin

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
)

func TestClient_GETRefusedAsUnauthorizedIsAskedOnceMoreWithAFreshRequestID(t *testing.T) {
	var mu sync.Mutex
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get(headerXAuth))
		first := len(auths) == 1
		mu.Unlock()
		if first { // as Mandarin answers a replayed request id
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"Unauthorized"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"banks": sandbox.SandboxBanks[:1]})
	}))
	defer srv.Close()
	c, err := NewClient(Config{BaseURL: srv.URL, MerchantID: "42", Secret: "s"})
	require.NoError(t, err)

	banks, err := c.Banks(t.Context(), "")
	require.NoError(t, err)
	require.Len(t, banks, 1)
	require.Len(t, auths, 2)
	require.NotEqual(t, auths[0], auths[1], "a fresh request id")

	// A POST is never sent twice by the client: a refusal of a create is reported as it is.
	auths = nil
	_, err = c.CreateTransaction(t.Context(), TransactionRequest{Payment: Payment{OrderID: "po_1", Action: ActionPayout, Price: "1.00"}})
	require.Error(t, err)
	require.Len(t, auths, 1)
}
