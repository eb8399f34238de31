package bepaid

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
	"strings"
)

// keyBits is the size of the keys EnsureKeyPair generates.
const keyBits = 2048

// Sign returns the Content-Signature value for body: the standard base64 of its RSA PKCS#1 v1.5 SHA-256
// signature. bePaid signs notifications and verification requests this way with the shop's private key, which it
// holds; the sandbox does the same with SandboxConfig.SigningKey. Sign the exact bytes that are sent.
func Sign(key *rsa.PrivateKey, body []byte) (string, error) {
	if key == nil {
		return "", errors.New("bepaid: sign: no private key")
	}
	sum := sha256.Sum256(body)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("bepaid: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Verify checks a Content-Signature value against the exact bytes of body.
func Verify(pub *rsa.PublicKey, body []byte, sig string) error {
	if pub == nil {
		return errors.New("bepaid: verify: no public key")
	}
	if sig == "" {
		return errors.New("bepaid: verify: no signature")
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("bepaid: verify: signature is not base64: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], raw); err != nil {
		return fmt.Errorf("bepaid: verify: %w", err)
	}
	return nil
}

// ParsePublicKey reads bePaid's public key for a shop. The back office shows it as bare base64 of the DER key, with
// no PEM header (the official PHP SDK wraps it into "-----BEGIN PUBLIC KEY-----" itself); a PEM block is accepted as
// well. PKIX ("PUBLIC KEY") and PKCS#1 ("RSA PUBLIC KEY") keys are read; whitespace and line breaks are ignored.
func ParsePublicKey(data []byte) (*rsa.PublicKey, error) {
	var der []byte
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "PUBLIC KEY" && block.Type != "RSA PUBLIC KEY" {
			return nil, fmt.Errorf("bepaid: public key: unsupported PEM block %q", block.Type)
		}
		der = block.Bytes
	} else {
		text := strings.Join(strings.Fields(string(data)), "")
		if text == "" {
			return nil, errors.New("bepaid: public key: empty")
		}
		raw, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return nil, fmt.Errorf("bepaid: public key: neither PEM nor base64: %w", err)
		}
		der = raw
	}
	if key, err := x509.ParsePKIXPublicKey(der); err == nil {
		rsaKey, ok := key.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("bepaid: public key: %T is not an RSA key", key)
		}
		return rsaKey, nil
	}
	key, err := x509.ParsePKCS1PublicKey(der)
	if err != nil {
		return nil, errors.New("bepaid: public key: not an RSA public key (PKIX or PKCS#1 DER)")
	}
	return key, nil
}

// PublicKeyBase64 returns pub as bePaid's back office shows a shop's public key: base64 of the PKIX DER, on one line.
func PublicKeyBase64(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("bepaid: public key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// LoadPublicKey reads bePaid's public key from a file, in either form ParsePublicKey reads.
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bepaid: load public key: %w", err)
	}
	key, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return key, nil
}

// ParsePrivateKeyPEM reads an RSA private key from PEM, PKCS#1 ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY").
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("bepaid: private key: no PEM block found")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("bepaid: private key: %w", err)
		}
		return key, nil
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("bepaid: private key: %w", err)
		}
		rsaKey, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("bepaid: private key: %T is not an RSA key", key)
		}
		return rsaKey, nil
	}
	return nil, fmt.Errorf("bepaid: private key: unsupported PEM block %q", block.Type)
}

// LoadPrivateKey reads an RSA private key from a PEM file.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bepaid: load private key: %w", err)
	}
	key, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return key, nil
}

// EnsureKeyPair returns the sandbox's signing key stored in dir as name.pem (PKCS#8 PEM, mode 0600), generating a
// 2048-bit key first if it is missing. Its public key is kept next to it as name.pub in the back office's form (bare
// base64 DER, see ParsePublicKey), so that the receiver loads it as it loads bePaid's real key. A missing public
// key is rewritten from the private key; a public key without its private key is an error, never overwritten.
func EnsureKeyPair(dir, name string) (*rsa.PrivateKey, error) {
	privPath := filepath.Join(dir, name+".pem")
	pubPath := filepath.Join(dir, name+".pub")

	key, err := LoadPrivateKey(privPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, err := os.Stat(pubPath); err == nil {
			return nil, fmt.Errorf("bepaid: key pair %s: %s exists but %s does not", name, pubPath, privPath)
		}
		if key, err = generateKey(dir, privPath); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}

	if _, err := os.Stat(pubPath); errors.Is(err, fs.ErrNotExist) {
		text, err := PublicKeyBase64(&key.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("bepaid: key pair %s: %w", name, err)
		}
		if err := writeNew(pubPath, []byte(text+"\n"), 0o644); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("bepaid: key pair %s: %w", name, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("bepaid: key pair %s: %w", name, err)
	}
	return key, nil
}

// generateKey creates a private key and writes it to path, or loads the key another process wrote there first.
func generateKey(dir, path string) (*rsa.PrivateKey, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bepaid: generate key: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("bepaid: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("bepaid: generate key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := writeNew(path, data, 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadPrivateKey(path)
		}
		return nil, fmt.Errorf("bepaid: generate key: %w", err)
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
