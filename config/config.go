// Package config is a provisioning job's configuration: the source and target
// connections, the object mappings, and the job's options. It is loaded from
// YAML (or JSON) by the starter, validated before anything runs, and carried
// in the job workflow's input — so it names secrets but never holds one.
package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/mapping"
)

// Job is one provisioning job: one source, one target application.
type Job struct {
	// Name identifies the job; the job workflow's ID is derived from it.
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// Interval is the time between the starts of incremental cycles.
	Interval Duration `json:"interval" yaml:"interval"`
	// Schedule confines the cycles the job starts by itself to set times.
	Schedule *Schedule `json:"schedule,omitempty" yaml:"schedule,omitempty"`
	Source   Source    `json:"source" yaml:"source"`
	Target   Target    `json:"target" yaml:"target"`
	Objects  []Object  `json:"objects" yaml:"objects"`
	// AzureSchema names an exported Azure synchronization schema whose object
	// mappings are added to Objects when the configuration is loaded.
	AzureSchema string  `json:"azureSchema,omitempty" yaml:"azureSchema,omitempty"`
	Options     Options `json:"options,omitempty" yaml:"options,omitempty"`
}

// Object maps one source object type to the target, with the target
// object actions Azure calls Create, Update and Delete.
type Object struct {
	mapping.ObjectMapping `yaml:",inline"`
	Actions               Actions `json:"actions,omitempty" yaml:"actions,omitempty"`
	// Writeback copies values the target holds (a generated e-mail address,
	// the account's ID) back into the source, for sources that can be written.
	Writeback []Writeback `json:"writeback,omitempty" yaml:"writeback,omitempty"`
}

// Writeback copies one target attribute into one source attribute. The
// target attribute "id" is the object's target ID.
type Writeback struct {
	Target string `json:"target" yaml:"target"`
	Source string `json:"source" yaml:"source"`
}

// Actions switches target object actions off; all are on by default.
type Actions struct {
	NoCreate bool `json:"noCreate,omitempty" yaml:"noCreate,omitempty"`
	NoUpdate bool `json:"noUpdate,omitempty" yaml:"noUpdate,omitempty"`
	NoDelete bool `json:"noDelete,omitempty" yaml:"noDelete,omitempty"`
}

// Options tune how a job runs.
type Options struct {
	// BatchSize is how many changed objects one push step handles.
	BatchSize int `json:"batchSize,omitempty" yaml:"batchSize,omitempty"`
	// Batches is how many push steps run at once.
	Batches int `json:"batches,omitempty" yaml:"batches,omitempty"`
	// Concurrency is how many target calls one push step makes at once,
	// and one more for each of them waiting to retry when the target
	// tells (connectors.RetryWaits).
	Concurrency int `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`
	// SkipOutOfScopeDeletions leaves target accounts alone when their source
	// object leaves scope or is disabled.
	SkipOutOfScopeDeletions bool `json:"skipOutOfScopeDeletions,omitempty" yaml:"skipOutOfScopeDeletions,omitempty"`
	// DeletionThreshold holds a cycle's deletions and disables for approval
	// when the source suddenly lacks many objects (a truncated export, a
	// wrong base DN); on by default, `off` turns it off.
	DeletionThreshold *DeletionThreshold `json:"deletionThreshold,omitempty" yaml:"deletionThreshold,omitempty"`
	// EscrowThreshold quarantines a job whose objects fail in numbers;
	// Azure's figures by default.
	EscrowThreshold EscrowThreshold `json:"escrowThreshold,omitzero" yaml:"escrowThreshold,omitempty"`
	// DisableAfterQuarantine disables a job continuously in quarantine for
	// this long; 4 weeks by default, as in Azure.
	DisableAfterQuarantine Duration `json:"disableAfterQuarantine,omitempty" yaml:"disableAfterQuarantine,omitempty"`
	// DeleteAbsent deletes the target accounts of objects missing from a
	// snapshot source (a row gone from an HR export). By default they are
	// disabled: a truncated export must not delete accounts.
	DeleteAbsent bool `json:"deleteAbsent,omitempty" yaml:"deleteAbsent,omitempty"`
	// DryRun computes and records every planned operation and pushes nothing.
	DryRun bool `json:"dryRun,omitempty" yaml:"dryRun,omitempty"`
	// AssignedGroups is "sync only assigned": only the members of these
	// source groups, named by ID or by name, are in scope, and of groups
	// only these. Scoping filters apply as well. Empty syncs all.
	AssignedGroups []string `json:"assignedGroups,omitempty" yaml:"assignedGroups,omitempty"`
	// FlattenNestedGroups makes the members of nested source groups direct
	// members of the groups that contain them, in the target and for
	// assignment. Otherwise a nested group is a member as itself.
	FlattenNestedGroups bool `json:"flattenNestedGroups,omitempty" yaml:"flattenNestedGroups,omitempty"`
}

// Defaults, chosen so that a batch's outcomes stay far below Temporal's
// payload limits (compressed, a thousand entries take about 100 KB; a
// batch whose entries pass the result budget leaves the rest to the next)
// and a cycle keeps a local target busy. Each batch costs the Temporal
// server about as much as a few hundred objects do, so batches are large.
const (
	DefaultBatchSize   = 1000
	DefaultBatches     = 4
	DefaultConcurrency = 8
	DefaultInterval    = 40 * time.Minute
)

// DeletionThreshold is the accidental-deletion guard, on unless set to
// "off": a cycle that would delete or disable Count objects or more, or,
// of one object type, more than Minimum objects that are more than
// Percent of those the job has linked in the target, provisions nothing
// until an operator approves (restart with ForceDeletes) or fixes the
// source or the scoping and restarts. A snapshot source that reads no
// object of a type the job has linked holds whatever the counts. The
// percentage is taken over what the job knows, never over what a cycle
// read: a delta source's quiet cycle with one leaver is one of many.
// Zero fields take the defaults, which are Azure's.
type DeletionThreshold struct {
	// Off turns the guard off; written `deletionThreshold: off`.
	Off     bool    `json:"-" yaml:"-"`
	Count   int     `json:"count,omitempty" yaml:"count,omitempty"`
	Percent float64 `json:"percent,omitempty" yaml:"percent,omitempty"`
	Minimum int     `json:"minimum,omitempty" yaml:"minimum,omitempty"`
}

// The deletion guard's defaults.
const (
	DefaultDeletionCount   = 500
	DefaultDeletionPercent = 20
	DefaultDeletionMinimum = 10
)

// deletionThresholdOff is how configuration turns the guard off.
const deletionThresholdOff = "off"

// WithDefaults returns the threshold in force: nil (not configured) is
// the default guard.
func (t *DeletionThreshold) WithDefaults() DeletionThreshold {
	var d DeletionThreshold
	if t != nil {
		d = *t
	}
	if d.Count <= 0 {
		d.Count = DefaultDeletionCount
	}
	if d.Percent <= 0 {
		d.Percent = DefaultDeletionPercent
	}
	if d.Minimum <= 0 {
		d.Minimum = DefaultDeletionMinimum
	}
	return d
}

// Removals is what a cycle would remove of one object type.
type Removals struct {
	Type string
	// Removals counts the linked objects the cycle would delete or disable.
	Removals int
	// Linked counts the objects the job has linked in the target.
	Linked int
	// ReadEmpty is set when a snapshot source read no object of the type.
	ReadEmpty bool
}

// Hold returns why a cycle's removals must wait for approval, or "" when
// they may go ahead.
func (t *DeletionThreshold) Hold(types []Removals) string {
	if t != nil && t.Off {
		return ""
	}
	g := t.WithDefaults()
	total := 0
	for _, r := range types {
		total += r.Removals
	}
	if total >= g.Count {
		return fmt.Sprintf("the cycle would delete or disable %d objects, at or over the threshold of %d", total, g.Count)
	}
	for _, r := range types {
		switch {
		case r.Removals == 0:
		case r.ReadEmpty:
			return fmt.Sprintf("the source returned no %s objects while the job has %d linked; the cycle would delete or disable %d of them", r.Type, r.Linked, r.Removals)
		case r.Removals > g.Minimum && float64(r.Removals)*100 > g.Percent*float64(r.Linked):
			return fmt.Sprintf("the cycle would delete or disable %d of the %d %s objects the job has linked (%.0f%%), over the threshold of %g%% (and more than %d)", r.Removals, r.Linked, r.Type, float64(r.Removals)*100/float64(max(r.Linked, 1)), g.Percent, g.Minimum)
		}
	}
	return ""
}

// LegacyExceeded is the guard as cycles recorded before the default guard
// evaluated it: only when configured, over the objects the cycle read.
// Replays of those histories decide as they did.
func (t *DeletionThreshold) LegacyExceeded(deleted, total int) bool {
	if t == nil || t.Off || deleted == 0 {
		return false
	}
	if t.Count > 0 && deleted > t.Count {
		return true
	}
	return t.Percent > 0 && total > 0 && float64(deleted)*100/float64(total) > t.Percent
}

// deletionThresholdFields is DeletionThreshold without its methods, to
// read and write the fields form.
type deletionThresholdFields DeletionThreshold

// MarshalJSON writes "off", or the fields.
func (t DeletionThreshold) MarshalJSON() ([]byte, error) {
	if t.Off {
		return json.Marshal(deletionThresholdOff)
	}
	return json.Marshal(deletionThresholdFields(t))
}

// UnmarshalJSON reads "off" (or false), or the fields.
func (t *DeletionThreshold) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if _, ok := v.(map[string]any); ok {
		return json.Unmarshal(b, (*deletionThresholdFields)(t))
	}
	return t.setOff(v)
}

// UnmarshalYAML reads `off` (or false), or the fields.
func (t *DeletionThreshold) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		return n.Decode((*deletionThresholdFields)(t))
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return err
	}
	return t.setOff(v)
}

// MarshalYAML writes off, or the fields.
func (t DeletionThreshold) MarshalYAML() (any, error) {
	if t.Off {
		return deletionThresholdOff, nil
	}
	return deletionThresholdFields(t), nil
}

func (t *DeletionThreshold) setOff(v any) error {
	if v == false || v == deletionThresholdOff {
		*t = DeletionThreshold{Off: true}
		return nil
	}
	return fmt.Errorf("deletionThreshold must be off, or count, percent and minimum; not %v", v)
}

// EscrowThreshold quarantines a job when a cycle's objects fail in
// numbers that say the target, not the data, is at fault. It is evaluated
// once Minimum objects failed: the job is quarantined when more than
// Percent of the objects the cycle provisioned failed, or more than Total
// did. Reference and membership failures count only towards Cap, which
// quarantines whatever the proportion. Zero fields take Azure's figures.
type EscrowThreshold struct {
	Minimum int     `json:"minimum,omitempty" yaml:"minimum,omitempty"`
	Percent float64 `json:"percent,omitempty" yaml:"percent,omitempty"`
	Total   int     `json:"total,omitempty" yaml:"total,omitempty"`
	Cap     int     `json:"cap,omitempty" yaml:"cap,omitempty"`
}

// Azure's escrow thresholds.
const (
	DefaultEscrowMinimum = 5000
	DefaultEscrowPercent = 40
	DefaultEscrowTotal   = 40000
	DefaultEscrowCap     = 60000
)

func (t EscrowThreshold) withDefaults() EscrowThreshold {
	if t.Minimum <= 0 {
		t.Minimum = DefaultEscrowMinimum
	}
	if t.Percent <= 0 {
		t.Percent = DefaultEscrowPercent
	}
	if t.Total <= 0 {
		t.Total = DefaultEscrowTotal
	}
	if t.Cap <= 0 {
		t.Cap = DefaultEscrowCap
	}
	return t
}

// Exceeded returns the quarantine reason, with Azure's name for it, when
// failed objects out of processed, plus failed references and
// memberships, pass the threshold; "" otherwise.
func (t EscrowThreshold) Exceeded(failed, processed, referenceFailed int) string {
	t = t.withDefaults()
	switch {
	case failed+referenceFailed > t.Cap:
		return fmt.Sprintf("EncounteredBaseEscrowThreshold: %d objects, references and memberships failed this cycle, over the cap of %d", failed+referenceFailed, t.Cap)
	case failed < t.Minimum:
		return ""
	case failed > t.Total:
		return fmt.Sprintf("EncounteredTotalEscrowThreshold: %d objects failed this cycle, over %d", failed, t.Total)
	case processed > 0 && float64(failed)*100/float64(processed) > t.Percent:
		return fmt.Sprintf("EncounteredEscrowProportionThreshold: %d of %d objects failed this cycle, over %g%%", failed, processed, t.Percent)
	}
	return ""
}

// DefaultDisableAfterQuarantine is how long a job may stay in quarantine.
const DefaultDisableAfterQuarantine = 28 * 24 * time.Hour

// WithDefaults returns the options with zero values replaced by defaults.
func (o Options) WithDefaults() Options {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Batches <= 0 {
		o.Batches = DefaultBatches
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.DisableAfterQuarantine <= 0 {
		o.DisableAfterQuarantine = Duration(DefaultDisableAfterQuarantine)
	}
	o.EscrowThreshold = o.EscrowThreshold.withDefaults()
	return o
}

// Duration is a time.Duration written as "40m" or "1h30m" in configuration.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a string duration.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"40m\": %w", err)
	}
	return d.parse(s)
}

// UnmarshalYAML reads a string duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error { return d.parse(n.Value) }

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// parse reads Go's duration syntax with days added, as in 7d or 1d12h:
// weekly jobs are common and 168h is hard to read.
func (d *Duration) parse(s string) error {
	invalid := fmt.Errorf("invalid duration %q: use units such as 30s, 40m, 24h, 7d", s)
	var days time.Duration
	rest := s
	if n, after, ok := strings.Cut(s, "d"); ok {
		v, err := strconv.ParseUint(n, 10, 16)
		if err != nil {
			return invalid
		}
		days, rest = time.Duration(v)*24*time.Hour, after
		if rest == "" {
			*d = Duration(days)
			return nil
		}
	}
	v, err := time.ParseDuration(rest)
	if err != nil || v < 0 && days > 0 {
		return invalid
	}
	*d = Duration(days + v)
	return nil
}

// Problem is one thing wrong with a configuration, at a field path such as
// `target.scim.baseURL`.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problems lists everything wrong with a configuration.
type Problems []Problem

func (p Problems) Error() string {
	lines := make([]string, len(p))
	for i, pr := range p {
		lines[i] = pr.Field + ": " + pr.Message
	}
	return strings.Join(lines, "\n")
}

// add records err as problems at field: the connectors.FieldErrors in it
// at their paths below field, the problems of a mapping.Problems at field
// with their own descriptions, and any other error as one problem at field.
func (p *Problems) add(field string, err error) {
	if err == nil {
		return
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			p.add(field, e)
		}
		return
	}
	var (
		fe  connectors.FieldError
		mps *mapping.Problems
	)
	switch {
	case errors.As(err, &fe):
		*p = append(*p, Problem{Field: connectors.FieldPath(field, fe.Field), Message: fe.Message})
	case errors.As(err, &mps):
		for _, mp := range *mps {
			*p = append(*p, Problem{Field: field, Message: mp.String()})
		}
	default:
		*p = append(*p, Problem{Field: field, Message: err.Error()})
	}
}

// Load reads a job configuration from a YAML or JSON file. Unknown fields are
// refused. Relative file paths inside it are taken from the file's folder.
func Load(path string) (*Job, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	job, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	job.resolvePaths(filepath.Dir(path))
	if err := job.expandAzureSchema(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return job, nil
}

// Parse decodes a job configuration, refusing unknown fields.
func Parse(b []byte) (*Job, error) {
	var job Job
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&job); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("invalid configuration: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return &job, nil
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Validate checks the whole configuration, secrets and source file included,
// and returns every problem found as Problems.
func (j *Job) Validate() error {
	var ps Problems
	add := ps.add
	if !namePattern.MatchString(j.Name) {
		add("name", fmt.Errorf("use lower-case letters, digits, '.', '_' or '-', at most 63 characters (required)"))
	}
	if j.Interval != 0 && time.Duration(j.Interval) < time.Second {
		add("interval", fmt.Errorf("must be at least 1s"))
	}
	if j.Schedule != nil {
		add("", j.Schedule.Validate())
	}
	j.validateConnections(add)
	if len(j.Objects) == 0 {
		add("objects", fmt.Errorf("map at least one object type (required)"))
	}
	for i, o := range j.Objects {
		field := fmt.Sprintf("objects[%d]", i)
		if _, err := mapping.Compile(o.ObjectMapping, mapping.Options{}); err != nil {
			add(field, err)
		}
		for k, w := range o.Writeback {
			if w.Target == "" || w.Source == "" {
				add(fmt.Sprintf("%s.writeback[%d]", field, k), fmt.Errorf("set both target and source"))
			}
		}
	}
	if t := j.Options.EscrowThreshold; t.Minimum < 0 || t.Total < 0 || t.Cap < 0 || t.Percent < 0 || t.Percent > 100 {
		add("options.escrowThreshold", fmt.Errorf("counts must not be negative and percent must be within 0-100"))
	}
	if t := j.Options.DeletionThreshold; t != nil && (t.Count < 0 || t.Minimum < 0 || t.Percent < 0 || t.Percent > 100) {
		add("options.deletionThreshold", fmt.Errorf("counts must not be negative and percent must be within 0-100"))
	}
	j.validateGroups(add)
	if len(ps) > 0 {
		return ps
	}
	return nil
}

// IntervalOrDefault returns the interval between incremental cycles.
func (j *Job) IntervalOrDefault() time.Duration {
	if j.Interval == 0 {
		return DefaultInterval
	}
	return time.Duration(j.Interval)
}

// MappingVersion fingerprints what decides the target state — mappings,
// scoping, assignment and target actions — so a change to them starts a new
// initial cycle.
func (j *Job) MappingVersion() string {
	var b []byte
	if len(j.Options.AssignedGroups) == 0 && !j.Options.FlattenNestedGroups {
		// Jobs without assignment keep the version they always had.
		b, _ = json.Marshal(j.Objects)
	} else {
		b, _ = json.Marshal(struct {
			Objects  []Object
			Assigned []string
			Flatten  bool
		}{j.Objects, j.Options.AssignedGroups, j.Options.FlattenNestedGroups})
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
