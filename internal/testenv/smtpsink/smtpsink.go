// Package smtpsink is a mail server for tests: it speaks enough SMTP for a
// client to deliver (EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA) and
// keeps the messages, with how they arrived.
package smtpsink

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one message the sink took.
type Message struct {
	From string
	To   []string
	Data string
	// TLS says whether the session was encrypted; User is who logged in.
	TLS  bool
	User string
}

// Sink is a running mail server on the loopback interface.
type Sink struct {
	// Addr is its host:port.
	Addr string
	// CAFile holds the certificate it presents for STARTTLS (PEM).
	CAFile string

	user, password string
	tls            *tls.Config
	l              net.Listener

	mu       sync.Mutex
	messages []Message
	// failData answers that many DATA commands with a temporary failure.
	failData int
}

// Start runs a sink that offers STARTTLS and requires AUTH PLAIN with
// user and password (none when user is empty), until the test ends.
func Start(t testing.TB, user, password string) *Sink {
	t.Helper()
	cert, certPEM := selfSigned(t)
	s := &Sink{user: user, password: password, tls: &tls.Config{Certificates: []tls.Certificate{cert}}}
	s.CAFile = filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(s.CAFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.l, s.Addr = l, l.Addr().String()
	go s.serve()
	t.Cleanup(func() { _ = l.Close() })
	return s
}

// FailData has the next n DATA commands fail with 451.
func (s *Sink) FailData(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failData = n
}

// Messages returns the messages taken so far.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

func (s *Sink) serve() {
	for {
		conn, err := s.l.Accept()
		if err != nil {
			return
		}
		go s.session(conn)
	}
}

// session serves one connection.
func (s *Sink) session(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	r := bufio.NewReader(conn)
	reply := func(lines ...string) {
		for _, l := range lines {
			_, _ = conn.Write([]byte(l + "\r\n"))
		}
	}
	reply("220 smtpsink ESMTP")
	var (
		m         Message
		encrypted bool
		authed    = s.user == ""
	)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.Fields(line + " ")[0])
		switch {
		case verb == "EHLO" || verb == "HELO":
			ext := []string{"250-smtpsink", "250-8BITMIME"}
			if !encrypted {
				ext = append(ext, "250-STARTTLS")
			}
			reply(append(ext, "250 AUTH PLAIN")...)
		case verb == "STARTTLS" && !encrypted:
			reply("220 go ahead")
			tc := tls.Server(conn, s.tls)
			if tc.Handshake() != nil {
				return
			}
			conn, r, encrypted = tc, bufio.NewReader(tc), true
		case verb == "AUTH":
			f := strings.Fields(line)
			b, _ := base64.StdEncoding.DecodeString(f[len(f)-1])
			parts := strings.Split(string(b), "\x00")
			if len(f) == 3 && strings.EqualFold(f[1], "PLAIN") && len(parts) == 3 && parts[1] == s.user && parts[2] == s.password {
				authed, m.User = true, parts[1]
				reply("235 accepted")
			} else {
				reply("535 refused")
			}
		case verb == "MAIL" && !authed:
			reply("530 authenticate first")
		case verb == "MAIL":
			m.From, m.To = address(line), nil
			reply("250 ok")
		case verb == "RCPT":
			m.To = append(m.To, address(line))
			reply("250 ok")
		case verb == "DATA":
			reply("354 end with .")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			m.Data, m.TLS = data.String(), encrypted
			if s.take(m) {
				reply("250 queued")
			} else {
				reply("451 try again later")
			}
		case verb == "QUIT":
			reply("221 bye")
			return
		default:
			reply("250 ok")
		}
	}
}

// take keeps a message, unless DATA is to fail.
func (s *Sink) take(m Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failData > 0 {
		s.failData--
		return false
	}
	s.messages = append(s.messages, m)
	return true
}

// address reads the address of MAIL FROM:<a> or RCPT TO:<a>.
func address(line string) string {
	i, j := strings.Index(line, "<"), strings.Index(line, ">")
	if i < 0 || j < i {
		return ""
	}
	return line[i+1 : j]
}

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned(t testing.TB) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtpsink"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
