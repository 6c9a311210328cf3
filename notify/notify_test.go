package notify_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/internal/testenv/smtpsink"
	"github.com/openprovisioning/provisioner/internal/testenv/webhooksink"
	"github.com/openprovisioning/provisioner/notify"
	"github.com/openprovisioning/provisioner/secrets"
)

const secretEnv = "PROVISIONING_TEST_NOTIFY_SECRET"

func notice() notify.Notice {
	return notify.Notice{
		ID: "provisioning-job/hr/run-1/7", Event: notify.DeletionsHeld, Job: "hr", Application: "sampleapp", State: "Paused",
		Reason: "TooManyDeletes: cycle 3 holds 120 deletes", HeldDeletions: 120, Time: time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC), Workflow: "provisioning-job/hr",
	}
}

func TestWebhookNoticesAreSignedOverHTTPS(t *testing.T) {
	t.Setenv(secretEnv, "shared-secret")
	r := webhooksink.Start(t, "shared-secret")
	n, err := notify.New(notify.Config{Webhook: r.URL + "/hooks/provisioning?token=abc", WebhookSecret: secrets.Ref{Env: secretEnv}, CAFile: r.CAFile})
	require.NoError(t, err)
	require.Equal(t, []string{"webhook " + r.URL}, n.Targets(), "the path and query may hold a token: they are not shown")

	var sent []notify.Sent
	require.NoError(t, n.Send(context.Background(), notice(), notify.Sent{}, func(s notify.Sent) { sent = append(sent, s) }))
	require.Equal(t, []notify.Sent{{Webhook: true}}, sent)
	notices, headers, errs := r.Notices()
	require.Empty(t, errs)
	require.Equal(t, []notify.Notice{notice()}, notices)
	require.Equal(t, "provisioning-job/hr/run-1/7", headers[0].Get(notify.HeaderIdempotency))
	require.Equal(t, "provisioning-job/hr/run-1/7", headers[0].Get(notify.HeaderID))
	require.Equal(t, "application/json", headers[0].Get("Content-Type"))

	t.Run("a receiver with another secret refuses it", func(t *testing.T) {
		other := webhooksink.Start(t, "whsec_"+"b3RoZXItc2VjcmV0")
		n, err := notify.New(notify.Config{Webhook: other.URL, WebhookSecret: secrets.Ref{Env: secretEnv}, CAFile: other.CAFile})
		require.NoError(t, err)
		err = n.Send(context.Background(), notice(), notify.Sent{}, func(notify.Sent) { t.Fatal("not sent") })
		require.ErrorContains(t, err, "401 Unauthorized")
		require.ErrorContains(t, err, "no webhook signature matches")
		require.NotContains(t, err.Error(), "token=abc")
	})

	t.Run("a server whose certificate is not trusted is refused", func(t *testing.T) {
		n, err := notify.New(notify.Config{Webhook: r.URL, WebhookSecret: secrets.Ref{Env: secretEnv}})
		require.NoError(t, err)
		err = n.Send(context.Background(), notice(), notify.Sent{}, func(notify.Sent) { t.Fatal("not sent") })
		require.ErrorContains(t, err, "certificate")
	})

	t.Run("a target that took the notice is skipped", func(t *testing.T) {
		before, _, _ := r.Notices()
		require.NoError(t, n.Send(context.Background(), notice(), notify.Sent{Webhook: true}, func(notify.Sent) { t.Fatal("nothing to send") }))
		after, _, _ := r.Notices()
		require.Len(t, after, len(before))
	})
}

func TestVerify(t *testing.T) {
	key := notify.SecretKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	require.Len(t, key, 24, "a Standard Webhooks secret is used decoded")
	body := []byte(`{"id":"x"}`)
	now := time.Unix(1_800_000_000, 0)
	h := http.Header{}
	h.Set(notify.HeaderID, "x")
	h.Set(notify.HeaderTimestamp, "1800000000")
	h.Set(notify.HeaderSignature, "v1,old "+notify.Sign(key, "x", now, body))
	require.NoError(t, notify.Verify(key, h, body, now.Add(time.Minute), 5*time.Minute))
	require.ErrorContains(t, notify.Verify(key, h, body, now.Add(time.Hour), 5*time.Minute), "more than 5m0s from now")
	require.ErrorContains(t, notify.Verify(key, h, []byte(`{"id":"y"}`), now, 5*time.Minute), "no webhook signature matches")
	require.ErrorContains(t, notify.Verify([]byte("other"), h, body, now, 5*time.Minute), "no webhook signature matches")
}

func TestMailNoticesGoThroughSMTPWithSTARTTLS(t *testing.T) {
	sink := smtpsink.Start(t, "alerts", "mail-password")
	t.Setenv("PROVISIONING_TEST_SMTP_PASSWORD", "mail-password")
	cfg := notify.Config{
		SMTP: "smtp://alerts@" + sink.Addr, SMTPPassword: secrets.Ref{Env: "PROVISIONING_TEST_SMTP_PASSWORD"},
		From: "Provisioning <provisioning@example.com>", To: []string{"iam-team@example.com", "oncall@example.com"}, CAFile: sink.CAFile,
	}
	n, err := notify.New(cfg)
	require.NoError(t, err)
	require.NoError(t, n.Send(context.Background(), notice(), notify.Sent{}, func(notify.Sent) {}))
	msgs := sink.Messages()
	require.Len(t, msgs, 1)
	m := msgs[0]
	require.True(t, m.TLS, "sent after STARTTLS")
	require.Equal(t, "alerts", m.User)
	require.Equal(t, "provisioning@example.com", m.From)
	require.Equal(t, []string{"iam-team@example.com", "oncall@example.com"}, m.To)
	require.Contains(t, m.Data, "Subject: Provisioning job hr holds 120 deletions for approval\r\n")
	require.Contains(t, m.Data, "Message-ID: <provisioning-job.hr.run-1.7@openprovisioning>\r\n")
	require.Contains(t, m.Data, "starter restart hr --scope ForceDeletes")
	require.Contains(t, m.Data, "TooManyDeletes: cycle 3 holds 120 deletes")

	t.Run("a server whose certificate is not trusted gets nothing", func(t *testing.T) {
		cfg := cfg
		cfg.CAFile = ""
		n, err := notify.New(cfg)
		require.NoError(t, err)
		require.ErrorContains(t, n.Send(context.Background(), notice(), notify.Sent{}, func(notify.Sent) {}), "certificate")
		require.Len(t, sink.Messages(), 1)
	})
}

// A retried send delivers to the targets that failed, and only to them.
func TestRetriedSendSkipsTargetsThatTookIt(t *testing.T) {
	t.Setenv(secretEnv, "shared-secret")
	r := webhooksink.Start(t, "shared-secret")
	sink := smtpsink.Start(t, "", "")
	// One file holds the certificates of both.
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, append(read(t, r.CAFile), read(t, sink.CAFile)...), 0o600))
	n, err := notify.New(notify.Config{
		Webhook: r.URL, WebhookSecret: secrets.Ref{Env: secretEnv}, CAFile: ca,
		SMTP: "smtp://" + sink.Addr, From: "provisioning@example.com", To: []string{"iam-team@example.com"},
	})
	require.NoError(t, err)
	require.Len(t, n.Targets(), 2)

	sink.FailData(1)
	var sent notify.Sent
	err = n.Send(context.Background(), notice(), sent, func(s notify.Sent) { sent = s })
	require.ErrorContains(t, err, "451")
	require.Equal(t, notify.Sent{Webhook: true}, sent)

	require.NoError(t, n.Send(context.Background(), notice(), sent, func(s notify.Sent) { sent = s }))
	require.Equal(t, notify.Sent{Webhook: true, Mail: true}, sent)
	notices, _, _ := r.Notices()
	require.Len(t, notices, 1, "the webhook took the notice once")
	require.Len(t, sink.Messages(), 1)
}

func TestConfigurationRefused(t *testing.T) {
	t.Setenv(secretEnv, "shared-secret")
	for _, c := range []struct {
		cfg  notify.Config
		want string
	}{
		{notify.Config{Webhook: "http://hooks.example.com/x", WebhookSecret: secrets.Ref{Env: secretEnv}}, "is not https://"},
		{notify.Config{Webhook: "https://hooks.example.com/x"}, "needs a secret"},
		{notify.Config{Webhook: "https://hooks.example.com/x", WebhookSecret: secrets.Ref{Env: "PROVISIONING_TEST_UNSET"}}, "environment variable PROVISIONING_TEST_UNSET is not set"},
		{notify.Config{WebhookSecret: secrets.Ref{Env: secretEnv}}, "needs a webhook URL"},
		{notify.Config{SMTP: "smtp://alerts:pw@mail.example.com", From: "a@example.com", To: []string{"b@example.com"}}, "not in the URL"},
		{notify.Config{SMTP: "smtp://alerts@mail.example.com", From: "a@example.com", To: []string{"b@example.com"}}, "needs a password"},
		{notify.Config{SMTP: "mail.example.com:25", From: "a@example.com", To: []string{"b@example.com"}}, "is not smtp://"},
		{notify.Config{SMTP: "smtp://mail.example.com", From: "a@example.com"}, "needs recipients"},
		{notify.Config{SMTP: "smtp://mail.example.com", To: []string{"b@example.com"}}, "-notify-from"},
		{notify.Config{To: []string{"b@example.com"}}, "need an SMTP server"},
	} {
		_, err := notify.New(c.cfg)
		require.ErrorContains(t, err, c.want, "%+v", c.cfg)
	}
	n, err := notify.New(notify.Config{})
	require.NoError(t, err)
	require.Nil(t, n, "nothing configured, nothing sent")
}

func read(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
