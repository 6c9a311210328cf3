package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/openprovisioning/provisioner/secrets"
)

type mailer struct {
	host, addr string
	implicit   bool // TLS from the start (smtps), else STARTTLS
	user       string
	password   secrets.Ref
	from       string
	to         []string
	tls        *tls.Config
	timeout    time.Duration
}

func newMailer(c Config, roots *x509.CertPool) (*mailer, error) {
	u, err := url.Parse(c.SMTP)
	if err != nil || u.Hostname() == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return nil, errors.New("notify: the SMTP server (-notify-smtp) is not smtp://[user@]host[:port] or smtps://[user@]host[:port]")
	}
	if _, has := u.User.Password(); has {
		return nil, errors.New("notify: put the SMTP password in -notify-smtp-password-file or -notify-smtp-password-env, not in the URL")
	}
	m := &mailer{host: u.Hostname(), implicit: u.Scheme == "smtps", user: u.User.Username(), password: c.SMTPPassword, timeout: c.Timeout}
	port := u.Port()
	if port == "" {
		port = map[bool]string{false: "587", true: "465"}[m.implicit]
	}
	m.addr = net.JoinHostPort(m.host, port)
	if m.user != "" && m.password.IsZero() {
		return nil, fmt.Errorf("notify: the SMTP user %s needs a password (-notify-smtp-password-file or -notify-smtp-password-env)", m.user)
	}
	if m.user == "" && !m.password.IsZero() {
		return nil, errors.New("notify: an SMTP password needs a user: smtp://user@host")
	}
	if !m.password.IsZero() {
		if _, err := m.password.Resolve(); err != nil {
			return nil, fmt.Errorf("notify: the SMTP password: %w", err)
		}
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("notify: the sender -notify-from %q: %w", c.From, err)
	}
	m.from = from.Address
	if len(c.To) == 0 {
		return nil, errors.New("notify: e-mail needs recipients (-notify-to)")
	}
	for _, to := range c.To {
		a, err := mail.ParseAddress(to)
		if err != nil {
			return nil, fmt.Errorf("notify: the recipient %q: %w", to, err)
		}
		m.to = append(m.to, a.Address)
	}
	m.tls = tlsConfig(roots, m.host)
	return m, nil
}

func (m *mailer) String() string {
	return fmt.Sprintf("%s to %s", m.addr, strings.Join(m.to, ", "))
}

// send mails the notice. The connection is encrypted (TLS or STARTTLS),
// except to a mail server on this host.
func (m *mailer) send(ctx context.Context, n Notice) error {
	if err := m.deliver(ctx, m.message(n)); err != nil {
		return fmt.Errorf("mail through %s: %w", m.addr, err)
	}
	return nil
}

func (m *mailer) deliver(ctx context.Context, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", m.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	if m.implicit {
		conn = tls.Client(conn, m.tls)
	}
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return err
	}
	defer c.Close()
	if !m.implicit {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(m.tls); err != nil {
				return err
			}
		} else if !loopback(m.host) {
			return errors.New("the server offers no STARTTLS: notices are not sent in clear (use smtps:// for TLS from the start)")
		}
	}
	if m.user != "" {
		password, err := m.password.Resolve()
		if err != nil {
			return fmt.Errorf("the SMTP password: %w", err)
		}
		if err := c.Auth(smtp.PlainAuth("", m.user, password, m.host)); err != nil {
			return err
		}
	}
	if err := c.Mail(m.from); err != nil {
		return err
	}
	for _, to := range m.to {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("recipient %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

// message is the notice as an e-mail: plain text, quoted-printable, with
// the notice's ID as its Message-ID so that a copy sent twice is one.
func (m *mailer) message(n Notice) []byte {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", m.from)
	header("To", strings.Join(m.to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", headerSafe(Subject(n))))
	header("Date", n.Time.Format(time.RFC1123Z))
	header("Message-ID", "<"+strings.NewReplacer("/", ".", " ", "", "<", "", ">", "", "@", ".").Replace(headerSafe(n.ID))+"@openprovisioning>")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(Text(n), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}

// Subject is a notice's one-line summary.
func Subject(n Notice) string {
	switch n.Event {
	case Quarantined:
		return fmt.Sprintf("Provisioning job %s is in quarantine", n.Job)
	case DeletionsHeld:
		return fmt.Sprintf("Provisioning job %s holds %d deletions for approval", n.Job, n.HeldDeletions)
	case Disabled:
		return fmt.Sprintf("Provisioning job %s is disabled after a long quarantine", n.Job)
	case Recovered:
		return fmt.Sprintf("Provisioning job %s runs again", n.Job)
	}
	return fmt.Sprintf("Provisioning job %s: %s", n.Job, n.Event)
}

// Text is a notice as the e-mail's body tells it.
func Text(n Notice) string {
	var b strings.Builder
	b.WriteString(Subject(n) + ".\n\n")
	if n.Reason != "" {
		fmt.Fprintf(&b, "Reason: %s\n\n", n.Reason)
	}
	switch n.Event {
	case Quarantined:
		b.WriteString("The job tries again every 24 hours and is disabled if it stays in quarantine. Fix the cause, then release it: starter release " + n.Job + "\n")
	case DeletionsHeld:
		b.WriteString("Nothing was pushed. The held operations are the cycle's StagedDelete entries: starter logs " + n.Job + "\n" +
			"Apply them with: starter restart " + n.Job + " --scope ForceDeletes\nor fix the source or the scoping and restart the job.\n")
	case Disabled:
		b.WriteString("No cycle runs until the job is released: starter release " + n.Job + "\n")
	case Recovered:
		if n.From != "" {
			fmt.Fprintf(&b, "It recovered from: %s\n", n.From)
		}
	}
	fmt.Fprintf(&b, "\nJob: %s\n", n.Job)
	if n.Application != "" {
		fmt.Fprintf(&b, "Application: %s\n", n.Application)
	}
	fmt.Fprintf(&b, "State: %s\nTime: %s\n", n.State, n.Time.UTC().Format(time.RFC3339))
	if n.Workflow != "" {
		fmt.Fprintf(&b, "Workflow: %s\n", n.Workflow)
	}
	fmt.Fprintf(&b, "Notice: %s\n", n.ID)
	return b.String()
}
