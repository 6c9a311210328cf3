package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
)

// client dials and binds connections to one directory and keeps one shared
// connection for short requests (lookups, writes). Paged reads get their own
// connections because a paging cookie belongs to the connection it came from.
type client struct {
	cfg      Connection
	password string // resolved secret: never logged, never put in an error
	tls      *tls.Config
	log      *logrus.Entry

	mu     sync.Mutex
	shared *goldap.Conn
}

func newClient(cfg Connection, log *logrus.Entry) (*client, error) {
	cfg = cfg.withDefaults()
	c := &client{cfg: cfg, log: log.WithField("url", cfg.URL)}
	if cfg.BindDN != "" {
		pw, err := cfg.BindPassword.Resolve()
		if err != nil {
			return nil, &connectors.Error{Kind: connectors.KindUnauthorized, Op: "LDAP bind",
				Detail: "bind password (" + cfg.BindPassword.String() + "): " + err.Error()}
		}
		c.password = pw
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, &connectors.Error{Kind: connectors.KindInvalidRequest, Op: "LDAP connect", Detail: err.Error()}
	}
	c.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify}
	if cfg.CACertFile != "" {
		pem, err := os.ReadFile(cfg.CACertFile)
		if err != nil {
			return nil, &connectors.Error{Kind: connectors.KindInvalidRequest, Op: "LDAP connect", Detail: "caCertFile: " + err.Error()}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &connectors.Error{Kind: connectors.KindInvalidRequest, Op: "LDAP connect",
				Detail: "caCertFile: no PEM certificate in " + cfg.CACertFile}
		}
		c.tls.RootCAs = pool
	}
	if cfg.InsecureSkipVerify {
		c.log.Warn("LDAP certificate verification is off")
	}
	if cfg.BindDN != "" && u.Scheme == "ldap" && !cfg.StartTLS {
		c.log.Warn("LDAP bind password is sent unencrypted; use ldaps:// or startTLS")
	}
	return c, nil
}

// dial opens a new connection, upgraded and bound as configured.
func (c *client) dial(ctx context.Context) (*goldap.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := goldap.DialURL(c.cfg.URL,
		goldap.DialWithDialer(&net.Dialer{Timeout: time.Duration(c.cfg.Timeout)}), goldap.DialWithTLSConfig(c.tls))
	if err != nil {
		return nil, classify("LDAP connect", err)
	}
	conn.SetTimeout(time.Duration(c.cfg.Timeout))
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if c.cfg.StartTLS {
		if err := conn.StartTLS(c.tls); err != nil {
			conn.Close()
			return nil, ctxOr(ctx, classify("LDAP StartTLS", err))
		}
	}
	if c.cfg.BindDN != "" {
		if err := conn.Bind(c.cfg.BindDN, c.password); err != nil {
			conn.Close()
			return nil, ctxOr(ctx, classify("LDAP bind", err))
		}
	}
	c.log.WithField("bindDN", c.cfg.BindDN).Debug("LDAP connected")
	return conn, nil
}

// do runs op on the shared connection, dialling it when needed. Cancelling
// ctx closes the connection, the only way to abort a go-ldap request; a
// connection that failed is dropped so the next call dials afresh.
func (c *client) do(ctx context.Context, opName string, op func(*goldap.Conn) error) error {
	conn, err := c.sharedConn(ctx)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { c.drop(conn) })
	err = op(conn)
	stop()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	ce := classify(opName, err)
	if ce.Kind == connectors.KindUnavailable || ce.Kind == connectors.KindTimeout {
		c.drop(conn)
	}
	return ce
}

// sharedConn returns the shared connection, dialling a new one when there
// is none or the directory closed it (a restart, an idle time-out).
func (c *client) sharedConn(ctx context.Context) (*goldap.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shared != nil && !c.shared.IsClosing() {
		return c.shared, nil
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.shared = conn
	return conn, nil
}

func (c *client) drop(conn *goldap.Conn) {
	conn.Close()
	c.mu.Lock()
	if c.shared == conn {
		c.shared = nil
	}
	c.mu.Unlock()
}

func (c *client) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shared != nil {
		c.shared.Close()
		c.shared = nil
	}
}

// ctxOr prefers the context's error: a request aborted by cancellation is
// not a directory failure.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func invalid(op, format string, args ...any) *connectors.Error {
	return &connectors.Error{Kind: connectors.KindInvalidRequest, Op: op, Detail: fmt.Sprintf(format, args...)}
}
