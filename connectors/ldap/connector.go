package ldap

import (
	"context"
	"path/filepath"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/secrets"
)

func init() {
	connectors.RegisterSource("ldap", func() connectors.SourceConfig { return &Config{} })
	connectors.RegisterTarget("ldap", func() connectors.TargetConfig { return &TargetConfig{} })
}

var (
	_ connectors.SourceConfig = (*Config)(nil)
	_ connectors.TargetConfig = (*TargetConfig)(nil)
)

// OpenSource connects to the directory as a job's source.
func (c Config) OpenSource(ctx context.Context, log *logrus.Entry) (connectors.Source, error) {
	return connectors.Opened[connectors.Source](c.Open(ctx, log))
}

// OpenTarget connects to the directory as a job's target.
func (c TargetConfig) OpenTarget(ctx context.Context, log *logrus.Entry) (connectors.Target, error) {
	return connectors.Opened[connectors.Target](c.Open(ctx, log))
}

// ResolvePaths takes the relative password and CA files from dir.
func (c *Connection) ResolvePaths(dir string) {
	for _, p := range []*string{&c.BindPassword.File, &c.CACertFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// Secrets names the bind password.
func (c Connection) Secrets() []connectors.Field[secrets.Ref] {
	if c.BindPassword.IsZero() {
		return nil
	}
	return []connectors.Field[secrets.Ref]{{Field: "bindPassword", Value: c.BindPassword}}
}

// Address is the directory's URL.
func (c Connection) Address() string { return c.URL }
