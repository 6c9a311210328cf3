package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/openprovisioning/provisioner/codec"
)

// `starter codec-server` without keys serves the Web UI the compressed
// payloads decompressed.
func TestCodecServerWithoutKeys(t *testing.T) {
	const token = "codec-server-test-token-0123"
	t.Setenv("CODEC_SERVER_TEST_TOKEN", token)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	cmd := codecServerCmd(&globals{})
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--codec-listen", addr, "--codec-token-env", "CODEC_SERVER_TEST_TOKEN"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	entries := make([]map[string]string, 200)
	for i := range entries {
		entries[i] = map[string]string{"userName": "person@example.com", "action": "Create", "status": "Success"}
	}
	p, err := codec.Codec{}.DataConverter().ToPayload(map[string]any{"entries": entries})
	require.NoError(t, err)
	require.Equal(t, codec.EncodingZstd, string(p.GetMetadata()[converter.MetadataEncoding]))
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	require.NoError(t, err)

	var resp *http.Response
	require.Eventually(t, func() bool {
		resp, err = http.Post("http://"+addr+"/"+token+"/decode", "application/json", strings.NewReader(string(body)))
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var decoded commonpb.Payloads
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	require.NoError(t, err)
	require.NoError(t, protojson.Unmarshal(b.Bytes(), &decoded))
	require.Equal(t, converter.MetadataEncodingJSON, string(decoded.GetPayloads()[0].GetMetadata()[converter.MetadataEncoding]))
	require.Contains(t, string(decoded.GetPayloads()[0].GetData()), "person@example.com")

	cancel()
	require.NoError(t, <-done)
	require.Contains(t, out.String(), "decompresses; no keys")
}
