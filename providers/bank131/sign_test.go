package bank131

import (
	"crypto/rsa"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSign_MatchesOpenSSLVector(t *testing.T) {
	partner, _ := testKeys(t)

	sig, err := Sign(partner, []byte("{}"))

	require.NoError(t, err)
	require.Equal(t, testSignatureOfEmptyObject, sig)
}

func TestVerify(t *testing.T) {
	partner, bank := testKeys(t)
	tests := []struct {
		name    string
		key     func() *rsa.PublicKey
		body    string
		sig     string
		wantErr bool
	}{
		{name: "accepts the signature of the exact body", body: "{}", sig: testSignatureOfEmptyObject},
		{name: "rejects a changed body", body: "{ }", sig: testSignatureOfEmptyObject, wantErr: true},
		{name: "rejects another key", key: func() *rsa.PublicKey { return &bank.PublicKey }, body: "{}",
			sig: testSignatureOfEmptyObject, wantErr: true},
		{name: "rejects an empty signature", body: "{}", sig: "", wantErr: true},
		{name: "rejects a signature that is not base64", body: "{}", sig: "not base64!", wantErr: true},
		{name: "rejects a nil key", key: func() *rsa.PublicKey { return nil }, body: "{}",
			sig: testSignatureOfEmptyObject, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &partner.PublicKey
			if tt.key != nil {
				pub = tt.key()
			}
			err := Verify(pub, []byte(tt.body), tt.sig)
			if tt.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

func TestParsePrivateKeyPEM_AcceptsPKCS1AndPKCS8(t *testing.T) {
	pkcs1, err := ParsePrivateKeyPEM([]byte(testPartnerKeyPKCS1))
	require.NoError(t, err)
	pkcs8, err := ParsePrivateKeyPEM([]byte(testPartnerKeyPKCS8))
	require.NoError(t, err)

	require.True(t, pkcs1.Equal(pkcs8))
}

func TestParsePublicKeyPEM_AcceptsPKIXAndPKCS1(t *testing.T) {
	partner, _ := testKeys(t)
	for name, text := range map[string]string{"PKIX": testPartnerPubPKIX, "PKCS#1": testPartnerPubPKCS1} {
		t.Run(name, func(t *testing.T) {
			pub, err := ParsePublicKeyPEM([]byte(text))
			require.NoError(t, err)
			require.True(t, partner.PublicKey.Equal(pub))
		})
	}
}

func TestParseKeyPEM_RejectsWhatIsNotAnRSAKeyOfItsKind(t *testing.T) {
	const ecKey = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg4hgY4WAXEqbzQtdL
gUGza54cTjyyspUebzPnLui6wgehRANCAARP0vdRPSrfD5s+vi5qrqZRQdlH6rMX
KYSINeCJw36S/6eQuE3lbgORyBd4MVCujQyHLqdxBZXVl8iu5m2K5l2w
-----END PRIVATE KEY-----`
	tests := []struct {
		name  string
		parse func([]byte) error
		text  string
	}{
		{"private: not PEM", parsePrivate, "not a key"},
		{"private: a public key", parsePrivate, testPartnerPubPKIX},
		{"private: an EC key", parsePrivate, ecKey},
		{"public: not PEM", parsePublic, "not a key"},
		{"public: a private key", parsePublic, testPartnerKeyPKCS1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Error(t, tt.parse([]byte(tt.text)))
		})
	}
}

func TestEnsureKeyPair_GeneratesOnceThenLoads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")

	first, err := EnsureKeyPair(dir, "partner")
	require.NoError(t, err)
	require.Equal(t, keyBits, first.N.BitLen())

	info, err := os.Stat(filepath.Join(dir, "partner.pem"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	priv, err := LoadPrivateKey(filepath.Join(dir, "partner.pem"))
	require.NoError(t, err)
	require.True(t, first.Equal(priv))
	pub, err := LoadPublicKey(filepath.Join(dir, "partner.pub.pem"))
	require.NoError(t, err)
	require.True(t, first.PublicKey.Equal(pub))

	again, err := EnsureKeyPair(dir, "partner")
	require.NoError(t, err)
	require.True(t, first.Equal(again), "a second call must load the stored key, not make a new one")
}

func TestEnsureKeyPair_RewritesAMissingPublicKey(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bank.pem"), []byte(testBankKeyPKCS1), 0o600))

	key, err := EnsureKeyPair(dir, "bank")
	require.NoError(t, err)

	_, bank := testKeys(t)
	require.True(t, bank.Equal(key))
	pub, err := LoadPublicKey(filepath.Join(dir, "bank.pub.pem"))
	require.NoError(t, err)
	require.True(t, bank.PublicKey.Equal(pub))
}

func TestEnsureKeyPair_RefusesAPublicKeyWithoutItsPrivateKey(t *testing.T) {
	dir := t.TempDir()
	pubPath := filepath.Join(dir, "bank.pub.pem")
	require.NoError(t, os.WriteFile(pubPath, []byte(testPartnerPubPKIX), 0o644))

	_, err := EnsureKeyPair(dir, "bank")

	require.Error(t, err)
	data, err := os.ReadFile(pubPath)
	require.NoError(t, err)
	require.Equal(t, testPartnerPubPKIX, string(data), "the public key must not be overwritten")
}

func TestLoadKey_NamesAMissingFile(t *testing.T) {
	_, err := LoadPrivateKey(filepath.Join(t.TempDir(), "missing.pem"))
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = LoadPublicKey(filepath.Join(t.TempDir(), "missing.pub.pem"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func parsePrivate(b []byte) error { _, err := ParsePrivateKeyPEM(b); return err }
func parsePublic(b []byte) error  { _, err := ParsePublicKeyPEM(b); return err }
