package rsasig

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyBits is the size of the keys EnsureKeyPair generates.
const KeyBits = 2048

// publicKeyPath is where EnsureKeyPair keeps the public key of the pair name in dir, in format f.
func publicKeyPath(dir, name string, f Format) string {
	return filepath.Join(dir, name+f.suffix())
}

// EnsureKeyPair returns the key pair stored in dir as name.pem (PKCS#8 private key, mode 0600) and its public key
// in format f (name.pub.pem or name.pub), generating a KeyBits pair first if the private key is missing. A missing
// public key is rewritten from the private key; a public key without its private key is an error, never
// overwritten. When another process writes the private key first, its key is loaded and returned.
func EnsureKeyPair(dir, name string, f Format) (*rsa.PrivateKey, error) {
	privPath := filepath.Join(dir, name+".pem")
	pubPath := publicKeyPath(dir, name, f)

	key, err := LoadPrivateKey(privPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, err := os.Stat(pubPath); err == nil {
			return nil, fmt.Errorf("key pair %s: %s exists but %s does not", name, pubPath, privPath)
		}
		if key, err = generateKey(dir, privPath); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}

	if _, err := os.Stat(pubPath); errors.Is(err, fs.ErrNotExist) {
		data, err := EncodePublicKey(&key.PublicKey, f)
		if err != nil {
			return nil, fmt.Errorf("key pair %s: %w", name, err)
		}
		if err := writeNew(pubPath, data, 0o644); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("key pair %s: %w", name, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("key pair %s: %w", name, err)
	}
	return key, nil
}

// generateKey creates a private key and writes it to path, or loads the key another process wrote there first.
func generateKey(dir, path string) (*rsa.PrivateKey, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := writeNew(path, data, 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadPrivateKey(path)
		}
		return nil, fmt.Errorf("generate key: %w", err)
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
