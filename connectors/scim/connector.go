package scim

import (
	"context"
	"path/filepath"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/secrets"
)

func init() {
	connectors.RegisterSource("scim", func() connectors.SourceConfig { return &Config{} })
	connectors.RegisterTarget("scim", func() connectors.TargetConfig { return &Config{} })
}

var (
	_ connectors.SourceConfig = (*Config)(nil)
	_ connectors.TargetConfig = (*Config)(nil)
)

// OpenSource connects to the service as a job's source.
func (c Config) OpenSource(ctx context.Context, log *logrus.Entry) (connectors.Source, error) {
	return connectors.Opened[connectors.Source](c.openSource(ctx, log))
}

// OpenTarget connects to the service as a job's target.
func (c Config) OpenTarget(ctx context.Context, log *logrus.Entry) (connectors.Target, error) {
	return connectors.Opened[connectors.Target](c.Open(ctx, log))
}

// ResolvePaths takes a relative token file from dir.
func (c *Config) ResolvePaths(dir string) {
	if p := c.Token.File; p != "" && !filepath.IsAbs(p) {
		c.Token.File = filepath.Join(dir, p)
	}
}

// Secrets names the credentials the configuration reads.
func (c Config) Secrets() []connectors.Field[secrets.Ref] {
	var out []connectors.Field[secrets.Ref]
	add := func(field string, r secrets.Ref) {
		if !r.IsZero() {
			out = append(out, connectors.Field[secrets.Ref]{Field: field, Value: r})
		}
	}
	add("token", c.Token)
	if c.Basic != nil {
		add("basic.password", c.Basic.Password)
	}
	if c.OAuth != nil {
		add("oauth.clientSecret", c.OAuth.ClientSecret)
	}
	return out
}

// Address is the service's base URL.
func (c Config) Address() string { return c.BaseURL }
