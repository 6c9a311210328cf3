package cacerts

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/internal/testenv/testcert"
)

func TestPool(t *testing.T) {
	pool, err := Pool("")
	require.NoError(t, err)
	require.Nil(t, pool, "no file: the system's certificates")

	dir := t.TempDir()
	_, err = Pool(filepath.Join(dir, "missing.pem"))
	require.ErrorIs(t, err, os.ErrNotExist)

	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	_, err = Pool(notPEM)
	require.ErrorContains(t, err, "holds no PEM certificate")

	// A pool with the CA trusts what the CA signed.
	require.NoError(t, testcert.Write(dir))
	pool, err = Pool(filepath.Join(dir, "ca.pem"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "server.pem"))
	require.NoError(t, err)
	block, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"})
	require.NoError(t, err)
}
