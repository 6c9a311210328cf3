package codec

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/openprovisioning/provisioner/secrets"
)

// Config is the codec's part of a worker's or starter's command line, set by
// their operator only: no job configuration reaches the keys.
type Config struct {
	// KeysFile and KeysEnv name where the keys are (codec-keys-file,
	// codec-keys-env); neither leaves the codec off.
	KeysFile, KeysEnv string
	// Listen is the codec server's host:port (codec-listen); the rest
	// configure it.
	Listen              string
	TokenFile, TokenEnv string
	Origins             string
	TLSCert, TLSKey     string
}

// FlagSet is what both the standard library's and cobra's flag sets offer.
type FlagSet interface {
	StringVar(p *string, name, value, usage string)
}

// Environment variables the key flags default to: the file's path, and
// the keys themselves.
const (
	EnvKeysFile = "PROVISIONING_CODEC_KEYS_FILE"
	EnvKeys     = "PROVISIONING_CODEC_KEYS"
)

// RegisterKeys registers the flags naming the keys.
func (c *Config) RegisterKeys(fs FlagSet) {
	keysEnv := ""
	if os.Getenv(EnvKeys) != "" {
		keysEnv = EnvKeys
	}
	fs.StringVar(&c.KeysFile, "codec-keys-file", os.Getenv(EnvKeysFile), "encrypt workflow history with the keys in this file: ID=KEY lines, KEY 32 random bytes in base64, oldest first; new payloads use the last (env "+EnvKeysFile+")")
	fs.StringVar(&c.KeysEnv, "codec-keys-env", keysEnv, "environment variable holding the codec keys as the file would, entries separated by newlines or commas ("+EnvKeys+" when it is set)")
}

// RegisterServer registers the codec server's flags.
func (c *Config) RegisterServer(fs FlagSet) {
	fs.StringVar(&c.Listen, "codec-listen", "", "serve the codec server (/encode and /decode, for the Web UI and the Temporal CLI) on this host:port; without codec keys it only decompresses")
	fs.StringVar(&c.TokenFile, "codec-token-file", "", "file holding the codec server's token, which requests must carry")
	fs.StringVar(&c.TokenEnv, "codec-token-env", "", "environment variable holding the codec server's token")
	fs.StringVar(&c.Origins, "codec-origins", "", "Web UI origins allowed to call the codec server from a browser, comma-separated, e.g. https://temporal-ui.example.com")
	fs.StringVar(&c.TLSCert, "codec-tls-cert", "", "serve the codec server over TLS with this certificate (PEM)")
	fs.StringVar(&c.TLSKey, "codec-tls-key", "", "the codec server certificate's private key (PEM)")
}

// Keys loads the keys; nil, the codec off, when none are named.
func (c Config) Keys() (*Keys, error) {
	switch {
	case c.KeysFile != "" && c.KeysEnv != "":
		return nil, errors.New("name the codec keys by codec-keys-file or codec-keys-env, not both")
	case c.KeysFile == "" && c.KeysEnv == "":
		return nil, nil
	}
	return LoadKeys(secrets.Ref{File: c.KeysFile, Env: c.KeysEnv})
}

// Serve starts the codec server, when Listen is set, until ctx ends; see
// Serve for fail.
func (c Config) Serve(ctx context.Context, keys *Keys, fail func(error)) (net.Addr, error) {
	if c.Listen == "" {
		return nil, nil
	}
	if c.TokenFile != "" && c.TokenEnv != "" {
		return nil, errors.New("name the codec server's token by codec-token-file or codec-token-env, not both")
	}
	token, err := secrets.Ref{File: c.TokenFile, Env: c.TokenEnv}.Resolve()
	if err != nil {
		return nil, fmt.Errorf("the codec server needs its token (codec-token-file or codec-token-env): %w", err)
	}
	h, err := Handler(ServerOptions{Keys: keys, Token: token, Origins: c.origins()})
	if err != nil {
		return nil, err
	}
	return Serve(ctx, c.Listen, c.TLSCert, c.TLSKey, h, fail)
}

func (c Config) origins() []string {
	var out []string
	for o := range strings.SplitSeq(c.Origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}
