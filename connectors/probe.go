package connectors

import "context"

// ConnectionCheck is one check of a connection test beyond what reading a
// page of the source and querying the target for an absent object prove:
// a SCIM service's /ServiceProviderConfig, for instance.
type ConnectionCheck struct {
	// Name says what is checked ("GET /ServiceProviderConfig").
	Name string
	// Run makes the check. A check of something the system may lack
	// returns a note saying so, and no error.
	Run func(ctx context.Context) (note string, err error)
}

// ConnectionTester is implemented by sources and targets that have more
// to check in a connection test than the read and the query every
// connector answers.
type ConnectionTester interface {
	ConnectionChecks() []ConnectionCheck
}
