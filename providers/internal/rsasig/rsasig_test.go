package rsasig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// testKeys are generated once per test binary: a signing key and another one.
var testKeys = sync.OnceValues(func() (*rsa.PrivateKey, *rsa.PrivateKey) {
	gen := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, KeyBits)
		if err != nil {
			panic(err)
		}
		return k
	}
	return gen(), gen()
})

func TestSignAndVerify(t *testing.T) {
	key, other := testKeys()
	body := []byte(`{"amount":100}`)
	sig, err := Sign(key, body)
	require.NoError(t, err)
	_, err = base64.StdEncoding.DecodeString(sig)
	require.NoError(t, err, "the signature is standard base64")

	tests := []struct {
		name    string
		pub     *rsa.PublicKey
		body    []byte
		sig     string
		wantErr string
	}{
		{name: "the exact body", pub: &key.PublicKey, body: body, sig: sig},
		{name: "a changed body", pub: &key.PublicKey, body: []byte(`{"amount":101}`), sig: sig, wantErr: "verify: "},
		{name: "another key", pub: &other.PublicKey, body: body, sig: sig, wantErr: "verify: "},
		{name: "no signature", pub: &key.PublicKey, body: body, sig: "", wantErr: "verify: no signature"},
		{name: "not base64", pub: &key.PublicKey, body: body, sig: "not base64!", wantErr: "verify: signature is not base64"},
		{name: "no key", pub: nil, body: body, sig: sig, wantErr: "verify: no public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.pub, tt.body, tt.sig)

			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.True(t, strings.HasPrefix(err.Error(), tt.wantErr), "errors leave the provider's name to the caller: %v", err)
		})
	}
}

func TestSign_IsDeterministicAndNeedsAKey(t *testing.T) {
	key, _ := testKeys()

	a, err := Sign(key, []byte("x"))
	require.NoError(t, err)
	b, err := Sign(key, []byte("x"))
	require.NoError(t, err)
	require.Equal(t, a, b, "PKCS#1 v1.5 signatures do not vary")

	_, err = Sign(nil, []byte("x"))
	require.EqualError(t, err, "sign: no private key")
}

func TestParsePrivateKeyPEM(t *testing.T) {
	key, _ := testKeys()
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(t, err)
	encode := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }

	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{name: "PKCS#1", data: encode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))},
		{name: "PKCS#8", data: encode("PRIVATE KEY", pkcs8)},
		{name: "not PEM", data: []byte("not a key"), wantErr: "private key: no PEM block found"},
		{name: "a public key", data: encode("PUBLIC KEY", []byte("x")), wantErr: `private key: unsupported PEM block "PUBLIC KEY"`},
		{name: "an EC key", data: encode("PRIVATE KEY", ecDER), wantErr: "private key: *ecdsa.PrivateKey is not an RSA key"},
		{name: "broken PKCS#1", data: encode("RSA PRIVATE KEY", []byte("x")), wantErr: "private key: "},
		{name: "broken PKCS#8", data: encode("PRIVATE KEY", []byte("x")), wantErr: "private key: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrivateKeyPEM(tt.data)

			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.True(t, key.Equal(got))
		})
	}
}

func TestParsePublicKey(t *testing.T) {
	key, _ := testKeys()
	pub := &key.PublicKey
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	pkcs1 := x509.MarshalPKCS1PublicKey(pub)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecDER, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	require.NoError(t, err)
	encode := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	bare := base64.StdEncoding.EncodeToString(pkix)
	var wrapped strings.Builder // 64 characters a line, as bePaid's PHP SDK wraps it
	for i := 0; i < len(bare); i += 64 {
		wrapped.WriteString(bare[i:min(i+64, len(bare))] + "\r\n")
	}

	tests := []struct {
		name    string
		format  Format
		text    string
		wantErr string
	}{
		{"PEM: PKIX", PEM, encode("PUBLIC KEY", pkix), ""},
		{"PEM: PKCS#1", PEM, encode("RSA PUBLIC KEY", pkcs1), ""},
		{"PEM: a PKIX block must hold PKIX", PEM, encode("PUBLIC KEY", pkcs1), "public key: "},
		{"PEM: a PKCS#1 block must hold PKCS#1", PEM, encode("RSA PUBLIC KEY", pkix), "public key: "},
		{"PEM: bare base64 is not read", PEM, bare, "public key: no PEM block found"},
		{"PEM: an EC key", PEM, encode("PUBLIC KEY", ecDER), "public key: *ecdsa.PublicKey is not an RSA key"},
		{"PEM: a private key", PEM, encode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)),
			`public key: unsupported PEM block "RSA PRIVATE KEY"`},

		{"Base64: bare PKIX", Base64, bare, ""},
		{"Base64: with spaces and line breaks", Base64, "  " + wrapped.String() + "\n", ""},
		{"Base64: bare PKCS#1", Base64, base64.StdEncoding.EncodeToString(pkcs1), ""},
		{"Base64: PEM, PKIX", Base64, encode("PUBLIC KEY", pkix), ""},
		{"Base64: PEM, PKCS#1", Base64, encode("RSA PUBLIC KEY", pkcs1), ""},
		{"Base64: PEM of either type holds either DER", Base64, encode("PUBLIC KEY", pkcs1), ""},
		{"Base64: empty", Base64, " \n", "public key: empty"},
		{"Base64: not base64", Base64, "not a key!", "public key: neither PEM nor base64"},
		{"Base64: base64 of garbage", Base64, base64.StdEncoding.EncodeToString([]byte("garbage")),
			"public key: not an RSA public key (PKIX or PKCS#1 DER)"},
		{"Base64: an EC key", Base64, base64.StdEncoding.EncodeToString(ecDER),
			"public key: *ecdsa.PublicKey is not an RSA key"},
		{"Base64: a certificate", Base64, encode("CERTIFICATE", []byte("x")), `public key: unsupported PEM block "CERTIFICATE"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePublicKey([]byte(tt.text), tt.format)

			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.True(t, pub.Equal(got))
		})
	}
}

func TestEncodePublicKey_IsReadBackInItsFormat(t *testing.T) {
	key, _ := testKeys()
	tests := []struct {
		format Format
		check  func(t *testing.T, text string)
	}{
		{PEM, func(t *testing.T, text string) {
			require.True(t, strings.HasPrefix(text, "-----BEGIN PUBLIC KEY-----\n"), text)
		}},
		{Base64, func(t *testing.T, text string) {
			require.NotContains(t, text, "BEGIN")
			require.Equal(t, 1, strings.Count(text, "\n"), "one line")
			want, err := PublicKeyBase64(&key.PublicKey)
			require.NoError(t, err)
			require.Equal(t, want+"\n", text)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format.suffix(), func(t *testing.T) {
			data, err := EncodePublicKey(&key.PublicKey, tt.format)
			require.NoError(t, err)

			tt.check(t, string(data))
			got, err := ParsePublicKey(data, tt.format)
			require.NoError(t, err)
			require.True(t, key.PublicKey.Equal(got))
		})
	}
}

func TestLoadKeys(t *testing.T) {
	key, _ := testKeys()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o600))
		return path
	}
	privPath := write("k.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
		Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	pubText, err := EncodePublicKey(&key.PublicKey, Base64)
	require.NoError(t, err)
	pubPath := write("k.pub", pubText)
	badPath := write("bad.pem", []byte("not a key"))
	missing := filepath.Join(dir, "missing")

	priv, err := LoadPrivateKey(privPath)
	require.NoError(t, err)
	require.True(t, key.Equal(priv))
	pub, err := LoadPublicKey(pubPath, Base64)
	require.NoError(t, err)
	require.True(t, key.PublicKey.Equal(pub))

	tests := []struct {
		name     string
		load     func() error
		notFound bool
		wantErr  string
	}{
		{"a missing private key", func() error { _, err := LoadPrivateKey(missing); return err }, true,
			"load private key: "},
		{"a missing public key", func() error { _, err := LoadPublicKey(missing, PEM); return err }, true,
			"load public key: "},
		{"a private key that does not parse names its file", func() error { _, err := LoadPrivateKey(badPath); return err },
			false, "private key: no PEM block found (file " + badPath + ")"},
		{"a public key that does not parse names its file", func() error { _, err := LoadPublicKey(pubPath, PEM); return err },
			false, "public key: no PEM block found (file " + pubPath + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.load()

			require.ErrorContains(t, err, tt.wantErr)
			require.Equal(t, tt.notFound, errors.Is(err, fs.ErrNotExist))
		})
	}
}

func TestEnsureKeyPair(t *testing.T) {
	for _, f := range []Format{PEM, Base64} {
		t.Run(f.suffix(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			privPath := filepath.Join(dir, "partner.pem")
			pubPath := filepath.Join(dir, "partner"+f.suffix())

			first, err := EnsureKeyPair(dir, "partner", f)
			require.NoError(t, err)
			require.Equal(t, KeyBits, first.N.BitLen())
			info, err := os.Stat(privPath)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
			stored, err := LoadPrivateKey(privPath)
			require.NoError(t, err)
			require.True(t, first.Equal(stored))
			pub, err := LoadPublicKey(pubPath, f)
			require.NoError(t, err)
			require.True(t, first.PublicKey.Equal(pub))

			again, err := EnsureKeyPair(dir, "partner", f)
			require.NoError(t, err)
			require.True(t, first.Equal(again), "the stored key is loaded, not replaced")

			require.NoError(t, os.Remove(pubPath))
			_, err = EnsureKeyPair(dir, "partner", f)
			require.NoError(t, err)
			pub, err = LoadPublicKey(pubPath, f)
			require.NoError(t, err, "a missing public key is written again")
			require.True(t, first.PublicKey.Equal(pub))
		})
	}
}

func TestEnsureKeyPair_Refuses(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		wantErr string
		keep    map[string]string
	}{
		{"a public key without its private key", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "k.pub.pem"), []byte("x"), 0o644))
		}, "key pair k: ", map[string]string{"k.pub.pem": "x"}},
		{"a private key that does not parse", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "k.pem"), []byte("junk"), 0o600))
		}, "private key: no PEM block found", map[string]string{"k.pem": "junk"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.prepare(t, dir)

			_, err := EnsureKeyPair(dir, "k", PEM)

			require.ErrorContains(t, err, tt.wantErr)
			for name, want := range tt.keep {
				data, err := os.ReadFile(filepath.Join(dir, name))
				require.NoError(t, err)
				require.Equal(t, want, string(data), "%s is never overwritten", name)
			}
		})
	}
}

func TestWriteNew_NeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, writeNew(path, []byte("first"), 0o600))

	err := writeNew(path, []byte("second"), 0o600)

	require.ErrorIs(t, err, fs.ErrExist)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "first", string(data))
}
