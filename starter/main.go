// Command starter is the operators' command-line client: it validates job
// configurations, starts jobs, sends them signals, reports their status,
// previews a cycle, lists provisioning logs and replays recorded histories.
// Exit codes: 0 success, 1 failure, 2 invalid configuration or usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/openprovisioning/provisioner/codec"
	"github.com/openprovisioning/provisioner/config"
	_ "github.com/openprovisioning/provisioner/connectors/all"
	"github.com/openprovisioning/provisioner/internal/temporalx"
)

// Exit codes scripts can rely on.
const (
	exitFailure = 1
	exitInvalid = 2
)

// invalidError marks errors that exit with exitInvalid.
type invalidError struct{ err error }

func (e invalidError) Error() string { return e.err.Error() }

// globals are the connection flags; dial resolves them against Temporal's
// environment configuration, so that commands read the namespace in use.
type globals struct {
	address   string
	namespace string
	// codec names the payload codec's keys, which encrypted histories
	// need both ways.
	codec codec.Config
}

func main() {
	g := &globals{}
	root := &cobra.Command{
		Use:           "starter",
		Short:         "Start and steer provisioning jobs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.address, "address", "", temporalx.AddressHelp)
	root.PersistentFlags().StringVar(&g.namespace, "namespace", "", temporalx.NamespaceHelp)
	g.codec.RegisterKeys(root.PersistentFlags())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return invalidError{err} })
	root.AddCommand(validateCmd(), exportCmd(), startCmd(g), updateCmd(g), statusCmd(g), previewCmd(g), onDemandCmd(g), rollbackCmd(g), connectionsCmd(g), testConnectionCmd(g), escrowsCmd(g), logsCmd(g), reportCmd(g), replayCmd(g), codecServerCmd(g))
	for _, s := range signalCommands {
		root.AddCommand(signalCmd(g, s))
	}
	// Ctrl-C cancels the command's context: a watch ends cleanly and a
	// preview stops its workflow.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starter:", withCodecHint(err))
		var inv invalidError
		if errors.As(err, &inv) {
			os.Exit(exitInvalid)
		}
		os.Exit(exitFailure)
	}
}

// loadValid loads and validates a configuration file, printing every problem.
func loadValid(path string) (*config.Job, error) {
	job, err := config.Load(path)
	if err != nil {
		return nil, invalidError{err}
	}
	if err := job.Validate(); err != nil {
		return nil, invalidError{fmt.Errorf("%s is invalid:\n%w", path, err)}
	}
	return job, nil
}

func validateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate CONFIG",
		Short: "Check a job configuration and print every problem",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			job, err := loadValid(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: job %q is valid (%d object mappings, mapping version %s)\n", args[0], job.Name, len(job.Objects), job.MappingVersion())
			return nil
		},
	}
}

// jobName takes a job name, or the name inside a configuration file.
func jobName(arg string) (string, error) {
	if st, err := os.Stat(arg); err == nil && !st.IsDir() {
		job, err := config.Load(arg)
		if err != nil {
			return "", invalidError{err}
		}
		return job.Name, nil
	}
	return arg, nil
}
