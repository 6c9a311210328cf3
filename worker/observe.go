package main

import (
	"context"
	"flag"
	"os"

	"github.com/sirupsen/logrus"
	"go.temporal.io/sdk/worker"

	"github.com/openprovisioning/provisioner/metrics"
	"github.com/openprovisioning/provisioner/notify"
	"github.com/openprovisioning/provisioner/secrets"
)

// observeFlags say where the worker's metrics and its jobs' notices go.
// Only the worker's operator sets them: no job configuration names a
// notice's target or reads its secrets.
type observeFlags struct {
	metricsListen string

	webhook, webhookSecretFile, webhookSecretEnv string
	smtp, smtpPasswordFile, smtpPasswordEnv      string
	from, caFile                                 string
	to                                           list
}

func (f *observeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.metricsListen, "metrics-listen", os.Getenv("PROVISIONING_METRICS_LISTEN"), "serve Prometheus metrics (/metrics) and the worker's health (/healthz) on this host:port, e.g. :9464 (env PROVISIONING_METRICS_LISTEN)")
	fs.StringVar(&f.webhook, "notify-webhook", os.Getenv("PROVISIONING_NOTIFY_WEBHOOK"), "POST a signed JSON notice to this https:// URL when a job is quarantined, holds deletions, is disabled or recovers (env PROVISIONING_NOTIFY_WEBHOOK)")
	fs.StringVar(&f.webhookSecretFile, "notify-webhook-secret-file", "", "file holding the secret that signs the webhook's notices (HMAC-SHA256, Standard Webhooks headers)")
	fs.StringVar(&f.webhookSecretEnv, "notify-webhook-secret-env", "", "environment variable holding the webhook's secret")
	fs.StringVar(&f.smtp, "notify-smtp", os.Getenv("PROVISIONING_NOTIFY_SMTP"), "also e-mail the notices through this server: smtp://[user@]host[:587] (STARTTLS) or smtps://[user@]host[:465] (env PROVISIONING_NOTIFY_SMTP)")
	fs.StringVar(&f.smtpPasswordFile, "notify-smtp-password-file", "", "file holding the SMTP user's password")
	fs.StringVar(&f.smtpPasswordEnv, "notify-smtp-password-env", "", "environment variable holding the SMTP user's password")
	fs.StringVar(&f.from, "notify-from", os.Getenv("PROVISIONING_NOTIFY_FROM"), "sender of the notices' e-mails (env PROVISIONING_NOTIFY_FROM)")
	f.to.set(os.Getenv("PROVISIONING_NOTIFY_TO"))
	fs.Var(&f.to, "notify-to", "recipients of the notices' e-mails, comma-separated or repeated (env PROVISIONING_NOTIFY_TO)")
	fs.StringVar(&f.caFile, "notify-ca", "", "certificates (PEM) to trust beside the system's for the webhook and the SMTP server")
}

// notifier returns the notifier the flags configure; nil sends no notice.
func (f *observeFlags) notifier() (*notify.Notifier, error) {
	return notify.New(notify.Config{
		Webhook: f.webhook, WebhookSecret: secrets.Ref{File: f.webhookSecretFile, Env: f.webhookSecretEnv},
		SMTP: f.smtp, SMTPPassword: secrets.Ref{File: f.smtpPasswordFile, Env: f.smtpPasswordEnv},
		From: f.from, To: f.to.values, CAFile: f.caFile,
	})
}

// exporter returns the metrics exporter when -metrics-listen asks for
// one; nil, no metrics, when not.
func (f *observeFlags) exporter(log *logrus.Logger) (*metrics.Exporter, error) {
	if f.metricsListen == "" {
		return nil, nil
	}
	return metrics.NewExporter(func(err error) { log.WithError(err).Warn("metric not recorded") })
}

// serve serves the metrics and the health endpoint, when asked for.
func (f *observeFlags) serve(e *metrics.Exporter, h *metrics.Health, log *logrus.Logger) error {
	if e == nil {
		return nil
	}
	addr, err := metrics.Serve(context.Background(), f.metricsListen, e, h, func(err error) { log.WithError(err).Error("metrics server stopped") })
	if err != nil {
		return err
	}
	log.WithField("address", addr.String()).Info("metrics and health listening (/metrics, /healthz)")
	return nil
}

// runWorker runs w until the process is interrupted or the worker fails,
// telling h whether it polls.
func runWorker(w worker.Worker, h *metrics.Health, fatal <-chan error) error {
	if err := w.Start(); err != nil {
		h.Stopped(err)
		return err
	}
	h.Polling()
	defer w.Stop()
	select {
	case <-worker.InterruptCh():
		h.Stopped(nil)
		return nil
	case err := <-fatal:
		h.Stopped(err)
		return err
	}
}
