package bepaid

import (
	"crypto/rsa"
	"fmt"

	"github.com/payoutflow/payoutflow/providers/internal/rsasig"
)

// Sign returns the Content-Signature value for body: the standard base64 of its RSA PKCS#1 v1.5 SHA-256
// signature. bePaid signs notifications and verification requests this way with the shop's private key, which it
// holds; the sandbox (bepaid/sandbox) does the same with its signing key. Sign the exact bytes that are sent.
func Sign(key *rsa.PrivateKey, body []byte) (string, error) {
	sig, err := rsasig.Sign(key, body)
	return sig, named(err)
}

// Verify checks a Content-Signature value against the exact bytes of body.
func Verify(pub *rsa.PublicKey, body []byte, sig string) error {
	return named(rsasig.Verify(pub, body, sig))
}

// ParsePublicKey reads bePaid's public key for a shop. The back office shows it as bare base64 of the DER key, with
// no PEM header (the official PHP SDK wraps it into "-----BEGIN PUBLIC KEY-----" itself); a PEM block is accepted as
// well. PKIX ("PUBLIC KEY") and PKCS#1 ("RSA PUBLIC KEY") keys are read; whitespace and line breaks are ignored.
func ParsePublicKey(data []byte) (*rsa.PublicKey, error) {
	key, err := rsasig.ParsePublicKey(data, rsasig.Base64)
	return key, named(err)
}

// PublicKeyBase64 returns pub as bePaid's back office shows a shop's public key: base64 of the PKIX DER, on one line.
func PublicKeyBase64(pub *rsa.PublicKey) (string, error) {
	text, err := rsasig.PublicKeyBase64(pub)
	return text, named(err)
}

// LoadPublicKey reads bePaid's public key from a file, in either form ParsePublicKey reads.
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	key, err := rsasig.LoadPublicKey(path, rsasig.Base64)
	return key, named(err)
}

// ParsePrivateKeyPEM reads an RSA private key from PEM, PKCS#1 ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY").
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	key, err := rsasig.ParsePrivateKeyPEM(data)
	return key, named(err)
}

// LoadPrivateKey reads an RSA private key from a PEM file.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	key, err := rsasig.LoadPrivateKey(path)
	return key, named(err)
}

// EnsureKeyPair returns the sandbox's signing key stored in dir as name.pem (PKCS#8 PEM, mode 0600), generating a
// 2048-bit key first if it is missing. Its public key is kept next to it as name.pub in the back office's form (bare
// base64 DER, see ParsePublicKey), so that the receiver loads it as it loads bePaid's real key. A missing public
// key is rewritten from the private key; a public key without its private key is an error, never overwritten.
func EnsureKeyPair(dir, name string) (*rsa.PrivateKey, error) {
	key, err := rsasig.EnsureKeyPair(dir, name, rsasig.Base64)
	return key, named(err)
}

// named puts the provider's name before an error of rsasig.
func named(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("bepaid: %w", err)
}
