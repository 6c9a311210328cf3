// Package all registers every connector: a program that reads job
// configurations imports it for its side effects. A new connector is one
// package that registers itself and one import here.
package all

import (
	_ "github.com/openprovisioning/provisioner/connectors/file"
	_ "github.com/openprovisioning/provisioner/connectors/graph"
	_ "github.com/openprovisioning/provisioner/connectors/httpexport"
	_ "github.com/openprovisioning/provisioner/connectors/ldap"
	_ "github.com/openprovisioning/provisioner/connectors/scim"
)
