package connecttest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/server/common/rpc/encryption"
	"go.temporal.io/server/temporal"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/payoutflow/payoutflow/api"
	pfclient "github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/workflows"
)

// pki is a certificate authority the test makes, with a server certificate for 127.0.0.1 and a client certificate.
type pki struct {
	dir            string // ca.pem, client.pem, client-key.pem
	server, client tls.Certificate
	pool           *x509.CertPool
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), pool: x509.NewCertPool()}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "payoutflow test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	p.pool.AddCert(ca)
	p.write(t, "ca.pem", "CERTIFICATE", caDER)

	issue := func(serial int64, name string, usage x509.ExtKeyUsage) (tls.Certificate, []byte, []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		keyDER, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der, keyDER
	}
	p.server, _, _ = issue(2, "temporal frontend", x509.ExtKeyUsageServerAuth)
	var der, keyDER []byte
	p.client, der, keyDER = issue(3, "payoutflow", x509.ExtKeyUsageClientAuth)
	p.write(t, "client.pem", "CERTIFICATE", der)
	p.write(t, "client-key.pem", "EC PRIVATE KEY", keyDER)
	return p
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(p.dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

// headers records the authorization header of every call the frontend receives.
type headers struct {
	mu   sync.Mutex
	seen []string
}

func (h *headers) intercept(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	h.mu.Lock()
	h.seen = append(h.seen, md.Get("authorization")...)
	h.mu.Unlock()
	return next(ctx, req)
}

func (h *headers) authorizations() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.seen)
}

// startFrontend starts a real Temporal server whose frontend serves TLS with p's server certificate; with mtls, it
// also requires a client certificate that p's CA signed. The server's own system worker connects as a client would.
func startFrontend(t *testing.T, p *pki, mtls bool) (*temporaltest.TestServer, *headers) {
	t.Helper()
	server := &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
	self := &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12}
	if mtls {
		server.ClientAuth, server.ClientCAs = tls.RequireAndVerifyClientCert, p.pool
		self.Certificates = []tls.Certificate{p.client}
	}
	h := &headers{}
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseServerOptions(
		temporal.WithTLSConfigFactory(&encryption.FixedTLSConfigProvider{FrontendServerConfig: server, FrontendClientConfig: self}),
		temporal.WithChainedFrontendGrpcInterceptors(h.intercept),
	))
	return ts, h
}

// production sets the environment of a production worker and API whose Temporal is ts, with Mandarin on, and
// clears every TEMPORAL_* variable; extra adds to it.
func production(t *testing.T, ts *temporaltest.TestServer, extra map[string]string) {
	t.Helper()
	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(t, err)
	home := t.TempDir()
	env := map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": home, // no Temporal CLI profile of this machine
		"TEMPORAL_ADDRESS": ts.GetFrontendHostPort(), "TEMPORAL_NAMESPACE": ts.GetDefaultNamespace(),
		"TEMPORAL_API_KEY": "", "TEMPORAL_TLS": "", "TEMPORAL_TLS_CLIENT_CERT_PATH": "", "TEMPORAL_TLS_CLIENT_KEY_PATH": "",
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "", "TEMPORAL_TLS_SERVER_NAME": "", "TEMPORAL_PROFILE": "", "TEMPORAL_CONFIG_FILE": "",
		"TASK_QUEUE":      "connect-" + t.Name(),
		"CODEC_KEY":       base64.StdEncoding.EncodeToString(key),
		"PUBLIC_URL":      "https://payouts.example.com",
		"BANK131_PROJECT": "", "BEPAID_SHOP_ID": "",
		"MANDARIN_BASE_URL": "https://secure.mandarinpay.com", "MANDARIN_MERCHANT_ID": "1", "MANDARIN_SECRET": "secret",
		"MANDARIN_DEFAULT_EMAIL": "payouts@example.com", "MANDARIN_DEFAULT_PHONE": "+79000000000",
	}
	for k, v := range extra {
		env[k] = v
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// dial builds the client as cmd/worker and cmd/api do.
func dial(t *testing.T) (config.Config, error) {
	t.Helper()
	cfg, err := config.Load()
	require.NoError(t, err)
	cd, _, err := cfg.Codec(false)
	require.NoError(t, err)
	c, _, err := cfg.Dial(cd, slog.New(slog.DiscardHandler))
	if err == nil {
		c.Close()
	}
	t.Logf("%s: %v", cfg.TemporalTLS(), err)
	return cfg, err
}

// payoutRuns starts the worker and the API as cmd/worker and cmd/api do, from the environment, creates a payout
// through the API and waits until the worker has run it to the approval it waits for.
func payoutRuns(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := config.Load()
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cd, codecKeys, err := cfg.Codec(false)
	require.NoError(t, err)
	ps, err := app.Configured(cfg)
	require.NoError(t, err)
	c, dc, err := cfg.Dial(cd, log)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, workflows.EnsureSearchAttributes(ctx, c, cfg.Namespace))
	w := app.NewWorker(c, cfg.TaskQueue, codecKeys, ps.Providers()...)
	require.NoError(t, w.Start())
	defer w.Stop()

	secret, err := api.NewSecret()
	require.NoError(t, err)
	keys, err := api.NewKeys([]api.Key{{Name: "backend", SHA256: api.HashSecret(secret), Scopes: []string{api.ScopeCreate, api.ScopeRead}}})
	require.NoError(t, err)
	srv := httptest.NewServer(app.NewAPI(cfg, app.API{Client: c, DataConverter: dc, CodecKeys: codecKeys, Logger: log,
		Providers: ps, Keys: keys}))
	defer srv.Close()
	backend, err := pfclient.New(srv.URL, secret, pfclient.WithPolling(100*time.Millisecond, 100*time.Millisecond))
	require.NoError(t, err)
	created, err := backend.Create(ctx, pfclient.CreateRequest{Provider: "mandarin",
		Amount:      pfclient.Amount{Value: 150000, Currency: "RUB"},
		Destination: pfclient.Destination{Type: pfclient.DestinationCard, Card: &pfclient.Card{Number: "4012888888881881"}},
		Recipient:   pfclient.Recipient{FullName: "Ivanov Ivan"}, Description: "Payout for order 8"},
		&pfclient.CreateOptions{IdempotencyKey: "connect-" + t.Name()})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.Response.StatusCode)
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err = backend.Wait(waitCtx, created.ID, pfclient.StatusAwaitingApproval)
	require.NoError(t, err, "the worker runs the payout to its approval")
}

func TestConnect_TLSFrontend(t *testing.T) {
	p := newPKI(t)
	ts, seen := startFrontend(t, p, false)

	t.Run("with its CA and an API key, a payout runs and the key reaches the frontend", func(t *testing.T) {
		production(t, ts, map[string]string{"TEMPORAL_TLS": "true",
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH": p.path("ca.pem"), "TEMPORAL_API_KEY": "the-api-key"})
		payoutRuns(t)
		require.Contains(t, seen.authorizations(), "Bearer the-api-key")
	})
	t.Run("an API key alone turns TLS on, and the system's CAs do not trust the test CA", func(t *testing.T) {
		production(t, ts, map[string]string{"TEMPORAL_API_KEY": "the-api-key"})
		cfg, err := dial(t)
		require.Equal(t, "TLS, API key", cfg.TemporalTLS())
		require.ErrorContains(t, err, "certificate is not trusted")
		require.ErrorContains(t, err, "TEMPORAL_TLS_SERVER_CA_CERT_PATH")
	})
	t.Run("without its CA, the start fails naming the CA setting", func(t *testing.T) {
		production(t, ts, map[string]string{"TEMPORAL_TLS": "true"})
		_, err := dial(t)
		require.ErrorContains(t, err, "certificate")
		require.ErrorContains(t, err, "TEMPORAL_TLS_SERVER_CA_CERT_PATH")
	})
	t.Run("in plaintext, the start fails naming TEMPORAL_TLS", func(t *testing.T) {
		production(t, ts, nil)
		cfg, err := dial(t)
		require.Equal(t, "plaintext", cfg.TemporalTLS())
		require.ErrorContains(t, err, ts.GetFrontendHostPort())
		require.ErrorContains(t, err, "TEMPORAL_TLS=true")
	})
}

func TestConnect_MTLSFrontend(t *testing.T) {
	p := newPKI(t)
	ts, _ := startFrontend(t, p, true)

	t.Run("with its CA and a client certificate, a payout runs", func(t *testing.T) {
		production(t, ts, map[string]string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": p.path("ca.pem"),
			"TEMPORAL_TLS_CLIENT_CERT_PATH": p.path("client.pem"), "TEMPORAL_TLS_CLIENT_KEY_PATH": p.path("client-key.pem")})
		payoutRuns(t)
	})
	t.Run("without a client certificate, the start fails naming the certificate settings", func(t *testing.T) {
		production(t, ts, map[string]string{"TEMPORAL_TLS": "true", "TEMPORAL_TLS_SERVER_CA_CERT_PATH": p.path("ca.pem")})
		cfg, err := dial(t)
		require.Equal(t, "TLS, private CA", cfg.TemporalTLS())
		require.ErrorContains(t, err, "TEMPORAL_TLS_CLIENT_CERT_PATH")
	})
}
