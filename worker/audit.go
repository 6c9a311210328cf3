package main

import (
	"errors"
	"flag"
	"os"

	"github.com/openprovisioning/provisioner/audit/sink"
	"github.com/openprovisioning/provisioner/secrets"
)

// auditFlags name where the worker copies the provisioning log, so that it
// outlives the namespace's retention. Only the worker's operator sets
// them: no job configuration makes the worker write or send anything.
type auditFlags struct {
	dir, url, tokenEnv, tokenFile string
	batch                         int
}

func (f *auditFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dir, "audit-dir", os.Getenv("PROVISIONING_AUDIT_DIR"), "copy every cycle's provisioning log, once it ended, to JSON Lines files in this folder: JOB/YYYY-MM-DD/*.jsonl (env PROVISIONING_AUDIT_DIR)")
	fs.StringVar(&f.url, "audit-http-url", os.Getenv("PROVISIONING_AUDIT_HTTP_URL"), "also POST it to this log collector endpoint, as newline-delimited JSON batches with an Idempotency-Key header (env PROVISIONING_AUDIT_HTTP_URL)")
	fs.StringVar(&f.tokenEnv, "audit-http-token-env", "", "environment variable holding the endpoint's bearer token")
	fs.StringVar(&f.tokenFile, "audit-http-token-file", "", "file holding the endpoint's bearer token, read for every batch")
	fs.IntVar(&f.batch, "audit-http-batch", 500, "entries per POST to the endpoint, at most")
}

// sinks opens the sinks the flags name; none keeps the log in history only.
func (f *auditFlags) sinks() ([]sink.Sink, error) {
	token := secrets.Ref{Env: f.tokenEnv, File: f.tokenFile}
	if f.url == "" && !token.IsZero() {
		return nil, errors.New("an audit HTTP token needs -audit-http-url")
	}
	var out []sink.Sink
	if f.dir != "" {
		d, err := sink.NewDir(f.dir)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if f.url != "" {
		if f.tokenEnv != "" && f.tokenFile != "" {
			return nil, errors.New("name the audit HTTP token by -audit-http-token-env or -audit-http-token-file, not both")
		}
		h, err := sink.NewHTTP(sink.HTTPOptions{URL: f.url, Token: token, BatchEntries: f.batch})
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// sinkNames names the sinks for the worker's log.
func sinkNames(ss []sink.Sink) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name()
	}
	return out
}
