// Package codec encrypts Temporal payloads with AES-256-GCM, so that card numbers and other personal data never sit
// in plain text in workflow history, and serves the codec endpoint Temporal UI uses to show operators decoded data.
package codec

import (
	"bufio"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

// Key is one key of a keyring: the id written beside every payload it encrypts, and its 32 secret bytes.
type Key struct {
	ID     string
	Secret []byte
}

// DerivedID is the id of a key that was given none: "k-" and the first 6 bytes of the key's SHA-256 in base64url.
// Release 1 marked every payload with it.
func DerivedID(secret []byte) string {
	sum := sha256.Sum256(secret)
	return "k-" + base64.RawURLEncoding.EncodeToString(sum[:6])
}

// Codec is a converter.PayloadCodec that encrypts every payload with AES-256-GCM under the keyring's current key
// and names that key in the payload's metadata; it decrypts payloads of every key in its keyring.
type Codec struct {
	current string
	aeads   map[string]cipher.AEAD // by id and by derived id
	ids     []string               // the keyring's ids, current first
	log     *slog.Logger
}

// New returns a codec for a keyring of one 32-byte key, whose id is derived from it (as release 1 wrote it).
func New(key []byte) (*Codec, error) { return NewKeyring([]Key{{Secret: key}}) }

// NewKeyring returns a codec for a keyring: the first key is current and encrypts, every key decrypts. A key with no
// id takes its DerivedID; a named key answers to its derived id too, so payloads written before it had a name find it.
func NewKeyring(keys []Key) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("codec: the keyring has no key")
	}
	c := &Codec{aeads: make(map[string]cipher.AEAD, 2*len(keys))}
	derivedBy := make(map[string]int, len(keys)) // derived id -> index of its key
	for i, k := range keys {
		if looksLikeKey(k.ID) {
			return nil, fmt.Errorf("codec: key %d: its id is itself a 32-byte key in base64 (two keys separated by a space instead of a comma?)", i+1)
		}
		if len(k.Secret) == KeySize {
			derivedBy[DerivedID(k.Secret)] = i
		}
	}
	named := map[string]bool{}
	for i, k := range keys {
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("codec: key %d (%q) must be %d bytes, got %d", i+1, k.ID, KeySize, len(k.Secret))
		}
		derived := DerivedID(k.Secret)
		if k.ID == "" {
			k.ID = derived
		}
		if !validID(k.ID) {
			return nil, fmt.Errorf("codec: key id %q: use 1 to 64 letters, digits, '.', '_' or '-'", k.ID)
		}
		if j, ok := derivedBy[k.ID]; ok && j != i && k.ID != derived {
			return nil, fmt.Errorf("codec: key %d id %q is the derived id of key %d (%q): payloads written under it would be opened with the wrong key", i+1, k.ID, j+1, keys[j].ID)
		}
		if named[k.ID] {
			return nil, fmt.Errorf("codec: key id %q is in the keyring twice", k.ID)
		}
		if _, dup := c.aeads[derived]; dup {
			return nil, fmt.Errorf("codec: key %q is in the keyring twice, under another id", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("codec: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: %w", err)
		}
		named[k.ID] = true
		c.aeads[k.ID], c.aeads[derived] = aead, aead
		c.ids = append(c.ids, k.ID)
	}
	c.current = c.ids[0]
	return c, nil
}

// CurrentID is the id of the key that encrypts.
func (c *Codec) CurrentID() string { return c.current }

// WithLogger returns the codec, logging at ERROR every payload it cannot decrypt, with the key id the payload names.
func (c *Codec) WithLogger(log *slog.Logger) *Codec {
	cp := *c
	cp.log = log
	return &cp
}

// DecodeError is the error of an encrypted payload the codec cannot decrypt.
type DecodeError struct {
	KeyID   string   // the key the payload names; "" if it names none
	Missing bool     // the keyring does not hold that key
	Keyring []string // the keyring's ids, current first
	Err     error
}

func (e *DecodeError) Error() string {
	have := `"` + strings.Join(e.Keyring, `", "`) + `" (the first current)`
	if e.Missing {
		return fmt.Sprintf("codec: payload encrypted with key %q, which is not in the keyring: it holds %s", e.KeyID, have)
	}
	return fmt.Sprintf("codec: payload of key %q does not decrypt with the keyring (%s): %v", e.KeyID, have, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Encode encrypts each payload whole (metadata and data) into a new payload under the current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := p.Marshal()
		if err != nil {
			return nil, fmt.Errorf("codec: encode: %w", err)
		}
		// The nonce, then the sealed payload, in one buffer made once.
		n := aead.NonceSize()
		nonce := make([]byte, n, n+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: encode: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				metadataEncoding: []byte(encodingName),
				metadataKeyID:    []byte(c.current),
			},
			Data: aead.Seal(nonce, nonce, plain, nil),
		}
	}
	return out, nil
}

// Decode decrypts payloads with the key each names and passes others through unchanged, so that plain JSON typed by
// an operator into Temporal UI still reaches the workflow. A payload that names no key is tried with every key.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[metadataEncoding]) != encodingName {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[metadataKeyID])
		plain, err := c.open(id, p.Data)
		if err != nil {
			if c.log != nil {
				c.log.Error("codec: cannot decrypt a payload", "key_id", id, "key_missing", err.Missing, "keyring", c.ids, "error", err)
			}
			return nil, err
		}
		var decoded commonpb.Payload
		if err := decoded.Unmarshal(plain); err != nil {
			return nil, &DecodeError{KeyID: id, Keyring: c.ids, Err: err}
		}
		out[i] = &decoded
	}
	return out, nil
}

// open decrypts data with the key named id, or with each key when id is empty.
func (c *Codec) open(id string, data []byte) ([]byte, *DecodeError) {
	try := []string{id}
	if id == "" {
		try = c.ids
	}
	err := errors.New("payload too short")
	for _, k := range try {
		aead, ok := c.aeads[k]
		if !ok {
			return nil, &DecodeError{KeyID: id, Missing: true, Keyring: c.ids}
		}
		n := aead.NonceSize()
		if len(data) < n {
			break
		}
		var plain []byte
		if plain, err = aead.Open(nil, data[:n], data[n:], nil); err == nil {
			return plain, nil
		}
	}
	return nil, &DecodeError{KeyID: id, Keyring: c.ids, Err: err}
}

// looksLikeKey reports whether id decodes as a 32-byte key: such an id is a secret in the wrong place.
func looksLikeKey(id string) bool {
	_, err := ParseKey(id)
	return id != "" && err == nil
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// DataConverter returns the default data converter with every payload passing through c. Inside a workflow, a
// payload c cannot decrypt panics instead of returning an error: the SDK then fails the workflow task, logs it and
// retries it until the key is back, where an error would fail the workflow (on its input) or reach workflow code as
// if an activity or a signal had failed.
func DataConverter(c *Codec) converter.DataConverter {
	return &dataConverter{DataConverter: converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)}
}

// dataConverter is the codec data converter, aware of the workflow context it runs in.
type dataConverter struct {
	converter.DataConverter
	inWorkflow bool
}

var _ converter.ContextAware = (*dataConverter)(nil)

func (d *dataConverter) FromPayload(p *commonpb.Payload, valuePtr any) error {
	return d.check(d.DataConverter.FromPayload(p, valuePtr))
}

func (d *dataConverter) FromPayloads(ps *commonpb.Payloads, valuePtrs ...any) error {
	return d.check(d.DataConverter.FromPayloads(ps, valuePtrs...))
}

func (d *dataConverter) check(err error) error {
	var de *DecodeError
	if d.inWorkflow && errors.As(err, &de) {
		panic(err)
	}
	return err
}

// WithWorkflowContext returns the converter that panics on a payload it cannot decrypt.
func (d *dataConverter) WithWorkflowContext(converter.WorkflowContext) converter.DataConverter {
	return &dataConverter{DataConverter: d.DataConverter, inWorkflow: true}
}

// WithContext returns d: an activity's input it cannot decrypt fails the activity, as the SDK does.
func (d *dataConverter) WithContext(context.Context) converter.DataConverter { return d }

// WithSerializationContext keeps d's wrapping around the inner converter's answer.
func (d *dataConverter) WithSerializationContext(sc converter.SerializationContext) converter.DataConverter {
	return &dataConverter{DataConverter: converter.WithDataConverterSerializationContext(d.DataConverter, sc), inWorkflow: d.inWorkflow}
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
// A payload whose key is not in the keyring is answered 500 {"error": {"code": "codec_key_missing", "key_id": ...}}.
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
	var de *DecodeError
	switch {
	case errors.As(err, &de):
		code := "payload_undecodable"
		if de.Missing {
			code = "codec_key_missing"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": err.Error(), "key_id": de.KeyID}})
		return
	case err != nil:
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
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	return key, writeSecret(path, base64.StdEncoding.EncodeToString(key)+"\n")
}

// LoadOrCreateKeyring reads a keyring file (ParseKeyring), or writes there a new random key as LoadOrCreateKey does
// if the file does not exist: a keyring of one whose id is derived, in the form every release reads, so that older
// releases sharing the directory (a deploy, a downgrade) read and write the same payloads. For development only.
func LoadOrCreateKeyring(path string) ([]Key, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return ParseKeyring(string(b))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("codec: read keyring: %w", err)
	}
	key, err := LoadOrCreateKey(path)
	if err != nil {
		return nil, err
	}
	return []Key{{ID: DerivedID(key), Secret: key}}, nil
}

func newKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("codec: new key: %w", err)
	}
	return key, nil
}

func writeSecret(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("codec: write key: %w", err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return fmt.Errorf("codec: write key: %w", err)
	}
	return nil
}

// ParseKeyring reads a keyring, the current key first: entries separated by commas or new lines, each "id:key",
// "id key" or a bare key (its id derived, DerivedID), the key in base64 of 32 bytes; '#' starts a comment. CODEC_KEYS
// ("new:BASE64,old:BASE64") and a key file (one "id key" a line) are both this format.
func ParseKeyring(text string) ([]Key, error) {
	var entries []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		entries = append(entries, strings.Split(line, ",")...)
	}
	var keys []Key
	for _, entry := range entries {
		id, rest, hasColon := strings.Cut(entry, ":")
		f := append(strings.Fields(id), strings.Fields(rest)...)
		n := len(keys) + 1
		var k Key
		switch {
		case len(f) == 0:
			continue
		case hasColon && len(f) == 1 && strings.TrimSpace(rest) == "":
			if looksLikeKey(f[0]) {
				return nil, fmt.Errorf("codec: keyring entry %d: a key with a ':' after it and no id; write \"id:key\"", n)
			}
			return nil, fmt.Errorf("codec: keyring entry %d (%q) has no key", n, f[0])
		case len(f) == 1:
		case len(f) == 2:
			k.ID = f[0]
		default:
			return nil, fmt.Errorf("codec: keyring entry %d: want \"id:key\" or \"id key\"", n)
		}
		if looksLikeKey(k.ID) {
			return nil, fmt.Errorf("codec: keyring entry %d: its id is itself a 32-byte key in base64 (two keys separated by a space instead of a comma, or a line written \"key id\"?)", n)
		}
		secret, err := ParseKey(f[len(f)-1])
		if err != nil && k.ID == "" {
			return nil, fmt.Errorf("keyring entry %d: %w", n, err)
		}
		if err != nil {
			return nil, fmt.Errorf("keyring entry %d (%q): %w", n, k.ID, err)
		}
		k.Secret = secret
		if k.ID == "" {
			k.ID = DerivedID(secret)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("codec: the keyring has no key")
	}
	if _, err := NewKeyring(keys); err != nil {
		return nil, err
	}
	return keys, nil
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
