package temporalx

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/sampleapp"
)

// The worker and the starter, run as binaries, reach a cluster that asks for
// a client certificate (a dev server behind an mTLS proxy) through Temporal's
// environment configuration alone: the worker from a TOML profile, the
// starter from TEMPORAL_* variables. Without a certificate both are refused
// with an error that says what to set.
func TestWorkerAndStarterThroughMTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	dir := t.TempDir()
	pki := newPKI(t, dir)
	proxy := startMTLSProxy(t, pki, tmp.Server.FrontendHostPort())
	worker, starter := testenv.Build(t, "./worker"), testenv.Build(t, "./starter")

	const token = "mtls-test-token"
	app := sampleapp.New(sampleapp.Options{Token: token})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hr.csv"), []byte("employeeId,userName\nE1,ada@example.com\nE2,alan@example.com\n"), 0o600))
	cfg := filepath.Join(dir, "job.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`name: mtls-test
interval: 1h
source:
  file: {path: hr.csv, idColumn: employeeId}
target:
  application: sampleapp
  scim: {baseURL: "`+srv.URL+`/scim/v2", token: {env: PROVISIONING_SECRET_MTLS_TEST}}
objects:
  - sourceObject: User
    targetObject: User
    attributes:
      - {target: userName, type: Direct, source: userName, matchingPriority: 1}
      - {target: externalId, type: Direct, source: employeeId}
`), 0o600))
	profile := filepath.Join(dir, "temporal.toml")
	require.NoError(t, os.WriteFile(profile, []byte(fmt.Sprintf(`
[profile.default]
address = "127.0.0.1:1"

[profile.provisioning]
address = %q
namespace = "default"
[profile.provisioning.tls]
server_ca_cert_path = %q
client_cert_path = %q
client_key_path = %q
server_name = "temporal.test"
`, proxy.addr, pki.ca, pki.clientCert, pki.clientKey)), 0o600))

	base := cleanEnv(filepath.Join(dir, "absent.toml"), "PROVISIONING_SECRET_MTLS_TEST="+token)
	viaProfile := append(cleanEnv(profile, "PROVISIONING_SECRET_MTLS_TEST="+token), "TEMPORAL_PROFILE=provisioning")
	viaVariables := append(base, "TEMPORAL_ADDRESS="+proxy.addr, "TEMPORAL_TLS_SERVER_CA_CERT_PATH="+pki.ca, "TEMPORAL_TLS_SERVER_NAME=temporal.test",
		"TEMPORAL_TLS_CLIENT_CERT_PATH="+pki.clientCert, "TEMPORAL_TLS_CLIENT_KEY_PATH="+pki.clientKey)
	noCertificate := append(base, "TEMPORAL_ADDRESS="+proxy.addr, "TEMPORAL_TLS_SERVER_CA_CERT_PATH="+pki.ca, "TEMPORAL_TLS_SERVER_NAME=temporal.test")

	t.Run("without a client certificate both are refused", func(t *testing.T) {
		_, stderr, code := run(t, noCertificate, starter, "status", "mtls-test")
		require.NotZero(t, code)
		require.Contains(t, stderr, "connect to Temporal at "+proxy.addr)
		require.Contains(t, stderr, "TEMPORAL_TLS_CLIENT_CERT_PATH", "the error says what to set")

		_, stderr, code = run(t, noCertificate, worker, "-state", filepath.Join(dir, "refused.db"), "-log-format", "json")
		require.NotZero(t, code)
		require.Contains(t, stderr, "TEMPORAL_TLS_CLIENT_CERT_PATH")
		require.Zero(t, proxy.verified.Load(), "no connection got past the proxy")
	})

	t.Run("plaintext to the TLS endpoint is refused", func(t *testing.T) {
		_, stderr, code := run(t, append(base, "TEMPORAL_ADDRESS="+proxy.addr), starter, "status", "mtls-test")
		require.NotZero(t, code)
		require.Contains(t, stderr, "plaintext")
	})

	t.Run("with the certificate the worker runs a job the starter started", func(t *testing.T) {
		cmd := exec.Command(worker, "-state", filepath.Join(dir, "state.db"), "-log-format", "json", "-log-level", "info")
		cmd.Env = viaProfile
		logPath := filepath.Join(dir, "worker.log")
		logFile, err := os.Create(logPath)
		require.NoError(t, err)
		defer logFile.Close()
		cmd.Stderr = logFile
		require.NoError(t, cmd.Start())
		log := func() string { b, _ := os.ReadFile(logPath); return string(b) }
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })

		out, stderr, code := run(t, viaVariables, starter, "start", cfg)
		require.Zero(t, code, stderr)
		require.Contains(t, out, "mtls-test")
		var st api.Status
		deadline := time.Now().Add(time.Minute)
		for st.LastCycle == nil || st.Current != nil {
			require.True(t, time.Now().Before(deadline), "the first cycle did not finish; worker log:\n%s", log())
			time.Sleep(300 * time.Millisecond)
			out, _, code := run(t, viaVariables, starter, "status", "mtls-test", "--json")
			if code == 0 {
				st = api.Status{}
				require.NoError(t, json.Unmarshal([]byte(out), &st))
			}
		}
		require.Equal(t, 2, st.LastCycle.Counts.Of(audit.Create, audit.Success))
		require.Len(t, app.Users(), 2)
		require.Contains(t, log(), `"connection":"mTLS"`)
		require.Positive(t, proxy.verified.Load())
	})
}

// cleanEnv is this process's environment without its TEMPORAL_* variables,
// with the given configuration file and extra variables.
func cleanEnv(configFile string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEMPORAL_") {
			env = append(env, kv)
		}
	}
	return append(append(env, "TEMPORAL_CONFIG_FILE="+configFile), extra...)
}

// run runs a binary to its end, within a minute.
func run(t *testing.T, env []string, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("%s %s did not end: %s", filepath.Base(bin), strings.Join(args, " "), errOut.String())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), errOut.String(), exit.ExitCode()
	}
	require.NoError(t, err)
	return out.String(), errOut.String(), 0
}

// pki is a CA with a server certificate for temporal.test and 127.0.0.1 and
// a client certificate, as PEM files.
type pki struct {
	ca, clientCert, clientKey string
	pool                      *x509.CertPool
	server                    tls.Certificate
}

func newPKI(t *testing.T, dir string) *pki {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "provisioning test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	issue := func(serial int64, tmpl *x509.Certificate) (certPEM, keyPEM []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		require.NoError(t, err)
		keyDER, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	}
	serverCert, serverKey := issue(2, &x509.Certificate{
		Subject: pkix.Name{CommonName: "temporal.test"}, DNSNames: []string{"temporal.test"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	clientCert, clientKey := issue(3, &x509.Certificate{
		Subject: pkix.Name{CommonName: "provisioning-worker"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	p := &pki{ca: filepath.Join(dir, "ca.pem"), clientCert: filepath.Join(dir, "client.pem"), clientKey: filepath.Join(dir, "client.key"), pool: x509.NewCertPool()}
	p.pool.AddCert(caCert)
	require.NoError(t, os.WriteFile(p.ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600))
	require.NoError(t, os.WriteFile(p.clientCert, clientCert, 0o600))
	require.NoError(t, os.WriteFile(p.clientKey, clientKey, 0o600))
	p.server, err = tls.X509KeyPair(serverCert, serverKey)
	require.NoError(t, err)
	return p
}

// mtlsProxy terminates TLS, requiring a client certificate signed by the
// test CA, and forwards the connection's bytes to the dev server, as a
// cluster's mTLS front end would.
type mtlsProxy struct {
	addr     string
	verified atomic.Int64 // connections whose client certificate was accepted
}

func startMTLSProxy(t *testing.T, p *pki, upstream string) *mtlsProxy {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{p.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.pool,
		NextProtos:   []string{"h2"}, // gRPC insists on ALPN
		MinVersion:   tls.VersionTLS12,
	})
	require.NoError(t, err)
	px := &mtlsProxy{addr: l.Addr().String()}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go px.forward(conn.(*tls.Conn), upstream)
		}
	}()
	return px
}

func (px *mtlsProxy) forward(conn *tls.Conn, upstream string) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := conn.Handshake(); err != nil {
		return
	}
	_ = conn.SetDeadline(time.Time{})
	px.verified.Add(1)
	up, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, conn); done <- struct{}{} }()
	go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
	<-done
}
