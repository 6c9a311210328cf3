// Package azureschema imports and exports mapping configuration in the
// shape of Azure's synchronization schema (Microsoft Graph
// synchronizationSchema, as downloaded from "Review your schema" in the
// Entra admin center or read with GET …/jobs/{jobId}/schema), so a team can
// bring its Azure attribute mappings and scoping filters as they are.
//
// Import reads synchronizationRules → objectMappings: the scope's filter
// groups and clauses (sourceOperandName, operatorName, targetOperand), and
// attributeMappings with their source (Attribute, Constant or Function
// trees, which become expression text), flowType, matchingPriority and
// defaultValue. Export writes []mapping.ObjectMapping back in that shape,
// as one synchronization rule.
//
// Not supported:
//   - directories: attribute definitions (types, anchor, caseExact,
//     mutability, required, multivalued, referencedObjects, apiExpressions)
//     are not imported, except that SourceAttributes lists a directory's
//     attribute names for validation; Export writes no directories.
//   - flowType MultiValueAddOnly is rejected; flowBehavior is ignored (this
//     service always compares and writes only values that changed) and is
//     exported as FlowWhenChanged.
//   - objectMapping flowTypes (Add, Update, Delete) and metadata (such as
//     EscrowBehavior) are ignored on import; target actions belong to the
//     job configuration. Export writes "Add, Update, Delete".
//   - disabled object mappings (enabled: false) are skipped.
//   - scope inputFilterGroups and categoryFilterGroups (experimental in
//     Azure) are rejected, as are clauses with more than one target value.
//   - exportMissingReferences, rule ids, priorities, editable flags and the
//     schema id and version are neither kept nor exported.
//   - Function sources whose expression text is missing are rebuilt from
//     the tree, placing parameters by their documented names; comparisons
//     inside IIF are written as Function nodes named after the operator
//     ("=", "<>"…) with parameters "left" and "right", a convention of this
//     package since Azure does not document one.
package azureschema

// Schema is a synchronization schema.
type Schema struct {
	ID                   string      `json:"id,omitempty"`
	Version              string      `json:"version,omitempty"`
	Directories          []Directory `json:"directories,omitempty"`
	SynchronizationRules []Rule      `json:"synchronizationRules"`
}

// Directory describes the objects of one side of the synchronization.
type Directory struct {
	ID      string             `json:"id,omitempty"`
	Name    string             `json:"name"`
	Objects []ObjectDefinition `json:"objects,omitempty"`
}

// ObjectDefinition is one object type of a directory.
type ObjectDefinition struct {
	Name       string                `json:"name"`
	Attributes []AttributeDefinition `json:"attributes,omitempty"`
}

// AttributeDefinition is one attribute of an object type. Name is used,
// and ReferencedObjects, which make a mapping that reads the attribute a
// reference (a user's manager).
type AttributeDefinition struct {
	Name              string             `json:"name"`
	Type              string             `json:"type,omitempty"`
	Multivalued       bool               `json:"multivalued,omitempty"`
	ReferencedObjects []ReferencedObject `json:"referencedObjects,omitempty"`
}

// ReferencedObject names the object type a reference attribute points to.
type ReferencedObject struct {
	ReferencedObjectName string `json:"referencedObjectName"`
}

// Rule is a synchronization rule: a source and target directory and the
// object mappings between them.
type Rule struct {
	ID                  string          `json:"id,omitempty"`
	Name                string          `json:"name,omitempty"`
	SourceDirectoryName string          `json:"sourceDirectoryName,omitempty"`
	TargetDirectoryName string          `json:"targetDirectoryName,omitempty"`
	ObjectMappings      []ObjectMapping `json:"objectMappings"`
}

// ObjectMapping maps one source object type to one target object type.
type ObjectMapping struct {
	Name              string             `json:"name"`
	Enabled           *bool              `json:"enabled,omitempty"`
	FlowTypes         string             `json:"flowTypes,omitempty"`
	SourceObjectName  string             `json:"sourceObjectName"`
	TargetObjectName  string             `json:"targetObjectName"`
	Metadata          []KeyValue         `json:"metadata"`
	Scope             *Filter            `json:"scope"`
	AttributeMappings []AttributeMapping `json:"attributeMappings"`
}

// KeyValue is a metadata entry.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Filter is an object mapping's scope.
type Filter struct {
	Groups               []FilterGroup `json:"groups"`
	InputFilterGroups    []FilterGroup `json:"inputFilterGroups,omitempty"`
	CategoryFilterGroups []FilterGroup `json:"categoryFilterGroups,omitempty"`
}

// FilterGroup is a named group of clauses that must all pass.
type FilterGroup struct {
	Name    string         `json:"name"`
	Clauses []FilterClause `json:"clauses"`
}

// FilterClause is one condition.
type FilterClause struct {
	OperatorName      string         `json:"operatorName"`
	SourceOperandName string         `json:"sourceOperandName"`
	TargetOperand     *FilterOperand `json:"targetOperand"`
}

// FilterOperand holds a clause's values.
type FilterOperand struct {
	Values []string `json:"values"`
}

// AttributeMapping computes one target attribute.
type AttributeMapping struct {
	TargetAttributeName     string  `json:"targetAttributeName"`
	DefaultValue            *string `json:"defaultValue"`
	FlowBehavior            string  `json:"flowBehavior,omitempty"`
	FlowType                string  `json:"flowType,omitempty"`
	MatchingPriority        int     `json:"matchingPriority"`
	ExportMissingReferences bool    `json:"exportMissingReferences"`
	Source                  *Source `json:"source"`
}

// Source is an attributeMappingSource: an attribute, a constant, or a
// function call with parameters.
type Source struct {
	Expression string      `json:"expression,omitempty"`
	Name       string      `json:"name"`
	Type       string      `json:"type"`
	Parameters []Parameter `json:"parameters"`
}

// Source types.
const (
	SourceAttribute = "Attribute"
	SourceConstant  = "Constant"
	SourceFunction  = "Function"
)

// Parameter is a named function argument.
type Parameter struct {
	Key   string  `json:"key"`
	Value *Source `json:"value"`
}
