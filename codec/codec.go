// Package codec encrypts Temporal payloads with AES-256-GCM, so that card numbers and other personal data never sit
// in plain text in workflow history, and serves the codec endpoint Temporal UI uses to show operators decoded data.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/payoutflow/payoutflow/payout"
)

const (
	metadataEncoding = "encoding"
	metadataKeyID    = "encryption-key-id"
	encodingName     = "binary/encrypted"
)

// KeySize is the length of a codec key in bytes (AES-256).
const KeySize = 32

// Codec is a converter.PayloadCodec that encrypts every payload with AES-256-GCM.
type Codec struct {
	keyID string
	aead  cipher.AEAD
}

// New returns a codec for a 32-byte key.
func New(key []byte) (*Codec, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("codec: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("codec: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("codec: %w", err)
	}
	sum := sha256.Sum256(key)
	return &Codec{keyID: "k-" + base64.RawURLEncoding.EncodeToString(sum[:6]), aead: aead}, nil
}

// Encode encrypts each payload whole (metadata and data) into a new payload.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := p.Marshal()
		if err != nil {
			return nil, fmt.Errorf("codec: encode: %w", err)
		}
		nonce := make([]byte, c.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: encode: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				metadataEncoding: []byte(encodingName),
				metadataKeyID:    []byte(c.keyID),
			},
			Data: c.aead.Seal(nonce, nonce, plain, nil),
		}
	}
	return out, nil
}

// Decode decrypts payloads this codec encrypted and passes others through unchanged, so that plain JSON typed by an
// operator into Temporal UI still reaches the workflow.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[metadataEncoding]) != encodingName {
			out[i] = p
			continue
		}
		if id := string(p.GetMetadata()[metadataKeyID]); id != c.keyID {
			return nil, fmt.Errorf("codec: decode: payload encrypted with key %q, have %q", id, c.keyID)
		}
		n := c.aead.NonceSize()
		if len(p.Data) < n {
			return nil, errors.New("codec: decode: payload too short")
		}
		plain, err := c.aead.Open(nil, p.Data[:n], p.Data[n:], nil)
		if err != nil {
			return nil, fmt.Errorf("codec: decode: %w", err)
		}
		var decoded commonpb.Payload
		if err := decoded.Unmarshal(plain); err != nil {
			return nil, fmt.Errorf("codec: decode: %w", err)
		}
		out[i] = &decoded
	}
	return out, nil
}

// DataConverter returns the default data converter with every payload passing through c.
func DataConverter(c *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter returns a failure converter that moves error messages and stack traces into encrypted payloads,
// so that an error message can never leak personal data into history.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
}

// Handler serves POST .../encode and .../decode for Temporal UI and the CLI. What it decodes is for people to read,
// so card numbers in JSON payloads come back masked (424242******4242); workers decode in-process and see them whole.
// It answers only the UI's browser
// (Origin equal to allowedOrigin, e.g. http://127.0.0.1:8233, also answered in CORS headers) or a caller that sends
// "Authorization: Bearer <token>" when token is set; everyone else gets 403. The Origin check keeps other web pages
// out; it is no defence against a program on the network, which is why the endpoint also listens on loopback only
// by default.
func Handler(c *Codec, allowedOrigin, token string) http.Handler {
	inner := converter.NewPayloadCodecHTTPHandler(c)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		fromUI := origin != "" && origin == allowedOrigin
		if fromUI {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type,X-Namespace,Authorization,Authorization-Extras")
			w.Header().Set("Access-Control-Allow-Methods", "POST,OPTIONS")
			w.Header().Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions && fromUI {
			w.WriteHeader(http.StatusOK)
			return
		}
		if !fromUI && !validToken(r, token) {
			http.Error(w, `{"error":{"code":"forbidden","message":"the codec answers Temporal UI's origin or a bearer token only"}}`, http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/decode") {
			decodeMasked(w, r, c)
			return
		}
		inner.ServeHTTP(w, r)
	})
}

// decodeMasked decodes payloads and masks card numbers in the JSON ones.
func decodeMasked(w http.ResponseWriter, r *http.Request, c *Codec) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var in commonpb.Payloads
	if err := protojson.Unmarshal(body, &in); err != nil {
		http.Error(w, "payloads are not valid protojson", http.StatusBadRequest)
		return
	}
	out, err := c.Decode(in.Payloads)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for i, p := range out {
		if strings.HasPrefix(string(p.GetMetadata()[metadataEncoding]), "json/") {
			out[i] = &commonpb.Payload{Metadata: p.Metadata, Data: payout.MaskCardNumbers(p.Data)}
		}
	}
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func validToken(r *http.Request, token string) bool {
	if token == "" {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// LoadOrCreateKey reads a base64 key from path, or writes a new random one there (mode 0600) if the file does not
// exist. It is for development: production passes the key in configuration.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return ParseKey(string(b))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("codec: read key: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("codec: new key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("codec: write key: %w", err)
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("codec: write key: %w", err)
	}
	return key, nil
}

// ParseKey decodes a base64 (standard or URL alphabet) 32-byte key.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("codec: key must be %d bytes of base64, got %d bytes", KeySize, len(key))
			}
			return key, nil
		}
	}
	return nil, errors.New("codec: key is not valid base64")
}
