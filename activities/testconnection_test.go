package activities

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/api"
)

// The failures of real TLS handshakes are told apart, from the network's
// error and from its text alone (connectors that keep only the text).
func TestClassifyTLSFailures(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		name      string
		dnsName   string
		notBefore time.Time
		notAfter  time.Time
		want      api.ConnectionFailure
	}{
		{"expired", "localhost", now.Add(-48 * time.Hour), now.Add(-24 * time.Hour), api.FailureTLSExpired},
		{"another host's", "scim.example.com", now.Add(-time.Hour), now.Add(time.Hour), api.FailureTLSNameMismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			cert, pool := selfSigned(t, c.dnsName, c.notBefore, c.notAfter)
			srv := httptest.NewUnstartedServer(http.NotFoundHandler())
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
			srv.StartTLS()
			t.Cleanup(srv.Close)
			_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
			require.NoError(t, err)
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			resp, err := client.Get("https://localhost:" + port + "/")
			if resp != nil {
				resp.Body.Close()
			}
			require.Error(t, err)
			require.Equal(t, c.want, classifyConnectionFailure(err), "%v", err)
			require.Equal(t, c.want, classifyConnectionFailure(errors.New(err.Error())), "from the text of %v", err)
		})
	}
}

// selfSigned makes a certificate for dnsName valid between the times
// given, and a pool that trusts it.
func selfSigned(t *testing.T, dnsName string, notBefore, notAfter time.Time) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: dnsName}, DNSNames: []string{dnsName},
		NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	parsed, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}
