// Package mapping turns source objects into target attributes: scoping
// filters decide which objects are provisioned, attribute mappings (direct,
// constant or an Azure-compatible expression) compute the target values, and
// matching attributes find existing target objects.
//
// Compile checks an ObjectMapping before anything runs and reports every
// problem at once; the resulting Program scopes (Scope, InScope) and maps
// (Map) objects without re-parsing. The expression language lives in
// package expression, scoping operators in package scoping, and Azure's
// synchronization schema JSON in package azureschema.
package mapping

// MappingType says how a target attribute gets its value.
type MappingType string

// Mapping types, as Azure names them.
const (
	Direct     MappingType = "Direct"
	Constant   MappingType = "Constant"
	Expression MappingType = "Expression"
	None       MappingType = "None"
)

// ApplyOn says when a mapping is applied.
type ApplyOn string

// ApplyOn values, as Azure's flowBehavior names them.
const (
	Always             ApplyOn = "Always"
	ObjectCreationOnly ApplyOn = "ObjectCreationOnly"
)

// AttributeMapping computes one target attribute.
type AttributeMapping struct {
	// Target is the target attribute path (`userName`,
	// `emails[type eq "work"].value`, `urn:...:enterprise:2.0:User:department`).
	Target string      `json:"target" yaml:"target"`
	Type   MappingType `json:"type" yaml:"type"`
	// Source is the source attribute of a Direct mapping.
	Source string `json:"source,omitempty" yaml:"source,omitempty"`
	// Value is the value of a Constant mapping.
	Value string `json:"value,omitempty" yaml:"value,omitempty"`
	// Expression is the expression of an Expression mapping.
	Expression string `json:"expression,omitempty" yaml:"expression,omitempty"`
	// DefaultValue is used when the computed value is null, on create only.
	DefaultValue string  `json:"defaultValue,omitempty" yaml:"defaultValue,omitempty"`
	ApplyOn      ApplyOn `json:"applyOn,omitempty" yaml:"applyOn,omitempty"`
	// MatchingPriority > 0 makes this a matching attribute; 1 is tried first.
	MatchingPriority int `json:"matchingPriority,omitempty" yaml:"matchingPriority,omitempty"`
	// Reference names the object type (User, Group) whose source ID the
	// mapped value is, as a manager's employee ID is. The provisioning
	// engine writes the referenced object's target ID instead, once that
	// object is provisioned.
	Reference string `json:"reference,omitempty" yaml:"reference,omitempty"`
}

// Clause is one condition of a scoping filter group.
type Clause struct {
	Attribute string `json:"attribute" yaml:"attribute"`
	Operator  string `json:"operator" yaml:"operator"`
	Value     string `json:"value,omitempty" yaml:"value,omitempty"`
}

// FilterGroup holds clauses that must all pass.
type FilterGroup struct {
	// Name is the filter's title, shown when scope is explained.
	Name    string   `json:"name,omitempty" yaml:"name,omitempty"`
	Clauses []Clause `json:"clauses" yaml:"clauses"`
}

// ScopingFilter holds filter groups of which one must pass. No groups means
// every object is in scope.
type ScopingFilter struct {
	Groups []FilterGroup `json:"groups,omitempty" yaml:"groups,omitempty"`
}

// ObjectMapping maps one source object type to one target object type.
type ObjectMapping struct {
	Name         string             `json:"name,omitempty" yaml:"name,omitempty"`
	SourceObject string             `json:"sourceObject" yaml:"sourceObject"`
	TargetObject string             `json:"targetObject" yaml:"targetObject"`
	Scope        ScopingFilter      `json:"scope,omitempty" yaml:"scope,omitempty"`
	Attributes   []AttributeMapping `json:"attributes" yaml:"attributes"`
}
