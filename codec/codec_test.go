package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

const pan = "4242424242424242"

func testCodec(t *testing.T) *Codec {
	t.Helper()
	c, err := New(bytes.Repeat([]byte{7}, KeySize))
	require.NoError(t, err)
	return c
}

func TestCodec_EncryptedPayloadHidesCardNumberAndRoundTrips(t *testing.T) {
	dc := DataConverter(testCodec(t))
	p, err := dc.ToPayload(map[string]string{"number": pan})
	require.NoError(t, err)
	require.NotContains(t, string(p.Data), pan)
	require.Equal(t, encodingName, string(p.Metadata[metadataEncoding]))

	var back map[string]string
	require.NoError(t, dc.FromPayload(p, &back))
	require.Equal(t, pan, back["number"])
}

func TestCodec_PlainPayloadPassesThrough(t *testing.T) {
	c := testCodec(t)
	plain, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"by": "alice"})
	require.NoError(t, err)
	out, err := c.Decode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	require.Equal(t, plain, out[0])
}

func TestCodec_WrongKeyIsRefused(t *testing.T) {
	enc, err := testCodec(t).Encode([]*commonpb.Payload{{Data: []byte("x")}})
	require.NoError(t, err)
	other, err := New(bytes.Repeat([]byte{8}, KeySize))
	require.NoError(t, err)
	_, err = other.Decode(enc)
	require.Error(t, err)
}

func TestFailureConverter_EncodesErrorMessage(t *testing.T) {
	fc := FailureConverter(DataConverter(testCodec(t)))
	f := fc.ErrorToFailure(&testErr{"card " + pan + " declined"})
	raw, err := protojson.Marshal(f)
	require.NoError(t, err)
	require.NotContains(t, string(raw), pan)
	require.Contains(t, fc.FailureToError(f).Error(), pan)
}

type testErr struct{ msg string }

func (e *testErr) Error() string { return e.msg }

func TestHandler_DecodesForTheUIOriginAndAnswersPreflight(t *testing.T) {
	c := testCodec(t)
	srv := httptest.NewServer(Handler(c, "http://127.0.0.1:8233", "s3cret"))
	defer srv.Close()

	pre, err := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
	require.NoError(t, err)
	pre.Header.Set("Origin", "http://127.0.0.1:8233")
	res, err := http.DefaultClient.Do(pre)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "http://127.0.0.1:8233", res.Header.Get("Access-Control-Allow-Origin"))

	enc, err := DataConverter(c).ToPayload("hello")
	require.NoError(t, err)
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{enc}})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/decode", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://evil.example")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusForbidden, res.StatusCode, "a foreign page cannot decode")
	require.Empty(t, res.Header.Get("Access-Control-Allow-Origin"), "a foreign origin gets no CORS grant")

	req, err = http.NewRequest(http.MethodPost, srv.URL+"/decode", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusForbidden, res.StatusCode, "no origin and no token: refused")

	req, err = http.NewRequest(http.MethodPost, srv.URL+"/decode", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer s3cret")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, "the CLI with the token decodes")
	var out commonpb.Payloads
	var buf bytes.Buffer
	_, err = buf.ReadFrom(res.Body)
	require.NoError(t, err)
	require.NoError(t, protojson.Unmarshal(buf.Bytes(), &out))
	var s string
	require.NoError(t, json.Unmarshal(out.Payloads[0].Data, &s))
	require.Equal(t, "hello", s)
}

func TestHandler_DecodedCardNumbersAreMasked(t *testing.T) {
	c := testCodec(t)
	srv := httptest.NewServer(Handler(c, "http://127.0.0.1:8233", ""))
	defer srv.Close()
	// The payout's ID is a hash whose hex digits may run like a card number: Temporal UI shows it whole.
	const id = "po_a61546353248371706e6769d35dc7f1e"
	enc, err := DataConverter(c).ToPayload(map[string]any{"id": id, "card": map[string]string{"number": pan}, "amount": 10000})
	require.NoError(t, err)
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{enc}})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/decode", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Origin", "http://127.0.0.1:8233")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var buf bytes.Buffer
	_, err = buf.ReadFrom(res.Body)
	require.NoError(t, err)
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(buf.Bytes(), &out))
	require.JSONEq(t, `{"id":"`+id+`","card":{"number":"424242******4242"},"amount":10000}`, string(out.Payloads[0].Data))
}

func TestLoadOrCreateKey_CreatesOnceThenReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "codec.key")
	k1, err := LoadOrCreateKey(path)
	require.NoError(t, err)
	k2, err := LoadOrCreateKey(path)
	require.NoError(t, err)
	require.Equal(t, k1, k2)
	_, err = ParseKey(strings.Repeat("A", 10))
	require.Error(t, err)
}

func BenchmarkCodec_EncodeDecode(b *testing.B) {
	c, err := New(bytes.Repeat([]byte{7}, KeySize))
	require.NoError(b, err)
	dc := DataConverter(c)
	in := map[string]string{"number": pan, "full_name": "Ivanov Ivan", "description": strings.Repeat("x", 200)}
	b.ReportAllocs()
	for b.Loop() {
		p, err := dc.ToPayload(in)
		if err != nil {
			b.Fatal(err)
		}
		var out map[string]string
		if err := dc.FromPayload(p, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// ringKey is a test key: 32 bytes of b, base64.
func ringKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func b64(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

func TestKeyring_CurrentKeyEncryptsAndEveryKeyDecrypts(t *testing.T) {
	onlyA, err := NewKeyring([]Key{{ID: "a", Secret: ringKey(1)}})
	require.NoError(t, err)
	rotated, err := NewKeyring([]Key{{ID: "b", Secret: ringKey(2)}, {ID: "a", Secret: ringKey(1)}})
	require.NoError(t, err)
	onlyB, err := NewKeyring([]Key{{ID: "b", Secret: ringKey(2)}})
	require.NoError(t, err)

	underA, err := DataConverter(onlyA).ToPayload(map[string]string{"number": pan})
	require.NoError(t, err)
	underB, err := DataConverter(rotated).ToPayload(map[string]string{"number": pan})
	require.NoError(t, err)
	require.Equal(t, "a", string(underA.Metadata[metadataKeyID]))
	require.Equal(t, "b", string(underB.Metadata[metadataKeyID]), "the current key encrypts")

	tests := []struct {
		name    string
		codec   *Codec
		payload *commonpb.Payload
		missing string // the key id the error names; "" when it decodes
	}{
		{"rotated keyring reads the retired key", rotated, underA, ""},
		{"rotated keyring reads the current key", rotated, underB, ""},
		{"the new key is read where it is held", onlyB, underB, ""},
		{"a retired key that was removed", onlyB, underA, "a"},
		{"a key not yet added", onlyA, underB, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var back map[string]string
			err := DataConverter(tt.codec).FromPayload(tt.payload, &back)
			if tt.missing == "" {
				require.NoError(t, err)
				require.Equal(t, pan, back["number"])
				return
			}
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			require.True(t, de.Missing)
			require.Equal(t, tt.missing, de.KeyID)
			require.Contains(t, err.Error(), `key "`+tt.missing+`", which is not in the keyring`)
		})
	}
}

func TestKeyring_Release1PayloadsFindTheirKeyByItsDerivedID(t *testing.T) {
	dir := filepath.Join("..", "workflows", "testdata", "histories", "v1")
	raw, err := os.ReadFile(filepath.Join(dir, "codec.key"))
	require.NoError(t, err)
	v1Key, err := ParseKey(string(raw))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "Bank131Paths_SBPPayoutByPhone_succeeds.json"))
	require.NoError(t, err)
	var h historypb.History
	require.NoError(t, protojson.Unmarshal(b, &h))
	input := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput()
	require.Equal(t, DerivedID(v1Key), string(input.Payloads[0].Metadata[metadataKeyID]), "release 1 named its key by the derived id")

	tests := []struct {
		name string
		keys []Key
	}{
		{"CODEC_KEY as release 1 had it", []Key{{Secret: v1Key}}},
		{"the same key, now named and retired", []Key{{ID: "2026-12", Secret: ringKey(9)}, {ID: "2026-06", Secret: v1Key}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewKeyring(tt.keys)
			require.NoError(t, err)
			var in map[string]any
			require.NoError(t, DataConverter(c).FromPayloads(input, &in))
			require.NotEmpty(t, in["id"], "the payout's input, in clear")
		})
	}
}

func TestKeyring_UndecryptablePayloadsAreErrorsNamingTheKey(t *testing.T) {
	a, err := NewKeyring([]Key{{ID: "a", Secret: ringKey(1)}})
	require.NoError(t, err)
	enc, err := a.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	require.NoError(t, err)
	otherUnderA, err := NewKeyring([]Key{{ID: "a", Secret: ringKey(2)}})
	require.NoError(t, err)
	_, err = otherUnderA.Decode(enc)
	var de *DecodeError
	require.ErrorAs(t, err, &de, "the id names another key: no decrypt")
	require.False(t, de.Missing)
	require.Equal(t, "a", de.KeyID)

	noID := &commonpb.Payload{Metadata: map[string][]byte{metadataEncoding: []byte(encodingName)}, Data: enc[0].Data}
	ring, err := NewKeyring([]Key{{ID: "b", Secret: ringKey(2)}, {ID: "a", Secret: ringKey(1)}})
	require.NoError(t, err)
	out, err := ring.Decode([]*commonpb.Payload{noID})
	require.NoError(t, err, "a payload naming no key is tried with each")
	require.Equal(t, "x", string(out[0].Data))
}

func TestDataConverter_InAWorkflowAMissingKeyPanicsSoTheTaskFailsNotTheWorkflow(t *testing.T) {
	a, err := NewKeyring([]Key{{ID: "a", Secret: ringKey(1)}})
	require.NoError(t, err)
	b, err := NewKeyring([]Key{{ID: "b", Secret: ringKey(2)}})
	require.NoError(t, err)
	p, err := DataConverter(a).ToPayload("hello")
	require.NoError(t, err)

	dc := DataConverter(b)
	var s string
	require.Error(t, dc.FromPayload(p, &s), "outside a workflow: an error")
	inWorkflow := dc.(converter.ContextAware).WithWorkflowContext(nil)
	require.PanicsWithError(t, `codec: payload encrypted with key "a", which is not in the keyring: it holds "b" (the first current)`,
		func() { _ = inWorkflow.FromPayload(p, &s) })
	require.Panics(t, func() { _ = inWorkflow.FromPayloads(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}}, &s) })
	sc := converter.WithDataConverterSerializationContext(inWorkflow, converter.WorkflowSerializationContext{Namespace: "default"})
	require.Panics(t, func() { _ = sc.FromPayload(p, &s) }, "a serialization context keeps the workflow's behaviour")
	require.NoError(t, inWorkflow.FromPayload(mustPayload(t, DataConverter(b), "ok"), &s))
	require.Equal(t, "ok", s)
}

func mustPayload(t *testing.T, dc converter.DataConverter, v any) *commonpb.Payload {
	t.Helper()
	p, err := dc.ToPayload(v)
	require.NoError(t, err)
	return p
}

func TestParseKeyring(t *testing.T) {
	k1, k2 := ringKey(1), ringKey(2)
	tests := []struct {
		name    string
		text    string
		wantIDs []string
		wantErr string
	}{
		{"CODEC_KEYS, current first", "b:" + b64(k2) + ",a:" + b64(k1), []string{"b", "a"}, ""},
		{"key file with comments and blank lines", "# keys\n\n2026-12 " + b64(k2) + "  # current\n2026-06\t" + b64(k1) + "\n", []string{"2026-12", "2026-06"}, ""},
		{"a bare key takes its derived id (CODEC_KEY, release 1's key file)", b64(k1) + "\n", []string{DerivedID(k1)}, ""},
		{"URL alphabet, no padding", "a:" + base64.RawURLEncoding.EncodeToString(k1), []string{"a"}, ""},
		{"empty", " \n# nothing\n", nil, "no key"},
		{"short key", "a:" + b64(k1[:16]), nil, "32 bytes"},
		{"not base64", "a:not*base64", nil, "not valid base64"},
		{"same id twice", "a:" + b64(k1) + ",a:" + b64(k2), nil, `key id "a" is in the keyring twice`},
		{"same key twice", "a:" + b64(k1) + ",b:" + b64(k1), nil, "twice, under another id"},
		{"bad id", "a/b:" + b64(k1), nil, "key id"},
		{"three fields", "a b " + b64(k1), nil, "entry 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseKeyring(tt.text)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.NotContains(t, err.Error(), b64(k1), "an error never shows a key")
				return
			}
			require.NoError(t, err)
			var ids []string
			for _, k := range keys {
				ids = append(ids, k.ID)
			}
			require.Equal(t, tt.wantIDs, ids)
		})
	}
}

func TestLoadOrCreateKeyring_CreatesOneKeyOlderReleasesReadThenReadsTheKeyring(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "codec.key")
	made, err := LoadOrCreateKeyring(path)
	require.NoError(t, err)
	require.Len(t, made, 1)
	require.Equal(t, DerivedID(made[0].Secret), made[0].ID)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	bare, err := LoadOrCreateKey(path)
	require.NoError(t, err)
	require.Equal(t, made[0].Secret, bare, "a release that reads one bare key reads the file")
	again, err := LoadOrCreateKeyring(path)
	require.NoError(t, err)
	require.Equal(t, made, again, "read back, not made again")

	// Rotated by hand: a new current key above the old bare one.
	rotated := "2026-12 " + b64(ringKey(3)) + "\n" + b64(made[0].Secret) + "\n"
	require.NoError(t, os.WriteFile(path, []byte(rotated), 0o600))
	ring, err := LoadOrCreateKeyring(path)
	require.NoError(t, err)
	require.Equal(t, []Key{{ID: "2026-12", Secret: ringKey(3)}, made[0]}, ring)
}

func TestHandler_DecodesEveryKeyOfTheKeyringAndNamesAMissingOne(t *testing.T) {
	a, err := NewKeyring([]Key{{ID: "a", Secret: ringKey(1)}})
	require.NoError(t, err)
	rotated, err := NewKeyring([]Key{{ID: "b", Secret: ringKey(2)}, {ID: "a", Secret: ringKey(1)}})
	require.NoError(t, err)
	onlyB, err := NewKeyring([]Key{{ID: "b", Secret: ringKey(2)}})
	require.NoError(t, err)
	underA := mustPayload(t, DataConverter(a), "from a")
	underB := mustPayload(t, DataConverter(rotated), "from b")

	post := func(c *Codec) (int, []byte) {
		srv := httptest.NewServer(Handler(c, "http://127.0.0.1:8233", ""))
		defer srv.Close()
		body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{underA, underB}})
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/codec/decode", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Origin", "http://127.0.0.1:8233")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, b
	}

	status, body := post(rotated)
	require.Equal(t, http.StatusOK, status, string(body))
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(body, &out))
	require.Equal(t, `"from a"`, string(out.Payloads[0].Data))
	require.Equal(t, `"from b"`, string(out.Payloads[1].Data))

	status, body = post(onlyB)
	require.Equal(t, http.StatusInternalServerError, status)
	var e struct {
		Error struct{ Code, Message, KeyID string } `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &e), string(body))
	require.Equal(t, "codec_key_missing", e.Error.Code)
	require.Contains(t, e.Error.Message, `key "a"`)
}

func TestNewKeyring_RefusesAnIDThatIsAnotherKeysDerivedIDInEitherOrder(t *testing.T) {
	a, b := ringKey(1), ringKey(2)
	for name, keys := range map[string][]Key{
		"named key first": {{ID: DerivedID(a), Secret: b}, {ID: "2026-06", Secret: a}},
		"named key last":  {{ID: "2026-06", Secret: a}, {ID: DerivedID(a), Secret: b}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewKeyring(keys)
			require.ErrorContains(t, err, `"`+DerivedID(a)+`" is the derived id of key`)
		})
	}
}

func TestParseKeyring_AKeyFileLineWrittenKeyIDIsRefusedWithoutPrintingTheKey(t *testing.T) {
	secret := b64(ringKey(1))
	_, err := ParseKeyring(secret + " 2026-06\n")
	require.ErrorContains(t, err, "entry 1")
	require.NotContains(t, err.Error(), secret)
}
