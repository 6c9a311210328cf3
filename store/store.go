// Package store defines the state a provisioning job keeps outside its
// workflow history: object connections (source ID ↔ target ID) with the
// values last pushed, the per-cycle staging area that carries changed
// objects from the fetch step to the push steps, and watermarks. Keeping
// this bulk data here keeps every workflow run small whatever the job size.
//
// store/sqlite is the embedded default; a PostgreSQL store implements the
// same interface for several workers on several machines.
package store

import (
	"context"
	"time"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
)

// ObjectState is what the job knows about one source object. It is an
// object connection when TargetID is set.
type ObjectState struct {
	Type     connectors.ObjectType `json:"type"`
	SourceID string                `json:"sourceId"`
	// SourceHash fingerprints the source record last processed successfully,
	// so unchanged records are skipped by snapshot sources.
	SourceHash string `json:"sourceHash,omitempty"`
	// TargetID is the object's ID in the target; empty when never linked.
	TargetID string `json:"targetId,omitempty"`
	// Active is false once the job disabled the target object.
	Active bool `json:"active"`
	// Pushed holds the target values last written, to send only differences.
	Pushed connectors.Attributes `json:"pushed,omitempty"`
	// Members holds the target IDs of a group's members as last pushed.
	Members []string `json:"members,omitempty"`
	// References holds, by target attribute, the source ID of the object a
	// reference attribute (manager) points to; "" when it points nowhere.
	// The target value is written once that object is linked.
	References map[string]string `json:"references,omitempty"`
	// Escrow is set while the object's last provisioning attempt failed.
	Escrow *Escrow `json:"escrow,omitempty"`
	// Operation is the change being made to the target object, recorded
	// before it is pushed; a state recorded without it clears it.
	Operation *Operation `json:"operation,omitempty"`
	UpdatedAt time.Time  `json:"updatedAt"`
}

// Operation is a change to a target object, recorded before it is pushed
// as midPoint keeps pending operations. An attempt that dies after the
// target acted, or loses the target's answer, leaves it behind: the
// attempt that takes over then logs what was done, rather than finding
// the work done and skipping it.
type Operation struct {
	// ChangeID is the change's provisioning log entry.
	ChangeID string       `json:"changeId"`
	Action   audit.Action `json:"action"`
	// TargetID is the target object changed; empty for a create.
	TargetID string `json:"targetId,omitempty"`
	// Modified are the values pushed, as the log shows them.
	Modified []audit.Property `json:"modified,omitempty"`
	// Done is set once the target acted. A phase keeps its done operation
	// until the object's next change, so a retried call that finds nothing
	// left to do logs it.
	Done bool      `json:"done,omitempty"`
	Time time.Time `json:"time"`
}

// Escrow is a failed object waiting to be retried in a later cycle with a
// growing back-off. It keeps the source record, so delta sources that will
// not report the object again can still be retried.
type Escrow struct {
	Attempts   int               `json:"attempts"`
	RetryAfter time.Time         `json:"retryAfter"`
	Code       string            `json:"code"`
	Reason     string            `json:"reason"`
	Object     connectors.Object `json:"object"`
}

// Linked reports whether the object has an object connection.
func (o ObjectState) Linked() bool { return o.TargetID != "" }

// Fingerprint is what fetch compares a source record with: enough to tell
// whether the object changed, without reading the values pushed for it.
type Fingerprint struct {
	SourceHash string
	Linked     bool
	// Active is false once the job disabled the linked target object.
	Active bool
	// Escrow is set while the object waits to be retried.
	Escrow *Escrow
}

// Cycle identifies one cycle of one job; staging is scoped to it.
type Cycle struct {
	Job string `json:"job"`
	ID  string `json:"id"`
}

// StagedItem is one changed source object waiting to be provisioned in a
// cycle. Seq numbers items from 1 so push steps can split them in batches.
type StagedItem struct {
	Seq    int                   `json:"seq"`
	Type   connectors.ObjectType `json:"type"`
	Object connectors.Object     `json:"object"`
	// Outcome is the recorded result once the item is done; retried push
	// steps return it instead of acting twice.
	Outcome []byte `json:"outcome,omitempty"`
	// AttributesJSON is Object.Attributes as AppendJSON encodes them, when
	// the store read them in that form, and empty otherwise: an object's
	// fingerprint is then taken from it rather than by encoding its
	// attributes again.
	AttributesJSON EncodedJSON `json:"-"`
}

// Record is the result of one staged item.
type Record struct {
	Seq     int
	Outcome []byte
	// State is the object's new state; nil leaves it unchanged.
	State *ObjectState
	// Forget removes the object's state (it was deleted in the target).
	Forget bool
	Type   connectors.ObjectType
	// SourceID identifies the object to forget.
	SourceID string
}

// WritesStates reports whether records write or forget an object state,
// not only outcomes.
func WritesStates(records []Record) bool {
	for _, r := range records {
		if r.State != nil || r.Forget {
			return true
		}
	}
	return false
}

// ResetScope selects what a restart clears, as Azure's resetScope flags do.
type ResetScope struct {
	Watermark          bool `json:"watermark,omitempty"`
	Escrows            bool `json:"escrows,omitempty"`
	ConnectorDataStore bool `json:"connectorDataStore,omitempty"`
}

// Store is the state store. Every method is safe for concurrent use.
type Store interface {
	// Objects returns the known state of the given source objects, by source ID.
	Objects(ctx context.Context, job string, t connectors.ObjectType, sourceIDs []string) (map[string]ObjectState, error)
	// Fingerprints returns what fetch compares of the given known source
	// objects, by source ID.
	Fingerprints(ctx context.Context, job string, t connectors.ObjectType, sourceIDs []string) (map[string]Fingerprint, error)
	// PutObject records an object's state.
	PutObject(ctx context.Context, job string, o ObjectState) error
	// Connections calls fn for every linked object of a type, in source ID order.
	Connections(ctx context.Context, job string, t connectors.ObjectType, fn func(ObjectState) error) error
	// CountLinked returns how many objects of a type have an object
	// connection: what the accidental-deletion guard measures a cycle's
	// deletions and disables against.
	CountLinked(ctx context.Context, job string, t connectors.ObjectType) (int, error)
	// LookupTarget returns the state of the object linked to a target ID;
	// it may read every object of the type.
	LookupTarget(ctx context.Context, job string, t connectors.ObjectType, targetID string) (ObjectState, bool, error)

	// Stage appends items to a cycle's staging area, replacing items with the same Seq.
	Stage(ctx context.Context, c Cycle, items []StagedItem) error
	// TruncateStage drops staged items with Seq > after (a resumed fetch re-stages them).
	TruncateStage(ctx context.Context, c Cycle, after int) error
	// Staged returns items with from <= Seq <= to, in Seq order.
	Staged(ctx context.Context, c Cycle, from, to int) ([]StagedItem, error)
	// Record stores, in one transaction, the outcomes of staged items and the
	// object states they produced.
	Record(ctx context.Context, c Cycle, records []Record) error
	// DueEscrows calls fn for every escrowed object whose retry time has come.
	DueEscrows(ctx context.Context, job string, t connectors.ObjectType, now time.Time, fn func(ObjectState) error) error
	// UnseenDueEscrows calls fn, in source ID order, for every escrowed
	// object of a type whose retry time has come and that the cycle has not
	// marked seen: those a delta read did not return again.
	UnseenDueEscrows(ctx context.Context, c Cycle, t connectors.ObjectType, now time.Time, fn func(ObjectState) error) error
	// MarkSeen records source IDs read in this cycle, for deletion detection.
	MarkSeen(ctx context.Context, c Cycle, t connectors.ObjectType, sourceIDs []string) error
	// Unseen calls fn for every known object of a type not marked seen in the cycle.
	Unseen(ctx context.Context, c Cycle, t connectors.ObjectType, fn func(ObjectState) error) error
	// EndCycle drops the cycle's staging area and seen marks.
	EndCycle(ctx context.Context, c Cycle) error

	// Watermark returns the watermark of an object type ("" when none).
	Watermark(ctx context.Context, job string, t connectors.ObjectType) (string, error)
	SetWatermark(ctx context.Context, job string, t connectors.ObjectType, watermark string) error
	// SettleCycle records that the cycle completed, every state it staged
	// written and its watermarks saved.
	SettleCycle(ctx context.Context, c Cycle) error
	// SettledCycle returns the cycle SettleCycle last recorded for the
	// job, or "" once an object state of the job has been written since
	// (Record, PutObject, Reset): while it is set, the job's object states
	// are what that cycle left.
	SettledCycle(ctx context.Context, job string) (string, error)

	// Reset clears the selected state of a job.
	Reset(ctx context.Context, job string, scope ResetScope) error
	Close() error

	SourceGroups
	PendingWork
	TargetIndex
}

// SourceGroup is a group as the source holds it: its name, for assignment
// by name, and the source IDs of its direct members (users or groups).
type SourceGroup struct {
	ID      string   `json:"id"`
	Name    string   `json:"name,omitempty"`
	Members []string `json:"members,omitempty"`
	// Hash fingerprints name and members, so a group read again unchanged
	// is not written again.
	Hash string `json:"hash,omitempty"`
}

// SourceGroups mirrors the source's groups and memberships. Fetch keeps it
// current; scoping by assignment and the membership phase read it, so an
// unchanged group's members are known without reading the source again.
type SourceGroups interface {
	// PutSourceGroups records groups, replacing their members.
	PutSourceGroups(ctx context.Context, job string, groups []SourceGroup) error
	// DeleteSourceGroups forgets groups gone from the source.
	DeleteSourceGroups(ctx context.Context, job string, ids []string) error
	// ForgetUnseenGroups forgets the groups not marked seen in the cycle
	// and returns their IDs; only after a read that listed every group.
	ForgetUnseenGroups(ctx context.Context, c Cycle) ([]string, error)
	// SourceGroupHashes returns the recorded hash of the given groups, by ID.
	SourceGroupHashes(ctx context.Context, job string, ids []string) (map[string]string, error)
	// SourceMembers returns a group's direct members, sorted.
	SourceMembers(ctx context.Context, job, groupID string) ([]string, error)
	// ParentGroups returns, for each of the given IDs that is a member of
	// some group, the groups it is a direct member of, sorted.
	ParentGroups(ctx context.Context, job string, memberIDs []string) (map[string][]string, error)
	// GroupsAmong returns which of the given IDs are source groups.
	GroupsAmong(ctx context.Context, job string, ids []string) (map[string]bool, error)
	// FindSourceGroups returns the IDs of the groups whose ID equals one of
	// keys, or whose name does regardless of case, sorted.
	FindSourceGroups(ctx context.Context, job string, keys []string) ([]string, error)
}

// Work names a phase that runs after a cycle's objects are provisioned.
type Work string

// Phases that keep a to-do list between cycles.
const (
	// MembershipWork: groups whose target members must be recomputed.
	MembershipWork Work = "members"
	// ReferenceWork: objects with reference attributes not written yet.
	ReferenceWork Work = "references"
)

// PendingWork is the to-do list of the phases after the object batches.
// Marks outlive the cycle: work that fails, or a reference whose object
// does not exist yet, is tried again next cycle.
type PendingWork interface {
	// MarkPending records objects that need work; marking twice is harmless.
	MarkPending(ctx context.Context, job string, w Work, t connectors.ObjectType, sourceIDs []string) error
	// Pending returns up to limit marked source IDs greater than after, in order.
	Pending(ctx context.Context, job string, w Work, t connectors.ObjectType, after string, limit int) ([]string, error)
	// ClearPending removes marks.
	ClearPending(ctx context.Context, job string, w Work, t connectors.ObjectType, sourceIDs []string) error
	// Referrers returns, by type and sorted, the source IDs of the objects
	// whose reference attributes point to one of sourceIDs, so their
	// references can be written again when those objects get new target
	// IDs. It may read every object of the job that has references.
	Referrers(ctx context.Context, job string, sourceIDs []string) (map[connectors.ObjectType][]string, error)
}

// IndexKey is a matching attribute with one of its values, in the form the
// engine compares values in.
type IndexKey struct {
	Attribute string
	Value     string
}

// IndexedObject is a target object with the keys it is found under.
type IndexedObject struct {
	Object connectors.TargetObject
	Keys   []IndexKey
}

// TargetIndex is a cycle's copy of the target's objects, found by the
// values of their matching attributes: matching many objects then takes
// one read of the target instead of a query per object. A type's index is
// used only once it is complete; the cycle's end drops it.
type TargetIndex interface {
	// ResetTargetIndex drops what a cycle indexed of a type, complete or not.
	ResetTargetIndex(ctx context.Context, c Cycle, t connectors.ObjectType) error
	// AddToTargetIndex records listed target objects under their keys.
	AddToTargetIndex(ctx context.Context, c Cycle, t connectors.ObjectType, objs []IndexedObject) error
	// CompleteTargetIndex marks a type's index complete with the number of
	// objects it holds.
	CompleteTargetIndex(ctx context.Context, c Cycle, t connectors.ObjectType, objects int) error
	// TargetIndexed reports whether a type's index is complete, and how
	// many objects it holds.
	TargetIndexed(ctx context.Context, c Cycle, t connectors.ObjectType) (objects int, complete bool, err error)
	// LookupTargetIndex returns the objects found under each key; keys
	// nothing is found under are absent.
	LookupTargetIndex(ctx context.Context, c Cycle, t connectors.ObjectType, keys []IndexKey) (map[IndexKey][]connectors.TargetObject, error)
}
