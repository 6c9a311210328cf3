package file

import (
	"context"
	"path/filepath"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
)

var _ connectors.SourceConfig = (*Config)(nil)

// OpenSource is Open, as a job's source.
func (c Config) OpenSource(context.Context, *logrus.Entry) (connectors.Source, error) {
	return connectors.Opened[connectors.Source](c.Open())
}

// ResolvePaths takes a relative path from dir.
func (c *Config) ResolvePaths(dir string) {
	if c.Path != "" && !filepath.IsAbs(c.Path) {
		c.Path = filepath.Join(dir, c.Path)
	}
}

// SourceFiles names the file read.
func (c Config) SourceFiles() []connectors.Field[string] {
	return []connectors.Field[string]{{Field: "path", Value: c.Path}}
}

// ObjectTypes lists the type the file holds.
func (c Config) ObjectTypes() []connectors.ObjectType {
	return []connectors.ObjectType{c.objectType()}
}

func (c Config) objectType() connectors.ObjectType {
	if c.Type == "" {
		return connectors.User
	}
	return c.Type
}

func init() {
	connectors.RegisterSource("file", func() connectors.SourceConfig { return &Config{} })
	connectors.RegisterSource("files", func() connectors.SourceConfig { return &Set{} })
}

// Address is the file's path.
func (c Config) Address() string { return c.Path }
