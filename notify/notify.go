// Package notify tells a job's operators when it needs them, as Azure
// e-mails them: when the job enters quarantine, holds deletions for
// approval, is disabled after a long quarantine, or recovers. A notice
// goes to a webhook (JSON over HTTPS, signed with a shared secret) and,
// where configured, by e-mail over SMTP. Targets and secrets are set on
// the worker by its operator, never by a job configuration.
package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/openprovisioning/provisioner/internal/cacerts"
	"github.com/openprovisioning/provisioner/secrets"
)

// Event is what happened to a job.
type Event string

// Events.
const (
	// Quarantined: the job's cycles failed in a way retrying will not fix
	// soon; it tries again every day until released or disabled.
	Quarantined Event = "Quarantined"
	// DeletionsHeld: a cycle would delete or disable more than the
	// accidental-deletion threshold allows, and waits for approval.
	DeletionsHeld Event = "DeletionsHeld"
	// Disabled: the job stayed in quarantine too long and stopped trying.
	Disabled Event = "Disabled"
	// Recovered: the job left quarantine, held deletions or the disabled
	// state, and runs again.
	Recovered Event = "Recovered"
)

// Notice says that a job's state changed. It is the webhook's JSON body.
type Notice struct {
	// ID identifies the state change: a receiver that has seen it drops
	// the notice. The activity that sends it sets it.
	ID          string `json:"id"`
	Event       Event  `json:"event"`
	Job         string `json:"job"`
	Application string `json:"application,omitempty"`
	// State is the job's state after the change.
	State string `json:"state"`
	// From is what a Recovered job recovered from.
	From Event `json:"from,omitempty"`
	// Reason says why: the quarantine's reason, what the held cycle would
	// do, or why the job was disabled.
	Reason        string    `json:"reason,omitempty"`
	HeldDeletions int       `json:"heldDeletions,omitempty"`
	Time          time.Time `json:"time"`
	// Workflow is the job's workflow ID, to find it in the Web UI.
	Workflow string `json:"workflowId,omitempty"`
}

// Config names the targets, as the worker's flags set them.
type Config struct {
	// Webhook is an https:// URL that takes notices by POST.
	Webhook string
	// WebhookSecret signs the notices; a secret of the Standard Webhooks
	// form whsec_BASE64 is used decoded.
	WebhookSecret secrets.Ref
	// SMTP is smtp://[user@]host[:port] (STARTTLS, port 587 by default) or
	// smtps://[user@]host[:port] (TLS, port 465).
	SMTP string
	// SMTPPassword is the SMTP user's password.
	SMTPPassword secrets.Ref
	// From and To are the e-mail's sender and recipients.
	From string
	To   []string
	// CAFile holds certificates (PEM) trusted beside the system's, for
	// the webhook's and the mail server's certificates.
	CAFile string
	// Timeout bounds one delivery; zero means 30 seconds.
	Timeout time.Duration
}

// Notifier sends notices to the configured targets.
type Notifier struct {
	webhook *webhook
	mail    *mailer
}

// Sent says which targets took a notice.
type Sent struct {
	Webhook bool `json:"webhook,omitempty"`
	Mail    bool `json:"mail,omitempty"`
}

// New checks the configuration and returns its notifier; nil, with no
// error, when no target is configured.
func New(c Config) (*Notifier, error) {
	if c.Webhook == "" && !c.WebhookSecret.IsZero() {
		return nil, errors.New("notify: a webhook secret needs a webhook URL (-notify-webhook)")
	}
	if c.SMTP == "" && (!c.SMTPPassword.IsZero() || c.From != "" || len(c.To) > 0) {
		return nil, errors.New("notify: e-mail settings need an SMTP server (-notify-smtp)")
	}
	if c.Webhook == "" && c.SMTP == "" {
		return nil, nil
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	roots, err := cacerts.Pool(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("notify: CA file: %w", err)
	}
	n := &Notifier{}
	if c.Webhook != "" {
		if n.webhook, err = newWebhook(c, roots); err != nil {
			return nil, err
		}
	}
	if c.SMTP != "" {
		if n.mail, err = newMailer(c, roots); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Targets names the targets for the worker's log, without secrets; none
// for a nil notifier.
func (n *Notifier) Targets() []string {
	var out []string
	if n == nil {
		return out
	}
	if n.webhook != nil {
		out = append(out, "webhook "+n.webhook.String())
	}
	if n.mail != nil {
		out = append(out, "mail "+n.mail.String())
	}
	return out
}

// Send delivers the notice to each target that has not taken it yet;
// done hears of each target that took it, so that a retried send skips
// it. It returns the errors of the targets that failed.
func (n *Notifier) Send(ctx context.Context, notice Notice, sent Sent, done func(Sent)) error {
	var errs []error
	if n.webhook != nil && !sent.Webhook {
		if err := n.webhook.send(ctx, notice); err != nil {
			errs = append(errs, err)
		} else {
			sent.Webhook = true
			done(sent)
		}
	}
	if n.mail != nil && !sent.Mail {
		if err := n.mail.send(ctx, notice); err != nil {
			errs = append(errs, err)
		} else {
			sent.Mail = true
			done(sent)
		}
	}
	return errors.Join(errs...)
}

func tlsConfig(roots *x509.CertPool, serverName string) *tls.Config {
	return &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12}
}

// redacted shows a URL by scheme and host only: a webhook's path, query
// or user info may hold a token.
func redacted(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

// headerSafe drops line breaks and other control characters, so that a
// value set in a mail header cannot start another.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
