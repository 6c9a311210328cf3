package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/converter"

	"github.com/openprovisioning/provisioner/codec"
)

func codecServerCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "codec-server",
		Short: "Serve the payload codec to the Web UI and the Temporal CLI, until interrupted",
		Long: `Serve /encode and /decode, as Temporal's codec server protocol has them, so
that the Web UI and "temporal workflow show --codec-endpoint" show the
compressed and encrypted histories decoded: without codec keys it only
decompresses. Point the Web UI at it with the dev server's
--ui-codec-endpoint, or the UI's TEMPORAL_CODEC_ENDPOINT. Every request must carry the token, as
"Authorization: Bearer TOKEN" or as the endpoint's first path segment (the
Web UI's codec endpoint is then http(s)://HOST:PORT/TOKEN); browsers may call
only from --codec-origins. A worker serves the same with -codec-listen.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.codec.Listen == "" {
				return invalidError{fmt.Errorf("name the address to listen on with --codec-listen")}
			}
			keys, err := g.codec.Keys()
			if err != nil {
				return invalidError{err}
			}
			failed := make(chan error, 1)
			addr, err := g.codec.Serve(cmd.Context(), keys, func(err error) { failed <- err })
			if err != nil {
				return err
			}
			if keys == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "codec server listening on %s (decompresses; no keys, so encrypted payloads stay encrypted)\n", addr)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "codec server listening on %s (keys %v, new payloads under %s)\n", addr, keys.IDs(), keys.Current())
			}
			select {
			case <-cmd.Context().Done():
				return nil
			case err := <-failed:
				return err
			}
		},
	}
	g.codec.RegisterServer(cmd.Flags())
	return cmd
}

// withCodecHint says what is missing when a payload was encrypted by the
// codec and no keys were given to decode it.
func withCodecHint(err error) error {
	if errors.Is(err, converter.ErrEncodingIsNotSupported) && strings.Contains(err.Error(), codec.Encoding) && !strings.Contains(err.Error(), "codec keys") {
		return fmt.Errorf("%w: the job's payloads are encrypted; give the codec keys (--codec-keys-file or --codec-keys-env, or %s)", err, codec.EnvKeysFile)
	}
	return err
}
