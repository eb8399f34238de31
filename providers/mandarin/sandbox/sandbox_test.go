package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/faults"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
	"github.com/payoutflow/payoutflow/providers/mandarin"
)

func TestBalanceDecreasesWithPayouts(t *testing.T) {
	e := newEnv(t, mandarin.ProviderOptions{}, SandboxConfig{})
	e.sandbox.SetBalance(ChannelOpenbank, 1_000_00)
	b, err := e.client.Balance(t.Context(), ChannelOpenbank)
	require.NoError(t, err)
	require.Equal(t, mandarin.Balance{Channel: ChannelOpenbank, Amount: payout.Amount{Value: 1_000_00, Currency: "RUB"}}, b)

	_, err = e.provider.Submit(t.Context(), providers.Ref{PayoutID: "po_1"},
		cardRequest(payout.Card{Token: SandboxTokenSucceeds}, 250_05))
	require.NoError(t, err)
	nextEvent(t, e.events)
	b, err = e.client.Balance(t.Context(), ChannelOpenbank)
	require.NoError(t, err)
	require.Equal(t, int64(749_95), b.Amount.Value)
	psb, err := e.client.Balance(t.Context(), ChannelPSB)
	require.NoError(t, err)
	require.Equal(t, DefaultSandboxBalance, psb.Amount.Value, "another channel is untouched")

	_, err = e.provider.Submit(t.Context(), providers.Ref{PayoutID: "po_2"},
		cardRequest(payout.Card{Token: SandboxTokenSucceeds}, 1_000_00))
	require.NoError(t, err)
	require.Equal(t, providers.StateFailed, nextEvent(t, e.events).Outcome.State, "insufficient funds")
	require.Len(t, e.sandbox.Ledger(), 1)

	_, err = e.client.Balance(t.Context(), "nope")
	providertest.RequireError(t, err, mandarin.Name, providers.Known, mandarin.CodeNotFound)
}

func TestBankListAndFilter(t *testing.T) {
	e := newEnv(t, mandarin.ProviderOptions{}, SandboxConfig{})
	all, err := e.client.Banks(t.Context(), "")
	require.NoError(t, err)
	require.Len(t, all, len(SandboxBanks))
	for i, b := range SandboxBanks {
		require.Equal(t, mandarin.Bank(b), all[i])
	}
	sber, err := e.client.Banks(t.Context(), "сбер")
	require.NoError(t, err)
	require.Equal(t, []mandarin.Bank{{BankID: "100000000111", BankName: "Сбербанк", BankBIC: "044525225"}}, sber)
	none, err := e.client.Banks(t.Context(), "nothing")
	require.NoError(t, err)
	require.Empty(t, none)
}

func TestSandboxRefusesBadAndReplayedXAuth(t *testing.T) {
	e := newEnv(t, mandarin.ProviderOptions{}, SandboxConfig{})
	for name, header := range map[string]string{
		"none":         "",
		"wrong secret": mandarin.XAuth(testMerchantID, "r1", "nope"),
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.api.URL+"/api/sbp/banks", nil)
			req.Header.Set("X-Auth", header)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		})
	}
	header := mandarin.XAuth(testMerchantID, "once", testSecret)
	for _, want := range []int{http.StatusOK, http.StatusUnauthorized} {
		req, _ := http.NewRequest(http.MethodGet, e.api.URL+"/api/sbp/banks", nil)
		req.Header.Set("X-Auth", header)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode)
	}
}

func TestLedgerIsServed(t *testing.T) {
	e := newEnv(t, mandarin.ProviderOptions{}, SandboxConfig{})
	_, err := e.provider.Submit(t.Context(), providers.Ref{PayoutID: "po_1"},
		cardRequest(payout.Card{Number: SandboxCardSucceeds}, 100))
	require.NoError(t, err)
	nextEvent(t, e.events)
	resp, err := http.Get(e.api.URL + "/_sandbox/ledger")
	require.NoError(t, err)
	defer resp.Body.Close()
	var ledger []LedgerEntry
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ledger))
	require.Len(t, ledger, 1)
	require.Equal(t, "po_1", ledger[0].OrderID)
	require.Equal(t, "1881", ledger[0].CardLast4)
}

func TestStateFileSurvivesARestartWithoutACardNumber(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mandarin.json")
	e, o := paidWithAStateFile(t, file)
	e.sandbox.Close()

	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NotContains(t, string(raw), SandboxCardSucceeds)
	// Sequence numbers are 13-digit numbers that may pass the Luhn check: only text can hold a card number.
	var state any
	require.NoError(t, json.Unmarshal(raw, &state))
	for _, text := range jsonStrings(state) {
		require.False(t, payout.LooksLikeCardNumber(text), "a card-like number in %q", text)
	}
	providertest.RequirePrivateAndAlone(t, file)

	again, err := OpenSandbox(SandboxConfig{MerchantID: testMerchantID, Secret: testSecret, StateFile: file})
	require.NoError(t, err)
	t.Cleanup(again.Close)
	require.Equal(t, e.sandbox.Ledger(), again.Ledger())
	v, ok := again.BalanceOf(ChannelPSB)
	require.True(t, ok)
	require.Equal(t, int64(42), v)
	again.mu.Lock()
	require.Equal(t, StateSuccess, again.txs[o.Ref.SessionID].State)
	again.mu.Unlock()
}

func TestStateFileSurvivesAKillAndALastChangeCutShort(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mandarin.json")
	e, o := paidWithAStateFile(t, file)
	require.Eventually(t, func() bool {
		e.sandbox.mu.Lock()
		defer e.sandbox.mu.Unlock()
		return e.sandbox.txs[o.Ref.SessionID].Notified
	}, 5*time.Second, time.Millisecond)
	balance, _ := e.sandbox.BalanceOf(ChannelOpenbank)
	providertest.Kill(t, file, e.sandbox.Close)
	providertest.TearLastAppend(t, file, `{"version":1,"last_seq":99,"transactions":[{"id":"`+o.Ref.SessionID+`","sta`)
	var logs providertest.Logs

	again, err := OpenSandbox(SandboxConfig{MerchantID: testMerchantID, Secret: testSecret, StateFile: file,
		Logger: logs.Logger()})

	require.NoError(t, err)
	t.Cleanup(again.Close)
	providertest.RequireTornRecordIgnored(t, file, &logs)
	require.Len(t, again.Ledger(), 1)
	require.Equal(t, e.sandbox.Ledger(), again.Ledger())
	for channel, want := range map[string]int64{ChannelPSB: 42, ChannelOpenbank: balance} {
		v, ok := again.BalanceOf(channel)
		require.True(t, ok)
		require.Equal(t, want, v, channel)
	}
	again.mu.Lock()
	defer again.mu.Unlock()
	require.Equal(t, StateSuccess, again.txs[o.Ref.SessionID].State)
	require.True(t, again.txs[o.Ref.SessionID].Notified, "the callback answered is not sent again")
}

func TestCorruptStateFileIsMovedAside(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mandarin.json")
	require.NoError(t, os.WriteFile(file, []byte("{nope"), 0o600))
	s, err := OpenSandbox(SandboxConfig{MerchantID: testMerchantID, Secret: testSecret, StateFile: file})
	require.NoError(t, err)
	s.Close()
	providertest.RequireMovedAside(t, file, []byte("{nope"))
}

// paidWithAStateFile runs a sandbox that keeps its state in file, with the PSB channel's balance set to 42, and
// takes a card payout through to its callback.
func paidWithAStateFile(t *testing.T, file string) (*testEnv, providers.Outcome) {
	t.Helper()
	e := newEnv(t, mandarin.ProviderOptions{}, SandboxConfig{StateFile: file})
	e.sandbox.SetBalance(ChannelPSB, 42)
	o, err := e.provider.Submit(t.Context(), providers.Ref{PayoutID: "po_1"},
		cardRequest(payout.Card{Number: SandboxCardSucceeds}, 100))
	require.NoError(t, err)
	nextEvent(t, e.events)
	return e, o
}

// jsonStrings lists every string in a decoded JSON value, keys included.
func jsonStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, jsonStrings(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for k, e := range v {
			out = append(out, k)
			out = append(out, jsonStrings(e)...)
		}
		return out
	}
	return nil
}

func TestSandbox_LaggingStatusDoesNotSeeWhatMandarinDidWithinTheLag(t *testing.T) {
	e := newEnv(t, mandarin.ProviderOptions{}, SandboxConfig{})
	in := faults.New(faults.Config{Lag: faults.Rate{P: 1, D: time.Minute}})
	lagging := httptest.NewServer(in.Handler(e.sandbox, func(*http.Request) bool { return true }))
	t.Cleanup(lagging.Close)
	c, err := mandarin.NewClient(mandarin.Config{BaseURL: lagging.URL, MerchantID: testMerchantID, Secret: testSecret})
	require.NoError(t, err)
	late := mandarin.NewProvider(c, mandarin.ProviderOptions{})
	backdate := func(id string, f func(*sandboxTx)) {
		e.sandbox.mu.Lock()
		defer e.sandbox.mu.Unlock()
		f(e.sandbox.txs[id])
	}
	longAgo := time.Now().Add(-time.Hour)

	out, err := e.provider.Submit(t.Context(), providers.Ref{PayoutID: "po_lag"},
		cardRequest(payout.Card{Token: SandboxTokenSucceeds}, 100_00))
	require.NoError(t, err)
	require.Equal(t, providers.StateSucceeded, nextEvent(t, e.events).Outcome.State)
	require.Len(t, e.sandbox.Ledger(), 1, "the ledger has what Mandarin did, lag or not")
	_, err = late.Status(t.Context(), out.Ref)
	providertest.RequireError(t, err, mandarin.Name, providers.Known, mandarin.CodeNotFound)
	backdate(out.Ref.SessionID, func(tx *sandboxTx) { tx.CreatedAt = longAgo })
	st, err := late.Status(t.Context(), out.Ref)
	require.NoError(t, err)
	require.Equal(t, providers.StatePending, st.State, "paid within the lag: still pending")
	e.waitState(t, out.Ref, providers.StateSucceeded)
	backdate(out.Ref.SessionID, func(tx *sandboxTx) { tx.UpdatedAt = longAgo })
	st, err = late.Status(t.Context(), out.Ref)
	require.NoError(t, err)
	require.Equal(t, providers.StateSucceeded, st.State)

	sbp, err := e.provider.Submit(t.Context(), providers.Ref{PayoutID: "po_lag_sbp"},
		sbpRequestWithoutName(SandboxPhoneNoName, "Ivan Ivanovich Ivanov", 50_00))
	require.NoError(t, err)
	backdate(sbp.Ref.SessionID, func(tx *sandboxTx) { tx.CreatedAt = longAgo })
	e.waitState(t, sbp.Ref, providers.StateAwaitingConfirm)
	st, err = late.Status(t.Context(), sbp.Ref)
	require.NoError(t, err)
	require.Equal(t, providers.StatePending, st.State, "the recipient checked within the lag: not checked yet")
	require.Equal(t, int64(3), in.Stats().Lagged)
}
