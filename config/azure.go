package config

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/mapping/azureschema"
)

// expandAzureSchema appends the object mappings of the Azure synchronization
// schema the configuration names (azureSchema: exported-schema.json), so a
// schema exported from Azure runs as it is. The workflow input then carries
// the mappings themselves, never a file name a worker cannot read.
func (j *Job) expandAzureSchema(dir string) error {
	if j.AzureSchema == "" {
		return nil
	}
	path := j.AzureSchema
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("azureSchema: %w", err)
	}
	oms, err := azureschema.Import(b)
	if err != nil {
		return fmt.Errorf("azureSchema %s: %w", j.AzureSchema, err)
	}
	for _, om := range oms {
		j.Objects = append(j.Objects, Object{ObjectMapping: om})
	}
	j.AzureSchema = ""
	return nil
}

// ExportAzureSchema writes the job's object mappings as an Azure
// synchronization schema document.
func (j *Job) ExportAzureSchema() ([]byte, error) {
	oms := make([]mapping.ObjectMapping, len(j.Objects))
	for i, o := range j.Objects {
		oms[i] = o.ObjectMapping
	}
	return azureschema.Export(oms, azureschema.ExportOptions{RuleName: j.Name, SourceDirectory: "Source", TargetDirectory: j.Target.Application})
}
