package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// ConnectionsInput asks for a job's object connections: one object's, by
// its source or target ID, or a page of them in source ID order. With
// Delete, the one object's connection is forgotten: the next cycle matches
// the object again, as Azure does when a connection is deleted.
type ConnectionsInput struct {
	Job    string                `json:"job"`
	Type   connectors.ObjectType `json:"type"`
	ID     string                `json:"id,omitempty"`
	After  string                `json:"after,omitempty"`
	Limit  int                   `json:"limit,omitempty"`
	Delete bool                  `json:"delete,omitempty"`
}

// errPageFull stops the iteration over connections once a page is full.
var errPageFull = errors.New("page full")

// ObjectConnections reads or deletes object connections.
func (a *Activities) ObjectConnections(ctx context.Context, in ConnectionsInput) (_ api.ConnectionsResult, err error) {
	defer classify(&err)
	if in.ID != "" {
		st, found, err := a.connection(ctx, in)
		if err != nil || !found {
			return api.ConnectionsResult{}, err
		}
		res := api.ConnectionsResult{Connections: []api.Connection{connectionOf(st)}}
		if in.Delete {
			forget := store.Record{Forget: true, Type: in.Type, SourceID: st.SourceID}
			if err := a.Store.Record(ctx, store.Cycle{Job: in.Job, ID: "connections"}, []store.Record{forget}); err != nil {
				return api.ConnectionsResult{}, err
			}
			res.Deleted = true
		}
		return res, nil
	}
	limit := min(max(in.Limit, 1), api.MaxConnectionsPage)
	var res api.ConnectionsResult
	err = a.Store.Connections(ctx, in.Job, in.Type, func(st store.ObjectState) error {
		if st.SourceID <= in.After {
			return nil
		}
		if len(res.Connections) == limit {
			res.Next = res.Connections[limit-1].SourceID
			return errPageFull
		}
		res.Connections = append(res.Connections, connectionOf(st))
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return api.ConnectionsResult{}, fmt.Errorf("list connections: %w", err)
	}
	return res, nil
}

// connection finds one object by source ID, then by target ID, as Azure's
// objectConnections lookup does.
func (a *Activities) connection(ctx context.Context, in ConnectionsInput) (store.ObjectState, bool, error) {
	m, err := a.Store.Objects(ctx, in.Job, in.Type, []string{in.ID})
	if err != nil {
		return store.ObjectState{}, false, err
	}
	if st, ok := m[in.ID]; ok {
		return st, true, nil
	}
	return a.Store.LookupTarget(ctx, in.Job, in.Type, in.ID)
}

func connectionOf(st store.ObjectState) api.Connection {
	c := api.Connection{Type: st.Type, SourceID: st.SourceID, TargetID: st.TargetID, Active: st.Active, UpdatedAt: st.UpdatedAt}
	if e := st.Escrow; e != nil {
		c.Escrow = &api.ConnectionEscrow{Attempts: e.Attempts, RetryAfter: e.RetryAfter, Code: e.Code, Reason: e.Reason}
	}
	return c
}
