package codec_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/openprovisioning/provisioner/codec"
	"github.com/openprovisioning/provisioner/secrets"
)

// newKey returns an ID=KEY line with a fresh random key.
func newKey(id string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return id + "=" + base64.StdEncoding.EncodeToString(b)
}

func keys(t *testing.T, lines ...string) *codec.Keys {
	t.Helper()
	k, err := codec.ParseKeys(strings.Join(lines, "\n"), "test keys")
	require.NoError(t, err)
	return k
}

type person struct{ UserName, GivenName string }

var ada = person{UserName: "ada.lovelace@example.com", GivenName: "Ada"}

// A payload is compressed, then encrypted: neither the value nor its
// JSON encoding is left in it, and it decodes back.
func TestEncryptsAndDecodes(t *testing.T) {
	k := keys(t, newKey("k1"))
	dc := codec.Codec{Keys: k}.DataConverter()
	p, err := dc.ToPayload(ada)
	require.NoError(t, err)
	require.Equal(t, codec.Encoding, string(p.GetMetadata()[converter.MetadataEncoding]))
	require.Equal(t, "k1", string(p.GetMetadata()[codec.MetadataKeyID]))
	raw, err := proto.Marshal(p)
	require.NoError(t, err)
	for _, s := range []string{"ada.lovelace", "Ada", "json/plain"} {
		require.False(t, bytes.Contains(raw, []byte(s)), "the encoded payload holds %q", s)
	}
	var got person
	require.NoError(t, dc.FromPayload(p, &got))
	require.Equal(t, ada, got)

	// The same value encrypts differently every time (a fresh nonce).
	p2, err := dc.ToPayload(ada)
	require.NoError(t, err)
	require.NotEqual(t, p.GetData(), p2.GetData())
}

// Large repetitive payloads, such as a batch's log entries, shrink.
func TestCompressesBeforeEncrypting(t *testing.T) {
	k := keys(t, newKey("k1"))
	entries := make([]person, 500)
	for i := range entries {
		entries[i] = person{UserName: fmt.Sprintf("user%03d@example.com", i), GivenName: "Given"}
	}
	plain, err := converter.GetDefaultDataConverter().ToPayload(entries)
	require.NoError(t, err)
	enc, err := codec.Codec{Keys: k}.DataConverter().ToPayload(entries)
	require.NoError(t, err)
	require.Less(t, len(enc.GetData()), len(plain.GetData())/3)
}

// Keys rotate: with a new key added last, new payloads use it and old
// ones still decrypt with theirs; without the old key they do not, and
// the error names the missing key.
func TestKeyRotation(t *testing.T) {
	old, next := newKey("2024-01"), newKey("2025-06")
	before, err := codec.Codec{Keys: keys(t, old)}.DataConverter().ToPayload(ada)
	require.NoError(t, err)

	rotated := keys(t, old, next)
	require.Equal(t, "2025-06", rotated.Current())
	after, err := codec.Codec{Keys: rotated}.DataConverter().ToPayload(ada)
	require.NoError(t, err)
	require.Equal(t, "2025-06", string(after.GetMetadata()[codec.MetadataKeyID]))
	for _, p := range []*commonpb.Payload{before, after} {
		var got person
		require.NoError(t, codec.Codec{Keys: rotated}.DataConverter().FromPayload(p, &got))
		require.Equal(t, ada, got)
	}

	var got person
	err = codec.Codec{Keys: keys(t, next)}.DataConverter().FromPayload(before, &got)
	require.ErrorContains(t, err, `payload encrypted with key "2024-01", which is not among the codec keys (2025-06)`)
}

// A payload claiming another key than it was encrypted with, or whose
// data was changed, does not decrypt.
func TestRefusesTamperedPayloads(t *testing.T) {
	a, b := newKey("a"), newKey("b")
	k := keys(t, a, b)
	p, err := codec.Codec{Keys: keys(t, a)}.DataConverter().ToPayload(ada)
	require.NoError(t, err)

	relabelled := proto.Clone(p).(*commonpb.Payload)
	relabelled.Metadata[codec.MetadataKeyID] = []byte("b")
	var got person
	require.ErrorContains(t, codec.Codec{Keys: k}.DataConverter().FromPayload(relabelled, &got), `decrypt payload with key "b"`)

	flipped := proto.Clone(p).(*commonpb.Payload)
	flipped.Data[len(flipped.Data)-1] ^= 1
	require.ErrorContains(t, codec.Codec{Keys: k}.DataConverter().FromPayload(flipped, &got), `decrypt payload with key "a"`)
}

// Histories written before the codec was turned on still read.
func TestPlainPayloadsPassThrough(t *testing.T) {
	p, err := converter.GetDefaultDataConverter().ToPayload(ada)
	require.NoError(t, err)
	var got person
	require.NoError(t, codec.Codec{Keys: keys(t, newKey("k1"))}.DataConverter().FromPayload(p, &got))
	require.Equal(t, ada, got)
}

// Failure messages can name the object that failed: they are encoded too.
func TestFailureMessagesAreEncoded(t *testing.T) {
	k := keys(t, newKey("k1"))
	fc := codec.Codec{Keys: k}.FailureConverter()
	f := fc.ErrorToFailure(temporal.NewApplicationError("create user "+ada.UserName+": conflict", "Conflict"))
	raw, err := proto.Marshal(f)
	require.NoError(t, err)
	require.False(t, bytes.Contains(raw, []byte(ada.UserName)))
	require.Equal(t, "Conflict", f.GetApplicationFailureInfo().GetType(), "the error type stays readable for retry policies")

	var appErr *temporal.ApplicationError
	require.True(t, errors.As(fc.FailureToError(f), &appErr))
	require.Contains(t, appErr.Error(), "create user "+ada.UserName)
}

func TestParseKeys(t *testing.T) {
	k, err := codec.ParseKeys("# rotated yearly\n\n"+newKey("2024")+"\n"+newKey("2025")+" \n", "file keys")
	require.NoError(t, err)
	require.Equal(t, []string{"2024", "2025"}, k.IDs())
	k, err = codec.ParseKeys(newKey("a")+","+newKey("b"), "env")
	require.NoError(t, err)
	require.Equal(t, "b", k.Current())
	// Unpadded and URL-alphabet keys are read too.
	raw := make([]byte, 32)
	_, err = codec.ParseKeys("u="+base64.RawURLEncoding.EncodeToString(raw), "env")
	require.NoError(t, err)

	short := "k=" + base64.StdEncoding.EncodeToString([]byte("sixteen-byte-key"))
	for text, want := range map[string]string{
		"":                               "file keys holds no key",
		"# only a comment":               "file keys holds no key",
		"k1 " + newKey("")[1:]:           "file keys line 1: the key ID (before '=') must be",
		"nokey":                          "file keys line 1: write a key as ID=KEY",
		newKey("a") + "\n" + short:       `file keys line 2: key "k" is 16 bytes once base64-decoded; AES-256 needs 32`,
		"k=%%%%%%%%%%%%":                 `file keys line 1: key "k" is not base64`,
		newKey("d") + "\n" + newKey("d"): `file keys line 2: key ID "d" is listed twice`,
	} {
		_, err := codec.ParseKeys(text, "file keys")
		require.Error(t, err, text)
		require.Contains(t, err.Error(), strings.TrimSpace(want), text)
		if _, key, ok := strings.Cut(text, "="); ok && len(key) > 8 {
			require.NotContains(t, err.Error(), key[:8], "errors never show a key")
		}
	}
}

func TestLoadKeys(t *testing.T) {
	t.Setenv("CODEC_TEST_KEYS", newKey("env1"))
	k, err := codec.LoadKeys(secrets.Ref{Env: "CODEC_TEST_KEYS"})
	require.NoError(t, err)
	require.Equal(t, "env1", k.Current())
	_, err = codec.LoadKeys(secrets.Ref{Env: "CODEC_TEST_UNSET"})
	require.ErrorContains(t, err, "codec keys: secret is missing: environment variable CODEC_TEST_UNSET is not set")
}
