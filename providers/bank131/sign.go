package bank131

import (
	"crypto/rsa"
	"fmt"

	"github.com/payoutflow/payoutflow/providers/internal/rsasig"
)

// keyBits is the size of the keys EnsureKeyPair generates.
const keyBits = rsasig.KeyBits

// Sign returns the X-PARTNER-SIGN value for body: the standard base64 of its RSA PKCS#1 v1.5 SHA-256 signature.
// Sign the exact bytes that are sent; never re-marshal.
func Sign(key *rsa.PrivateKey, body []byte) (string, error) {
	sig, err := rsasig.Sign(key, body)
	return sig, named(err)
}

// Verify checks an X-PARTNER-SIGN value against the exact bytes of body.
func Verify(pub *rsa.PublicKey, body []byte, sig string) error {
	return named(rsasig.Verify(pub, body, sig))
}

// ParsePrivateKeyPEM reads an RSA private key from PEM, PKCS#1 ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY").
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	key, err := rsasig.ParsePrivateKeyPEM(data)
	return key, named(err)
}

// ParsePublicKeyPEM reads an RSA public key from PEM, PKIX ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY").
func ParsePublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	key, err := rsasig.ParsePublicKey(data, rsasig.PEM)
	return key, named(err)
}

// LoadPrivateKey reads an RSA private key from a PEM file.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	key, err := rsasig.LoadPrivateKey(path)
	return key, named(err)
}

// LoadPublicKey reads an RSA public key from a PEM file.
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	key, err := rsasig.LoadPublicKey(path, rsasig.PEM)
	return key, named(err)
}

// EnsureKeyPair returns the key pair stored in dir as name.pem (PKCS#8 private key, mode 0600) and name.pub.pem
// (PKIX public key), generating a 2048-bit pair first if the private key is missing. A missing public key is
// rewritten from the private key; a public key without its private key is an error, never overwritten.
func EnsureKeyPair(dir, name string) (*rsa.PrivateKey, error) {
	key, err := rsasig.EnsureKeyPair(dir, name, rsasig.PEM)
	return key, named(err)
}

// named puts the provider's name before an error of rsasig.
func named(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("bank131: %w", err)
}
