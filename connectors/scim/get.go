package scim

import (
	"context"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
)

// Source is a Client opened as a job's source. It adds connectors.Getter,
// which a Client cannot implement: its Get is the target's, which reads a
// TargetObject and leaves group members out.
type Source struct {
	*Client
}

var (
	_ connectors.Source           = (*Source)(nil)
	_ connectors.DeletionDetector = (*Source)(nil)
	_ connectors.Writer           = (*Source)(nil)
	_ connectors.Getter           = (*Source)(nil)
)

// openSource is Open for the source side of a job.
func (c Config) openSource(ctx context.Context, log *logrus.Entry) (*Source, error) {
	client, err := c.Open(ctx, log)
	if err != nil {
		return nil, err
	}
	return &Source{Client: client}, nil
}

// Get reads one user or group, GET /Users/{id} or /Groups/{id}, and
// converts it as Read converts the resources it lists: members included,
// active read as Disabled. attributes is not sent, as Read sends none.
// A resource that is not there is NotFound (the service's 404).
func (s *Source) Get(ctx context.Context, t connectors.ObjectType, id string, attributes []string) (connectors.Object, error) {
	res, err := s.resource(ctx, t, id)
	if err != nil {
		return connectors.Object{}, err
	}
	ep, _ := endpoint(t)
	return sourceObject(t, ep, res), nil
}
