package codec_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/codec"
)

func TestConfigKeys(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(file, []byte(newKey("f1")+"\n"), 0o600))
	t.Setenv(codec.EnvKeysFile, "")
	t.Setenv(codec.EnvKeys, "")

	k, err := codec.Config{}.Keys()
	require.NoError(t, err)
	require.Nil(t, k, "no keys named: no encryption")
	k, err = codec.Config{Listen: "127.0.0.1:0"}.Keys()
	require.NoError(t, err, "the codec server decompresses without keys")
	require.Nil(t, k)
	_, err = codec.Config{KeysFile: file, KeysEnv: "X"}.Keys()
	require.ErrorContains(t, err, "not both")

	// The flags default to the environment: a file's path, or the keys.
	t.Setenv(codec.EnvKeys, newKey("e1"))
	var c codec.Config
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	c.RegisterKeys(fs)
	require.NoError(t, fs.Parse(nil))
	k, err = c.Keys()
	require.NoError(t, err)
	require.Equal(t, "e1", k.Current())

	t.Setenv(codec.EnvKeys, "")
	t.Setenv(codec.EnvKeysFile, file)
	c = codec.Config{}
	fs = flag.NewFlagSet("worker", flag.ContinueOnError)
	c.RegisterKeys(fs)
	require.NoError(t, fs.Parse(nil))
	k, err = c.Keys()
	require.NoError(t, err)
	require.Equal(t, "f1", k.Current())
}

func TestConfigServe(t *testing.T) {
	k := keys(t, newKey("k1"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := codec.Config{}.Serve(ctx, k, nil)
	require.NoError(t, err)
	require.Nil(t, addr, "no codec-listen, no server")

	t.Setenv("CODEC_TEST_TOKEN", testToken)
	_, err = codec.Config{Listen: "127.0.0.1:0"}.Serve(ctx, k, nil)
	require.ErrorContains(t, err, "the codec server needs its token (codec-token-file or codec-token-env)")
	_, err = codec.Config{Listen: "127.0.0.1:0", TokenEnv: "CODEC_TEST_TOKEN", Origins: "http://ui.example, 127.0.0.1:8233"}.Serve(ctx, k, nil)
	require.ErrorContains(t, err, `origin "127.0.0.1:8233"`)
	addr, err = codec.Config{Listen: "127.0.0.1:0", TokenEnv: "CODEC_TEST_TOKEN", Origins: "http://ui.example, http://127.0.0.1:8233"}.Serve(ctx, k, func(err error) { t.Error(err) })
	require.NoError(t, err)
	require.NotNil(t, addr)
}
