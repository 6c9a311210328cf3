package activities

import (
	"sort"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
)

// Changes and properties are sorted so requests and log entries are stable.
func sortChanges(c []connectors.Change) {
	sort.Slice(c, func(i, j int) bool { return c[i].Attribute < c[j].Attribute })
}

func sortProperties(p []audit.Property) {
	sort.Slice(p, func(i, j int) bool { return p[i].Name < p[j].Name })
}
