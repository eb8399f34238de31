package codec

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
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
	enc, err := DataConverter(c).ToPayload(map[string]any{"card": map[string]string{"number": pan}, "amount": 10000})
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
	require.JSONEq(t, `{"card":{"number":"424242******4242"},"amount":10000}`, string(out.Payloads[0].Data))
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
