package clustertest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// httpsProxy is an https front for a loopback http service, as a TLS-terminating proxy stands before the API, and
// as the providers' hosts speak https: the worker and the API take only https addresses. Its certificate (for
// 127.0.0.1) is httptest's; the processes trust it through SSL_CERT_FILE.
type httpsProxy struct {
	srv    *httptest.Server
	mu     sync.Mutex
	target *url.URL
}

func newHTTPSProxy(t *testing.T, target string) *httpsProxy {
	p := &httpsProxy{}
	p.setTarget(t, target)
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		p.mu.Lock()
		r.SetURL(p.target)
		p.mu.Unlock()
		r.SetXForwarded()
	}}
	p.srv = httptest.NewTLSServer(rp)
	t.Cleanup(p.srv.Close)
	return p
}

// URL is the proxy's https URL.
func (p *httpsProxy) URL() string { return p.srv.URL }

// setTarget points the proxy at another http service.
func (p *httpsProxy) setTarget(t *testing.T, target string) {
	u, err := url.Parse(target)
	require.NoError(t, err)
	p.mu.Lock()
	p.target = u
	p.mu.Unlock()
}

// writeCA writes the proxies' certificate as a PEM file for SSL_CERT_FILE, and returns an HTTP client that trusts
// it, for the test's own calls.
func writeCA(t *testing.T, p *httpsProxy, path string) *http.Client {
	cert := p.srv.Certificate()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644))
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}
