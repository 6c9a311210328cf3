// Package logging sets up logrus for the service's programs and adapts it to
// the Temporal SDK's logger, so SDK and service logs share one format.
package logging

import (
	"fmt"
	"os"

	"github.com/sirupsen/logrus"
	"golang.org/x/term"
)

// New returns a logger writing to stderr: JSON in production, text on a
// terminal, unless format ("json" or "text") says otherwise.
func New(format, level string) (*logrus.Logger, error) {
	l := logrus.New()
	l.SetOutput(os.Stderr)
	switch format {
	case "json":
		l.SetFormatter(&logrus.JSONFormatter{})
	case "text":
		l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	case "", "auto":
		if term.IsTerminal(int(os.Stderr.Fd())) {
			l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
		} else {
			l.SetFormatter(&logrus.JSONFormatter{})
		}
	default:
		return nil, fmt.Errorf("log format %q: use json, text or auto", format)
	}
	lvl, err := logrus.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	l.SetLevel(lvl)
	return l, nil
}

// Temporal adapts a logrus logger to the SDK's log.Logger.
type Temporal struct{ Entry *logrus.Entry }

func (t Temporal) fields(kv []any) *logrus.Entry {
	f := logrus.Fields{}
	for i := 0; i+1 < len(kv); i += 2 {
		f[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return t.Entry.WithFields(f)
}

// Debug logs at debug level.
func (t Temporal) Debug(msg string, kv ...any) { t.fields(kv).Debug(msg) }

// Info logs at info level.
func (t Temporal) Info(msg string, kv ...any) { t.fields(kv).Info(msg) }

// Warn logs at warning level.
func (t Temporal) Warn(msg string, kv ...any) { t.fields(kv).Warn(msg) }

// Error logs at error level.
func (t Temporal) Error(msg string, kv ...any) { t.fields(kv).Error(msg) }
