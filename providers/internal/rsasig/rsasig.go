// Package rsasig signs and verifies request and webhook bodies with RSA PKCS#1 v1.5 over SHA-256, reads RSA keys
// and keeps a key pair in files. The providers' sign.go files are thin wrappers that name the provider in errors:
// every error here leaves that to the caller ("sign: no private key" becomes "bank131: sign: no private key").
package rsasig

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Sign returns the standard base64 of body's RSA PKCS#1 v1.5 SHA-256 signature by key. Sign the exact bytes that
// are sent; never re-marshal.
func Sign(key *rsa.PrivateKey, body []byte) (string, error) {
	if key == nil {
		return "", errors.New("sign: no private key")
	}
	sum := sha256.Sum256(body)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Verify checks a signature made by Sign against the exact bytes of body.
func Verify(pub *rsa.PublicKey, body []byte, sig string) error {
	if pub == nil {
		return errors.New("verify: no public key")
	}
	if sig == "" {
		return errors.New("verify: no signature")
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("verify: signature is not base64: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], raw); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	return nil
}

// ParsePrivateKeyPEM reads an RSA private key from PEM, PKCS#1 ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY").
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("private key: no PEM block found")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		return key, nil
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		rsaKey, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("private key: %T is not an RSA key", key)
		}
		return rsaKey, nil
	}
	return nil, fmt.Errorf("private key: unsupported PEM block %q", block.Type)
}

// Format is how public keys are written: the one difference between the providers' key handling.
type Format int

const (
	// PEM reads a PEM block, PKIX ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY"), each parsed as its type says, and
	// writes PKIX PEM to <name>.pub.pem.
	PEM Format = iota
	// Base64 reads bare base64 of the DER key, with no PEM header (as bePaid's back office shows a shop's key),
	// ignoring whitespace and line breaks, or a PEM block of either public key type; the DER is PKIX or PKCS#1
	// either way. It writes base64 of the PKIX DER on one line to <name>.pub.
	Base64
)

// suffix is the ending of a key pair's public key file.
func (f Format) suffix() string {
	if f == Base64 {
		return ".pub"
	}
	return ".pub.pem"
}

// ParsePublicKey reads an RSA public key in format f.
func ParsePublicKey(data []byte, f Format) (*rsa.PublicKey, error) {
	if f == Base64 {
		return parseBase64PublicKey(data)
	}
	return parsePEMPublicKey(data)
}

func parsePEMPublicKey(data []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("public key: no PEM block found")
	}
	switch block.Type {
	case "PUBLIC KEY":
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		rsaKey, ok := key.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key: %T is not an RSA key", key)
		}
		return rsaKey, nil
	case "RSA PUBLIC KEY":
		key, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		return key, nil
	}
	return nil, fmt.Errorf("public key: unsupported PEM block %q", block.Type)
}

func parseBase64PublicKey(data []byte) (*rsa.PublicKey, error) {
	var der []byte
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "PUBLIC KEY" && block.Type != "RSA PUBLIC KEY" {
			return nil, fmt.Errorf("public key: unsupported PEM block %q", block.Type)
		}
		der = block.Bytes
	} else {
		text := strings.Join(strings.Fields(string(data)), "")
		if text == "" {
			return nil, errors.New("public key: empty")
		}
		raw, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return nil, fmt.Errorf("public key: neither PEM nor base64: %w", err)
		}
		der = raw
	}
	if key, err := x509.ParsePKIXPublicKey(der); err == nil {
		rsaKey, ok := key.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key: %T is not an RSA key", key)
		}
		return rsaKey, nil
	}
	key, err := x509.ParsePKCS1PublicKey(der)
	if err != nil {
		return nil, errors.New("public key: not an RSA public key (PKIX or PKCS#1 DER)")
	}
	return key, nil
}

// PublicKeyBase64 returns base64 of pub's PKIX DER, on one line: the Base64 format, without a line break.
func PublicKeyBase64(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("public key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// EncodePublicKey returns pub as its file in format f holds it: a PKIX PEM block, or PublicKeyBase64 and a line
// break.
func EncodePublicKey(pub *rsa.PublicKey, f Format) ([]byte, error) {
	if f == Base64 {
		text, err := PublicKeyBase64(pub)
		if err != nil {
			return nil, err
		}
		return []byte(text + "\n"), nil
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// LoadPrivateKey reads an RSA private key from a PEM file. A missing file is an fs.ErrNotExist.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load private key: %w", err)
	}
	key, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return key, nil
}

// LoadPublicKey reads an RSA public key in format f from a file. A missing file is an fs.ErrNotExist.
func LoadPublicKey(path string, f Format) (*rsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load public key: %w", err)
	}
	key, err := ParsePublicKey(data, f)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return key, nil
}
