package activities

// Jobs name their connections by the keys the connectors register.
import _ "github.com/openprovisioning/provisioner/connectors/all"
