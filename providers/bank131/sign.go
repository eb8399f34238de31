package bank131

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// keyBits is the size of the keys EnsureKeyPair generates.
const keyBits = 2048

// Sign returns the X-PARTNER-SIGN value for body: the standard base64 of its RSA PKCS#1 v1.5 SHA-256 signature.
// Sign the exact bytes that are sent; never re-marshal.
func Sign(key *rsa.PrivateKey, body []byte) (string, error) {
	if key == nil {
		return "", errors.New("bank131: sign: no private key")
	}
	sum := sha256.Sum256(body)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("bank131: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Verify checks an X-PARTNER-SIGN value against the exact bytes of body.
func Verify(pub *rsa.PublicKey, body []byte, sig string) error {
	if pub == nil {
		return errors.New("bank131: verify: no public key")
	}
	if sig == "" {
		return errors.New("bank131: verify: no signature")
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("bank131: verify: signature is not base64: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], raw); err != nil {
		return fmt.Errorf("bank131: verify: %w", err)
	}
	return nil
}

// ParsePrivateKeyPEM reads an RSA private key from PEM, PKCS#1 ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY").
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("bank131: private key: no PEM block found")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("bank131: private key: %w", err)
		}
		return key, nil
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("bank131: private key: %w", err)
		}
		rsaKey, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("bank131: private key: %T is not an RSA key", key)
		}
		return rsaKey, nil
	}
	return nil, fmt.Errorf("bank131: private key: unsupported PEM block %q", block.Type)
}

// ParsePublicKeyPEM reads an RSA public key from PEM, PKIX ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY").
func ParsePublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("bank131: public key: no PEM block found")
	}
	switch block.Type {
	case "PUBLIC KEY":
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("bank131: public key: %w", err)
		}
		rsaKey, ok := key.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("bank131: public key: %T is not an RSA key", key)
		}
		return rsaKey, nil
	case "RSA PUBLIC KEY":
		key, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("bank131: public key: %w", err)
		}
		return key, nil
	}
	return nil, fmt.Errorf("bank131: public key: unsupported PEM block %q", block.Type)
}

// LoadPrivateKey reads an RSA private key from a PEM file.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bank131: load private key: %w", err)
	}
	key, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return key, nil
}

// LoadPublicKey reads an RSA public key from a PEM file.
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bank131: load public key: %w", err)
	}
	key, err := ParsePublicKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return key, nil
}

// EnsureKeyPair returns the key pair stored in dir as name.pem (PKCS#8 private key, mode 0600) and name.pub.pem
// (PKIX public key), generating a 2048-bit pair first if the private key is missing. A missing public key is
// rewritten from the private key; a public key without its private key is an error, never overwritten.
func EnsureKeyPair(dir, name string) (*rsa.PrivateKey, error) {
	privPath := filepath.Join(dir, name+".pem")
	pubPath := filepath.Join(dir, name+".pub.pem")

	key, err := LoadPrivateKey(privPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, err := os.Stat(pubPath); err == nil {
			return nil, fmt.Errorf("bank131: key pair %s: %s exists but %s does not", name, pubPath, privPath)
		}
		if key, err = generateKey(dir, privPath); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}

	if _, err := os.Stat(pubPath); errors.Is(err, fs.ErrNotExist) {
		der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("bank131: key pair %s: marshal public key: %w", name, err)
		}
		data := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		if err := writeNew(pubPath, data, 0o644); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("bank131: key pair %s: %w", name, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("bank131: key pair %s: %w", name, err)
	}
	return key, nil
}

// generateKey creates a private key and writes it to path, or loads the key another process wrote there first.
func generateKey(dir, path string) (*rsa.PrivateKey, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bank131: generate key: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("bank131: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("bank131: generate key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := writeNew(path, data, 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadPrivateKey(path)
		}
		return nil, fmt.Errorf("bank131: generate key: %w", err)
	}
	return key, nil
}

// writeNew writes data to a file that must not exist yet.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}
