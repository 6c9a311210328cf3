// Package cacerts builds the certificate pools of connections that trust a
// private certificate authority beside the system's (a TLS-inspecting
// proxy, a company CA).
package cacerts

import (
	"crypto/x509"
	"fmt"
	"os"
)

// Pool returns the system's certificates with those of the PEM file at
// path, or nil — the system's alone — when path is empty.
func Pool(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}
