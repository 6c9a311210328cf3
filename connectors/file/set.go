package file

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
)

// Set is a source of one export file per object type (source.files):
// users from one file, groups from another (type: Group, with a
// membersColumn listing the IDs of each group's members, users or groups).
// Every file is a snapshot.
type Set []Config

// setSource reads each object type from the file of its Set that holds it.
type setSource struct {
	byType map[connectors.ObjectType]*Source
}

var (
	_ connectors.SourceConfig     = (*Set)(nil)
	_ connectors.Source           = (*setSource)(nil)
	_ connectors.Writer           = (*setSource)(nil)
	_ connectors.Getter           = (*setSource)(nil)
	_ connectors.AttributeChecker = (*setSource)(nil)
)

// Validate checks every file, and that no two hold the same object type.
func (s Set) Validate() error {
	if len(s) == 0 {
		return connectors.Invalid("", "list at least one file")
	}
	var errs []error
	seen := map[connectors.ObjectType]int{}
	for i, c := range s {
		field := fmt.Sprintf("[%d]", i)
		if err := c.Validate(); err != nil {
			errs = append(errs, connectors.Under(field, err))
		}
		t := c.objectType()
		if k, dup := seen[t]; dup {
			errs = append(errs, connectors.Invalid(field+".type", "source.files[%d] already holds %s objects; use one file per object type", k, t))
		}
		seen[t] = i
	}
	return errors.Join(errs...)
}

// OpenSource opens every file of the set.
func (s Set) OpenSource(context.Context, *logrus.Entry) (connectors.Source, error) {
	fs := &setSource{byType: map[connectors.ObjectType]*Source{}}
	for _, c := range s {
		src, err := c.Open()
		if err != nil {
			fs.Close()
			return nil, err
		}
		fs.byType[c.objectType()] = src
	}
	return fs, nil
}

// ResolvePaths takes each relative path from dir.
func (s Set) ResolvePaths(dir string) {
	for i := range s {
		s[i].ResolvePaths(dir)
	}
}

// SourceFiles names each file read.
func (s Set) SourceFiles() []connectors.Field[string] {
	out := make([]connectors.Field[string], len(s))
	for i, c := range s {
		out[i] = connectors.Field[string]{Field: fmt.Sprintf("[%d].path", i), Value: c.Path}
	}
	return out
}

// ObjectTypes lists the types the files hold.
func (s Set) ObjectTypes() []connectors.ObjectType {
	out := make([]connectors.ObjectType, len(s))
	for i, c := range s {
		out[i] = c.objectType()
	}
	return out
}

func (fs *setSource) ChangeDetection() connectors.ChangeDetection { return connectors.Snapshot }

// Read reads the file that holds the requested type. A type no file holds
// is an error, never an empty read that would look like every object gone.
func (fs *setSource) Read(ctx context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	s, err := fs.file(req.Type)
	if err != nil {
		return connectors.Page{}, err
	}
	return s.Read(ctx, req)
}

// Get reads one object from the file of its type.
func (fs *setSource) Get(ctx context.Context, t connectors.ObjectType, id string, attributes []string) (connectors.Object, error) {
	s, err := fs.file(t)
	if err != nil {
		return connectors.Object{}, err
	}
	return s.Get(ctx, t, id, attributes)
}

// Write passes writeback on to the file of the object's type.
func (fs *setSource) Write(ctx context.Context, t connectors.ObjectType, id string, values connectors.Attributes) error {
	s, err := fs.file(t)
	if err != nil {
		return err
	}
	return s.Write(ctx, t, id, values)
}

// CheckAttributes asks the file that holds the type.
func (fs *setSource) CheckAttributes(ctx context.Context, t connectors.ObjectType, names []string) (connectors.AttributeCheck, error) {
	s, err := fs.file(t)
	if err != nil {
		return connectors.AttributeCheck{}, err
	}
	return s.CheckAttributes(ctx, t, names)
}

func (fs *setSource) file(t connectors.ObjectType) (*Source, error) {
	s, ok := fs.byType[t]
	if !ok {
		return nil, &connectors.Error{Kind: connectors.KindInvalidRequest, Op: "read " + string(t), Detail: fmt.Sprintf("no file in source.files holds %s objects", t)}
	}
	return s, nil
}

func (fs *setSource) Close() error {
	var errs []error
	for _, s := range fs.byType {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// Address lists the files' paths.
func (s Set) Address() string {
	paths := make([]string, len(s))
	for i, c := range s {
		paths[i] = c.Path
	}
	return strings.Join(paths, ", ")
}
