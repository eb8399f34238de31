package peer

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"go.temporal.io/sdk/client"
)

// Receiver takes the bank's webhooks and signals them to their payouts' workflows.
type Receiver struct {
	Client client.Client
	Log    *slog.Logger
}

// ServeHTTP serves POST /webhook: 200 once signalled, 400 for a webhook it does not know, 502 when the signal failed
// (the bank sends it again).
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/webhook" {
		http.NotFound(w, r)
		return
	}
	var hook Webhook
	if err := json.NewDecoder(r.Body).Decode(&hook); err != nil {
		http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	if hook.PayoutID == "" || (hook.Type != SignalReady && hook.Type != SignalFinished) {
		http.Error(w, "want a payout_id and a type of ready_to_confirm or payment_finished", http.StatusBadRequest)
		return
	}
	if err := rc.Client.SignalWorkflow(r.Context(), hook.PayoutID, "", hook.Type, hook); err != nil {
		rc.Log.Warn("signal", "type", hook.Type, "payout_id", hook.PayoutID, "error", err)
		http.Error(w, "signal: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusOK)
}
