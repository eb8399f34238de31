package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/encoding/protojson"

	pfclient "github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/codec"
	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131"
	bank131sandbox "github.com/payoutflow/payoutflow/providers/bank131/sandbox"
	"github.com/payoutflow/payoutflow/workflows"
)

// rotation is a worker, an API and a codec endpoint on their own task queue and Bank 131 sandbox, restarted with
// another keyring as a deploy restarts the processes; the API and the codec endpoint keep their addresses.
type rotation struct {
	t        *testing.T
	cfg      config.Config
	sandbox  *bank131sandbox.Sandbox
	provider providers.Provider
	hooks    providers.Webhooks
	api      *switchHandler
	apiURL   string
	codec    *switchHandler
	codecURL string
	logs     *syncBuffer
	log      *slog.Logger
	client   client.Client // the running processes' client
	stop     func()
}

func newRotation(t *testing.T) *rotation {
	t.Helper()
	r := &rotation{t: t, cfg: st.cfg, api: &switchHandler{}, codec: &switchHandler{}, logs: &syncBuffer{}}
	r.cfg.TaskQueue = "payouts-keyring"
	r.log = slog.New(slog.NewTextHandler(io.MultiWriter(r.logs, testLogSink()), nil))
	partnerKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	bankKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	r.sandbox = bank131sandbox.NewSandbox(bank131sandbox.SandboxConfig{PartnerPublicKey: &partnerKey.PublicKey, BankPrivateKey: bankKey,
		Project: "it-keyring", WebhookDelay: 100 * time.Millisecond, Logger: r.log.With("component", "bank131-sandbox")})
	sandboxSrv := httptest.NewServer(r.sandbox)
	bc, err := bank131.NewClient(bank131.Config{BaseURL: sandboxSrv.URL, Project: "it-keyring", PrivateKey: partnerKey})
	require.NoError(t, err)
	r.provider, r.hooks = bank131.NewProvider(bc), bank131.NewWebhooks(&bankKey.PublicKey)
	apiSrv, codecSrv := httptest.NewServer(r.api), httptest.NewServer(r.codec)
	r.apiURL, r.codecURL = apiSrv.URL, codecSrv.URL+"/codec"
	r.sandbox.SetWebhookURL(r.apiURL + "/webhooks/bank131")
	t.Cleanup(func() {
		if r.stop != nil {
			r.stop()
		}
		apiSrv.Close()
		codecSrv.Close()
		sandboxSrv.Close()
		r.sandbox.Close()
	})
	return r
}

// restart stops the running processes, if any, and starts them with the keyring keys (the current key first).
func (r *rotation) restart(keys ...codec.Key) {
	r.t.Helper()
	if r.stop != nil {
		r.stop()
	}
	cd, err := codec.NewKeyring(keys)
	require.NoError(r.t, err)
	cd = cd.WithLogger(r.log.With("component", "codec"))
	dc := codec.DataConverter(cd)
	r.client = st.ts.NewClientWithOptions(client.Options{DataConverter: dc, FailureConverter: codec.FailureConverter(dc),
		Logger: sdklog.NewStructuredLogger(r.log.With("component", "temporal-sdk"))})
	w := app.NewWorker(r.client, r.cfg.TaskQueue, keys, r.provider)
	require.NoError(r.t, w.Start())
	reg := providers.NewRegistry()
	require.NoError(r.t, reg.Add(r.provider.(providers.Plugin), r.hooks))
	r.api.h = app.NewAPI(r.cfg, app.API{Client: r.client, DataConverter: dc, CodecKeys: keys, Logger: r.log, Keys: st.keys,
		Policy: st.policy, Providers: reg})
	r.codec.h = app.NewCodecHandler(r.cfg, cd, r.log)
	c := r.client
	r.stop = func() {
		w.Stop()
		c.Close()
	}
}

func (r *rotation) waitFor(id string, want payout.Status) {
	r.t.Helper()
	var last response
	require.Eventually(r.t, func() bool {
		last = do(r.t, r.apiURL, http.MethodGet, "/v1/payouts/"+id, nil, "")
		return last.Status == http.StatusOK && last.state(r.t).Status == want
	}, time.Minute, 100*time.Millisecond, "payout %s never became %s; last answer %d %s", id, want, last.Status, last.Body)
}

// paid counts the sandbox's executed payouts of one payout.
func (r *rotation) paid(id string) int {
	n := 0
	for _, e := range r.sandbox.Ledger() {
		if e.Metadata == id {
			n++
		}
	}
	return n
}

// input returns the payout's workflow input as history holds it, encrypted.
func input(t *testing.T, id string) *commonpb.Payload {
	t.Helper()
	it := st.raw.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	ev, err := it.Next()
	require.NoError(t, err)
	return ev.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0]
}

func keyID(p *commonpb.Payload) string { return string(p.GetMetadata()["encryption-key-id"]) }

func newCodecKey(t *testing.T, id string) codec.Key {
	t.Helper()
	k := codec.Key{ID: id, Secret: make([]byte, codec.KeySize)}
	_, err := rand.Read(k.Secret)
	require.NoError(t, err)
	return k
}

func TestCodecKeyRotation_PayoutsOfTheRetiredKeyFinishAndAMissingKeyIsNamedNotFatal(t *testing.T) {
	a, b := newCodecKey(t, "2026-06"), newCodecKey(t, "2026-12")
	r := newRotation(t)

	// Key A alone: two payouts wait for approval.
	r.restart(a)
	first := createNew(t, r.apiURL, t.Name()+"-1", cardPayout(cardSucceeds))
	second := createNew(t, r.apiURL, t.Name()+"-2", cardPayout(cardSucceeds))
	r.waitFor(first, payout.StatusAwaitingApproval)
	r.waitFor(second, payout.StatusAwaitingApproval)
	require.Equal(t, "2026-06", keyID(input(t, first)))

	// The rotation: B current, A retired but readable.
	r.restart(b, a)
	ctx := context.Background()
	got, err := apiClient(r.apiURL, "backend").Get(ctx, first)
	require.NoError(t, err)
	require.Equal(t, pfclient.StatusAwaitingApproval, got.Status)
	again := create(t, r.apiURL, t.Name()+"-1", cardPayout(cardSucceeds))
	require.Equal(t, http.StatusOK, again.Status, "the same request again is the same payout: %s", again.Body)
	require.Equal(t, first, again.state(t).ID)
	other := create(t, r.apiURL, t.Name()+"-1", cardPayout(cardMirSucceeds))
	require.Equal(t, http.StatusConflict, other.Status, "another request under the key is still told apart: %s", other.Body)
	mustDecide(t, r.apiURL, "alice", first, "confirm", "after the rotation")
	r.waitFor(first, payout.StatusSucceeded)
	require.Equal(t, 1, r.paid(first), "paid once")

	third := createNew(t, r.apiURL, t.Name()+"-3", cardPayout(cardSucceeds))
	r.waitFor(third, payout.StatusAwaitingApproval)
	require.Equal(t, "2026-12", keyID(input(t, third)), "a new payout is written with the current key")

	// The codec endpoint decodes payloads of both keys for Temporal UI and the CLI.
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{input(t, first), input(t, third)}})
	require.NoError(t, err)
	decoded := do(t, r.codecURL, http.MethodPost, "/decode", map[string]string{"Origin": r.cfg.UIOrigin}, string(body))
	require.Equal(t, http.StatusOK, decoded.Status, string(decoded.Body))
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(decoded.Body, &out))
	for i, id := range []string{first, third} {
		var in workflows.Input
		require.NoError(t, json.Unmarshal(out.Payloads[i].Data, &in))
		require.Equal(t, id, in.ID)
	}
	require.NotContains(t, string(decoded.Body), cardSucceeds)

	// A removed too early: the API and the log name it; the payout waits, neither failed nor paid.
	r.restart(b)
	_, err = apiClient(r.apiURL, "backend").Get(ctx, second)
	var e *pfclient.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, http.StatusInternalServerError, e.StatusCode, "%v", err)
	require.Equal(t, "codec_key_missing", e.Code)
	require.Contains(t, e.Message, `codec key "2026-06"`)
	require.Contains(t, r.logs.String(), "key_id=2026-06")
	decoded = do(t, r.codecURL, http.MethodPost, "/decode", map[string]string{"Origin": r.cfg.UIOrigin}, string(body))
	require.Equal(t, http.StatusInternalServerError, decoded.Status)
	require.Contains(t, string(decoded.Body), `"key_id":"2026-06"`)
	_, err = apiClient(r.apiURL, "backend").Get(ctx, third)
	require.NoError(t, err, "B's payouts read on")

	// An operator confirms in Temporal UI meanwhile: the worker cannot read the payout, logs why, and retries.
	require.NoError(t, r.client.SignalWorkflow(context.Background(), second, "", workflows.SignalConfirm,
		payout.Decision{By: "alice", Reason: "in the UI"}))
	require.Eventually(t, func() bool {
		for _, line := range strings.Split(r.logs.String(), "\n") {
			if strings.Contains(line, "level=ERROR") && strings.Contains(line, "Workflow panic") &&
				strings.Contains(line, `2026-06`) && strings.Contains(line, second) {
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "the worker logs the workflow task it cannot decode, naming the key")
	time.Sleep(time.Second)
	require.True(t, workflowRunning(t, second), "a missing key fails a workflow task, never the payout")
	require.Zero(t, r.paid(second))

	// A back: the payout goes on with the decision made while it could not be read.
	r.restart(b, a)
	r.waitFor(second, payout.StatusSucceeded)
	require.Equal(t, 1, r.paid(second), "paid once")
	mustDecide(t, r.apiURL, "alice", third, "confirm", "")
	r.waitFor(third, payout.StatusSucceeded)
	require.Equal(t, 1, r.paid(third))
	require.False(t, bytes.Contains([]byte(r.logs.String()), []byte(cardSucceeds)), "no card number in the logs")
}
