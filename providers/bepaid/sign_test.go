package bepaid

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSignAndVerify(t *testing.T) {
	key := bepaidKey()
	body := []byte(seedResponse)
	sig, err := Sign(key, body)
	require.NoError(t, err)
	tests := []struct {
		name    string
		pub     *rsa.PublicKey
		body    []byte
		sig     string
		wantErr bool
	}{
		{name: "accepts the signature of the exact body", pub: &key.PublicKey, body: body, sig: sig},
		{name: "rejects a changed body", pub: &key.PublicKey, body: append([]byte(" "), body...), sig: sig, wantErr: true},
		{name: "rejects another key", pub: &otherKey().PublicKey, body: body, sig: sig, wantErr: true},
		{name: "rejects an empty signature", pub: &key.PublicKey, body: body, sig: "", wantErr: true},
		{name: "rejects a signature that is not base64", pub: &key.PublicKey, body: body, sig: "not base64!", wantErr: true},
		{name: "rejects a nil key", body: body, sig: sig, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.pub, tt.body, tt.sig)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
		})
	}
	_, err = Sign(nil, body)
	require.Error(t, err)
}

func TestParsePublicKey_ReadsTheBackOfficeFormAndPEM(t *testing.T) {
	pub := &bepaidKey().PublicKey
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	pkcs1 := x509.MarshalPKCS1PublicKey(pub)
	bare := base64.StdEncoding.EncodeToString(pkix)
	var wrapped strings.Builder // as the PHP SDK wraps it: 64 characters a line
	for i := 0; i < len(bare); i += 64 {
		wrapped.WriteString(bare[i:min(i+64, len(bare))] + "\r\n")
	}
	tests := map[string]string{
		"bare base64 DER, as the back office shows it": bare,
		"bare base64 with spaces and line breaks":      "  " + wrapped.String() + "\n",
		"bare base64 of a PKCS#1 key":                  base64.StdEncoding.EncodeToString(pkcs1),
		"PEM, PKIX":                                    string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})),
		"PEM, PKCS#1":                                  string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1})),
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePublicKey([]byte(text))

			require.NoError(t, err)
			require.True(t, pub.Equal(got))
		})
	}
	back, err := PublicKeyBase64(pub)
	require.NoError(t, err)
	require.Equal(t, bare, back)
}

func TestParsePublicKey_RejectsWhatIsNotAnRSAPublicKey(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecDER, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	require.NoError(t, err)
	privDER, err := x509.MarshalPKCS8PrivateKey(bepaidKey())
	require.NoError(t, err)
	tests := map[string]string{
		"empty":              "  \n",
		"not base64":         "not a key!",
		"base64 of garbage":  base64.StdEncoding.EncodeToString([]byte("garbage")),
		"an EC key":          base64.StdEncoding.EncodeToString(ecDER),
		"a private key, PEM": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})),
		"a certificate PEM":  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")})),
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParsePublicKey([]byte(text))

			require.Error(t, err)
		})
	}
}

func TestParsePrivateKeyPEM(t *testing.T) {
	key := bepaidKey()
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	for name, block := range map[string]*pem.Block{
		"PKCS#1": {Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)},
		"PKCS#8": {Type: "PRIVATE KEY", Bytes: pkcs8},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePrivateKeyPEM(pem.EncodeToMemory(block))

			require.NoError(t, err)
			require.True(t, key.Equal(got))
		})
	}
	_, err = ParsePrivateKeyPEM([]byte("no pem"))
	require.Error(t, err)
	_, err = ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("x")}))
	require.Error(t, err)
}

func TestEnsureKeyPair_GeneratesOnceAndWritesTheBackOfficeForm(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")

	key, err := EnsureKeyPair(dir, "bepaid-sandbox")
	require.NoError(t, err)
	again, err := EnsureKeyPair(dir, "bepaid-sandbox")
	require.NoError(t, err)

	require.True(t, key.Equal(again), "the stored key is reused")
	info, err := os.Stat(filepath.Join(dir, "bepaid-sandbox.pem"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	pubText, err := os.ReadFile(filepath.Join(dir, "bepaid-sandbox.pub"))
	require.NoError(t, err)
	require.NotContains(t, string(pubText), "BEGIN", "the public key is bare base64, as the back office shows it")
	pub, err := LoadPublicKey(filepath.Join(dir, "bepaid-sandbox.pub"))
	require.NoError(t, err)
	require.True(t, key.PublicKey.Equal(pub))

	require.NoError(t, os.Remove(filepath.Join(dir, "bepaid-sandbox.pub")))
	_, err = EnsureKeyPair(dir, "bepaid-sandbox")
	require.NoError(t, err)
	_, err = LoadPublicKey(filepath.Join(dir, "bepaid-sandbox.pub"))
	require.NoError(t, err, "a missing public key is written again")
}

func TestEnsureKeyPair_RefusesAPublicKeyWithoutItsPrivateKey(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "k.pub"), []byte("x"), 0o644))

	_, err := EnsureKeyPair(dir, "k")

	require.Error(t, err)
	data, err := os.ReadFile(filepath.Join(dir, "k.pub"))
	require.NoError(t, err)
	require.Equal(t, "x", string(data), "never overwritten")
}

func TestLoadKeys_NameTheMissingFile(t *testing.T) {
	_, err := LoadPublicKey(filepath.Join(t.TempDir(), "missing.pub"))
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = LoadPrivateKey(filepath.Join(t.TempDir(), "missing.pem"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
