package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	bank131sandbox "github.com/payoutflow/payoutflow/providers/bank131/sandbox"
	mandarinsandbox "github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
)

// requireNotLogged checks that no log line holds any of secrets, as text and as JSON: the JSON handler renders
// values its own way (a struct marshalled whole, not formatted), so each format is checked.
func requireNotLogged(t *testing.T, msg string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		require.NotContains(t, st.logs.String(), s, msg+" (text logs)")
		require.NotContains(t, st.jsonLogs.String(), s, msg+" (JSON logs)")
	}
}

// payoutLogLines returns the stack's JSON log lines that name the payout (payout_id), and every line that mentions
// its id without naming it so.
func payoutLogLines(t *testing.T, id string) (named []map[string]any, unnamed []string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(st.jsonLogs.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		switch {
		case m["payout_id"] == id:
			named = append(named, m)
		case strings.Contains(line, id) && m["msg"] != "http" && !strings.HasSuffix(fmt.Sprint(m["component"]), "-sandbox"):
			// The access log names the path it served; the sandboxes are the providers' side.
			unnamed = append(unnamed, line)
		}
	}
	return named, unnamed
}

// A provider's refusal and a call of unknown outcome are handled by the workflow: they are logged, with the
// payout's fields, below ERROR, which is kept for what a person must act on. The SDK logs every failed activity at
// ERROR unless told otherwise.
func TestLogs_ARefusalAndAnUnknownOutcomeAreNoErrorsAndEveryLineNamesThePayoutAndProvider(t *testing.T) {
	tests := []struct {
		name, provider string
		run            func(t *testing.T) string
		want           string // a line the payout's activities log, and its level
		level          string
	}{
		{"Bank 131 refuses an unknown token", "bank131", func(t *testing.T) string {
			r := create(t, st.api.URL, t.Name(), bank131Payout(tokenDestination(bank131sandbox.SandboxTokenUnknown), ""))
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			id := r.state(t).ID
			require.Equal(t, "invalid_token", waitFor(t, id, payout.StatusFailed).Failure.ProviderCode)
			return id
		}, "provider refused", "INFO"},
		{"Mandarin answers a create 504", "mandarin", func(t *testing.T) string {
			st.mandarin.FailNext(1) // the create executes, then answers 504: its outcome is unknown until looked up
			id := createApproved(t, mandarinCard(fmt.Sprintf(`{"token":%q}`, mandarinsandbox.SandboxTokenSucceeds)))
			waitFor(t, id, payout.StatusSucceeded)
			return id
		}, "provider call of unknown outcome; the payout looks it up before anything else", "WARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.run(t)
			named, unnamed := payoutLogLines(t, id)
			require.Empty(t, unnamed, "every line about the payout names it in payout_id")
			msgs := map[string]string{}
			for _, l := range named {
				require.NotEqual(t, "ERROR", l["level"], "no person needs to act: %v", l)
				require.Equal(t, tt.provider, l["provider"], "every line about the payout names its provider: %v", l)
				msgs[fmt.Sprint(l["msg"])] = fmt.Sprint(l["level"])
			}
			require.Equal(t, tt.level, msgs[tt.want], "%v", msgs)
			require.Equal(t, "INFO", msgs["payout created"])
		})
	}
}
