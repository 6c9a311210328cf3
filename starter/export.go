package main

import (
	"github.com/spf13/cobra"
)

func exportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "export CONFIG",
		Short: "Print a job's mappings and scoping filters as an Azure synchronization schema (JSON)",
		Long: `Print a job's object mappings, scoping filters and attribute mappings in the
shape of Azure's synchronization schema. A configuration takes such a schema
back with "azureSchema: FILE".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			job, err := loadValid(args[0])
			if err != nil {
				return err
			}
			b, err := job.ExportAzureSchema()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(append(b, '\n'))
			return err
		},
	}
}
