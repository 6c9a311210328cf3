// Package connectors defines the one boundary every source and target system
// is reached through. Each connector lives in its own sub-package (file, scim,
// ldap) and implements Source, Target or both; the provisioning engine never
// speaks a wire protocol itself. A connector's configuration registers
// itself under its key in a job (RegisterSource, RegisterTarget), and
// connectors/all imports every connector for the programs that read jobs.
package connectors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// ObjectType names a kind of object on either side of a job ("User", "Group").
type ObjectType string

// Object types every connector understands.
const (
	User  ObjectType = "User"
	Group ObjectType = "Group"
)

// Attributes holds an object's values by attribute name. Values are string,
// bool, int64, float64, []string or nil; a nil value means "no value".
type Attributes map[string]any

// Object is one record read from a source.
type Object struct {
	// ID is the source anchor: stable for the object's life in the source.
	ID string `json:"id"`
	// Locator says where the record was read ("row 17", a DN), for messages.
	Locator string `json:"locator,omitempty"`
	// Attributes are the values the source holds for this object.
	Attributes Attributes `json:"attributes,omitempty"`
	// Disabled is true when the source marks the account disabled
	// (an HR status, AD's userAccountControl bit).
	Disabled bool `json:"disabled,omitempty"`
	// Deleted is a tombstone: the object is gone from the source.
	Deleted bool `json:"deleted,omitempty"`
	// Members lists the source IDs of a group's direct members.
	Members []string `json:"members,omitempty"`
	// Invalid is set when the record could not be read; it fails alone.
	Invalid string `json:"invalid,omitempty"`
	// RecordHash, when not zero, hashes the record as the source read it,
	// under the read's request: within one worker process, two records with
	// the same ID and RecordHash make the same Object (its Locator aside).
	// Sources that cannot tell leave it zero.
	RecordHash uint64 `json:"-"`
	// Unchanged is set, with ID and RecordHash alone, for a record that
	// ReadRequest.Unchanged said the caller already holds: the source did
	// not build the rest.
	Unchanged bool `json:"-"`
}

// ReadRequest asks a source for one page of objects.
type ReadRequest struct {
	Type ObjectType
	// Since is the watermark of the last completed cycle; empty for a full read.
	Since string
	// Cursor resumes a read where the previous page ended; empty to begin.
	Cursor string
	// PageSize is a hint; sources may return fewer or more objects.
	PageSize int
	// Attributes lists the source attributes the mappings need; empty means all.
	Attributes []string
	// Unchanged, when set, is asked by a source that hashes its records
	// (Object.RecordHash) whether the caller holds the record of id with
	// this hash from an earlier read; the source may then return the
	// object marked Unchanged instead of building it. It is called from
	// Read's goroutine, one call at a time.
	Unchanged func(id string, hash uint64) bool
}

// Page is one slice of a read.
type Page struct {
	Objects []Object
	// Cursor resumes after this page; empty when the read is complete.
	Cursor string
	// Watermark is set on the last page: the value to pass as Since next cycle.
	Watermark string
	// Unchanged is set by a snapshot source whose data is still what the
	// read Since names saw (an HTTP report answered 304 Not Modified): the
	// page is the read's only one, holds no objects, and every object of
	// that read is still there as it was.
	Unchanged bool
}

// ChangeDetection says how a source reports what changed.
type ChangeDetection int

const (
	// Snapshot sources return every object on every read; the engine finds
	// changes by content comparison and deletions by absence.
	Snapshot ChangeDetection = iota
	// Delta sources return only objects changed since the watermark and
	// report deletions as tombstones or through DeletionDetector.
	Delta
)

// Source is a system objects are read from.
type Source interface {
	ChangeDetection() ChangeDetection
	Read(ctx context.Context, req ReadRequest) (Page, error)
	Close() error
}

// DeletionDetector is implemented by delta sources that cannot report
// tombstones: the engine lists every live ID and treats linked objects that
// are missing as deleted.
type DeletionDetector interface {
	ListIDs(ctx context.Context, t ObjectType, fn func(id string) error) error
}

// Getter is implemented by sources that can read one object by its ID, for
// provisioning on demand. A missing object is an error matching ErrNotFound.
type Getter interface {
	Get(ctx context.Context, t ObjectType, id string, attributes []string) (Object, error)
}

// Writer is implemented by sources that accept writeback of values produced
// by the target (a generated e-mail address or username).
type Writer interface {
	Write(ctx context.Context, t ObjectType, id string, values Attributes) error
}

// TargetObject is an object as the target holds it.
type TargetObject struct {
	ID         string     `json:"id"`
	Attributes Attributes `json:"attributes,omitempty"`
	Active     bool       `json:"active"`
}

// Change sets one target attribute (addressed by the target's path syntax,
// e.g. `emails[type eq "work"].value`) from Old to New. A nil New clears it.
type Change struct {
	Attribute string `json:"attribute"`
	Old       any    `json:"old,omitempty"`
	New       any    `json:"new,omitempty"`
}

// Target is an application accounts are provisioned into.
type Target interface {
	// Find returns the objects whose attribute equals value exactly.
	Find(ctx context.Context, t ObjectType, attribute string, value any) ([]TargetObject, error)
	// Get returns one object by target ID, or an error matching ErrNotFound.
	Get(ctx context.Context, t ObjectType, id string) (TargetObject, error)
	// Create creates an object and returns its target ID.
	Create(ctx context.Context, t ObjectType, attrs Attributes) (string, error)
	// Update applies changes to attributes; only the listed attributes are sent.
	Update(ctx context.Context, t ObjectType, id string, changes []Change) error
	// SetActive enables or disables an account (SCIM `active`, an LDAP attribute).
	SetActive(ctx context.Context, t ObjectType, id string, active bool) error
	// Delete removes an object. Deleting an absent object is not an error.
	Delete(ctx context.Context, t ObjectType, id string) error
	Close() error
}

// Crew is implemented by targets whose calls from this process share a
// limit of calls in flight. Work that pushes many objects at once has
// each of its goroutines join the crew for as long as it takes objects,
// so that no more of them run than the target takes calls: the others
// wait once for a place, not once for every call.
type Crew interface {
	JoinCrew(ctx context.Context) (CrewPlace, error)
}

// CrewPlace is a goroutine's place in a Crew.
type CrewPlace interface {
	// Keep reports, between objects, whether the place is still held:
	// when the crew has shrunk, it is given back, and the goroutine joins
	// again before its next object.
	Keep() bool
	// Leave gives the place back.
	Leave()
}

// RetryWaits is told, through the context of a target's calls, when one
// of them waits to retry and when its wait is over: work that makes a few
// calls at once may make another meanwhile.
type RetryWaits interface {
	Waiting()
	Resumed()
}

type retryWaitsKey struct{}

// WithRetryWaits returns ctx carrying w to the calls made with it.
func WithRetryWaits(ctx context.Context, w RetryWaits) context.Context {
	return context.WithValue(ctx, retryWaitsKey{}, w)
}

// RetryWaitsOf returns the RetryWaits ctx carries, or nil.
func RetryWaitsOf(ctx context.Context) RetryWaits {
	w, _ := ctx.Value(retryWaitsKey{}).(RetryWaits)
	return w
}

// Lister is implemented by targets that can list every object of a type in
// pages. When many objects need matching, the engine reads the target once
// this way and matches against what it read instead of calling Find per
// object. The listing is complete or it is an error.
type Lister interface {
	List(ctx context.Context, t ObjectType, fn func(TargetObject) error) error
}

// MembershipTarget is implemented by targets that hold groups: members are
// added and removed as deltas, never by sending the whole list.
type MembershipTarget interface {
	AddMembers(ctx context.Context, groupID string, memberIDs []string) error
	RemoveMembers(ctx context.Context, groupID string, memberIDs []string) error
}

// ErrNotFound is matched (with errors.Is) by errors for absent objects.
var ErrNotFound = errors.New("not found")

// ErrSnapshotChanged is matched (with errors.Is) by the error of a snapshot
// source's read whose data was replaced since its first page (an export
// written anew): the read must start again with an empty cursor.
var ErrSnapshotChanged = errors.New("the source changed during the read")

// Kind classifies a failed call so the engine can decide between retrying
// the object later (escrow), quarantining the job, or failing fast.
type Kind string

// Failure kinds, named after the error codes operators see in provisioning logs.
const (
	KindUnauthorized        Kind = "Unauthorized"       // credentials rejected: quarantine
	KindForbidden           Kind = "InsufficientRights" // refused for this object (a protected account): escrow
	KindConflict            Kind = "Conflict"           // e.g. uniqueness violation
	KindTooManyRequests     Kind = "TooManyRequests"    // throttled beyond retries
	KindServerError         Kind = "InternalServerError"
	KindTimeout             Kind = "Timeout"
	KindInvalidRequest      Kind = "UnprocessableEntity" // target refused the values
	KindNotFound            Kind = "NotFound"
	KindServiceIncompatible Kind = "ServiceIncompatible" // target is not compliant
	KindUnavailable         Kind = "Unavailable"         // cannot connect at all
)

// Error is a failed connector call. Callers match it with errors.As.
type Error struct {
	Kind Kind
	// Op names the call ("POST /Users", "LDAP bind").
	Op string
	// Status is the protocol status (HTTP code, LDAP result code) if any.
	Status int
	Detail string
	// Resent is set when the call was sent again after an earlier try got
	// no answer: the system may have acted on that try, and a Conflict
	// may be of its own making.
	Resent bool
	// changed marks a snapshot read overtaken by a new snapshot.
	changed bool
}

// SnapshotChanged returns the error of a read overtaken by a new snapshot,
// matching ErrSnapshotChanged.
func SnapshotChanged(op, detail string) *Error {
	return &Error{Kind: KindUnavailable, Op: op, Detail: detail, changed: true}
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s: %s (%d): %s", e.Op, e.Kind, e.Status, e.Detail)
	}
	return fmt.Sprintf("%s: %s: %s", e.Op, e.Kind, e.Detail)
}

// Is lets errors.Is match not-found connector errors with ErrNotFound and
// overtaken snapshot reads with ErrSnapshotChanged.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.Kind == KindNotFound ||
		target == ErrSnapshotChanged && e.changed
}

// Resent reports whether err answers a call sent again after an earlier
// try got no answer (see Error.Resent).
func Resent(err error) bool {
	var ce *Error
	return errors.As(err, &ce) && ce.Resent
}

// KindOf returns the Kind of a connector error, or "" for other errors.
func KindOf(err error) Kind {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Kind
	}
	return ""
}

// HTTPStatusKind classifies an HTTP status the way REST services use them
// (SCIM's, Graph's); a connector whose service means something else by a
// status classifies that status itself first.
func HTTPStatusKind(status int) Kind {
	switch {
	case status == http.StatusUnauthorized:
		return KindUnauthorized
	case status == http.StatusForbidden:
		// The credentials were accepted; this call was not (a protected
		// account): the object fails alone.
		return KindForbidden
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusConflict || status == http.StatusPreconditionFailed:
		return KindConflict
	case status == http.StatusTooManyRequests:
		return KindTooManyRequests
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout:
		return KindTimeout
	case status == http.StatusNotImplemented:
		return KindServiceIncompatible
	case status >= 500:
		return KindServerError
	case status >= 400:
		return KindInvalidRequest
	}
	// 1xx and 3xx answers (a redirect to a login page) are not the service answering.
	return KindServiceIncompatible
}
