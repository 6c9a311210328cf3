package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/file"
)

// fileSet is a source of one export file per object type (source.files):
// users from one file, groups from another. Every file is a snapshot.
type fileSet struct {
	byType map[connectors.ObjectType]*file.Source
}

var (
	_ connectors.Source = (*fileSet)(nil)
	_ connectors.Writer = (*fileSet)(nil)
	_ connectors.Getter = (*fileSet)(nil)
)

func openFiles(cfgs []file.Config) (*fileSet, error) {
	fs := &fileSet{byType: map[connectors.ObjectType]*file.Source{}}
	for _, c := range cfgs {
		s, err := c.Open()
		if err != nil {
			fs.Close()
			return nil, err
		}
		t := c.Type
		if t == "" {
			t = connectors.User
		}
		fs.byType[t] = s
	}
	return fs, nil
}

func (fs *fileSet) ChangeDetection() connectors.ChangeDetection { return connectors.Snapshot }

// Read reads the file that holds the requested type. A type no file holds
// is an error, never an empty read that would look like every object gone.
func (fs *fileSet) Read(ctx context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	s, err := fs.file(req.Type)
	if err != nil {
		return connectors.Page{}, err
	}
	return s.Read(ctx, req)
}

// Get reads one object from the file of its type.
func (fs *fileSet) Get(ctx context.Context, t connectors.ObjectType, id string, attributes []string) (connectors.Object, error) {
	s, err := fs.file(t)
	if err != nil {
		return connectors.Object{}, err
	}
	return s.Get(ctx, t, id, attributes)
}

// Write passes writeback on to the file of the object's type.
func (fs *fileSet) Write(ctx context.Context, t connectors.ObjectType, id string, values connectors.Attributes) error {
	s, err := fs.file(t)
	if err != nil {
		return err
	}
	w, ok := any(s).(connectors.Writer)
	if !ok {
		return &connectors.Error{Kind: connectors.KindInvalidRequest, Op: "write " + string(t), Detail: "the source file cannot be written"}
	}
	return w.Write(ctx, t, id, values)
}

func (fs *fileSet) file(t connectors.ObjectType) (*file.Source, error) {
	s, ok := fs.byType[t]
	if !ok {
		return nil, &connectors.Error{Kind: connectors.KindInvalidRequest, Op: "read " + string(t), Detail: fmt.Sprintf("no file in source.files holds %s objects", t)}
	}
	return s, nil
}

func (fs *fileSet) Close() error {
	var errs []error
	for _, s := range fs.byType {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
