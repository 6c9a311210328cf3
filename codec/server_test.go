package codec_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/openprovisioning/provisioner/codec"
)

const (
	testToken = "codec-test-token-0123456789"
	uiOrigin  = "http://127.0.0.1:8233"
)

func codecServer(t *testing.T, k *codec.Keys) *httptest.Server {
	t.Helper()
	h, err := codec.Handler(codec.ServerOptions{Keys: k, Token: testToken, Origins: []string{uiOrigin + "/"}})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// The SDK's remote codec, as the Temporal CLI uses it with --codec-auth,
// and the Web UI's way, the token in the endpoint's path, both decode
// what the workers encoded, and encode as the workers do.
func TestServerDecodesForTheCLIAndTheWebUI(t *testing.T) {
	k := keys(t, newKey("k1"))
	srv := codecServer(t, k)
	p, err := codec.Codec{Keys: k}.DataConverter().ToPayload(ada)
	require.NoError(t, err)

	for name, opts := range map[string]converter.RemotePayloadCodecOptions{
		"bearer": {Endpoint: srv.URL, ModifyRequest: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+testToken)
			return nil
		}},
		"path": {Endpoint: srv.URL + "/" + testToken},
	} {
		t.Run(name, func(t *testing.T) {
			dc := converter.NewRemoteDataConverter(converter.GetDefaultDataConverter(), converter.RemoteDataConverterOptions{Endpoint: opts.Endpoint, ModifyRequest: opts.ModifyRequest})
			var got person
			require.NoError(t, dc.FromPayload(p, &got))
			require.Equal(t, ada, got)

			enc, err := dc.ToPayload(ada)
			require.NoError(t, err)
			require.Equal(t, codec.Encoding, string(enc.GetMetadata()[converter.MetadataEncoding]))
			got = person{}
			require.NoError(t, codec.Codec{Keys: k}.DataConverter().FromPayload(enc, &got))
			require.Equal(t, ada, got)
		})
	}
}

func TestServerRefusesRequestsWithoutTheToken(t *testing.T) {
	k := keys(t, newKey("k1"))
	srv := codecServer(t, k)
	p, err := codec.Codec{Keys: k}.DataConverter().ToPayload(ada)
	require.NoError(t, err)
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	require.NoError(t, err)

	for name, req := range map[string]func() *http.Request{
		"no token":    func() *http.Request { return post(t, srv.URL+"/decode", body) },
		"wrong token": func() *http.Request { return bearer(post(t, srv.URL+"/decode", body), "wrong-token-0123456789") },
		"wrong path":  func() *http.Request { return post(t, srv.URL+"/"+testToken[:len(testToken)-1]+"/decode", body) },
		"token after": func() *http.Request { return post(t, srv.URL+"/default/"+testToken+"/decode", body) },
	} {
		resp := do(t, req())
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, name)
		require.NotContains(t, resp.body, "ada.lovelace", name)
	}

	resp := do(t, bearer(post(t, srv.URL+"/decode", body), testToken))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.body, `"data"`)
}

// Browsers may call the server only from the Web UI's origin: its
// preflight is answered without the token, others are refused.
func TestServerCORS(t *testing.T) {
	srv := codecServer(t, keys(t, newKey("k1")))

	pre, err := http.NewRequest(http.MethodOptions, srv.URL+"/"+testToken+"/decode", nil)
	require.NoError(t, err)
	pre.Header.Set("Origin", uiOrigin)
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace")
	resp := do(t, pre)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "X-Namespace")

	req := post(t, srv.URL+"/"+testToken+"/decode", []byte(`{"payloads":[]}`))
	req.Header.Set("Origin", uiOrigin)
	resp = do(t, req)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))

	for _, method := range []string{http.MethodOptions, http.MethodPost} {
		req, err := http.NewRequest(method, srv.URL+"/"+testToken+"/decode", strings.NewReader(`{"payloads":[]}`))
		require.NoError(t, err)
		req.Header.Set("Origin", "https://elsewhere.example")
		resp := do(t, req)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, method)
		require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// Without keys, the server decompresses what a worker without keys wrote,
// so that the Web UI shows batch results; encrypted payloads stay as they
// are, and the token is still required.
func TestServerDecompressesWithoutKeys(t *testing.T) {
	srv := codecServer(t, nil)
	want := batch(250)
	big, err := codec.Codec{}.DataConverter().ToPayload(want)
	require.NoError(t, err)
	require.Equal(t, codec.EncodingZstd, string(big.GetMetadata()[converter.MetadataEncoding]))
	sealed, err := codec.Codec{Keys: keys(t, newKey("k1"))}.DataConverter().ToPayload(ada)
	require.NoError(t, err)
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{big, sealed}})
	require.NoError(t, err)

	resp := do(t, post(t, srv.URL+"/decode", body))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	resp = do(t, post(t, srv.URL+"/"+testToken+"/decode", body))
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.body)
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(resp.body), &out))
	require.Len(t, out.GetPayloads(), 2)
	require.Equal(t, converter.MetadataEncodingJSON, string(out.GetPayloads()[0].GetMetadata()[converter.MetadataEncoding]))
	var got batchResult
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(out.GetPayloads()[0], &got), "the Web UI reads it as plain JSON")
	require.Equal(t, want, got)
	require.Equal(t, codec.Encoding, string(out.GetPayloads()[1].GetMetadata()[converter.MetadataEncoding]))
}

func TestHandlerOptions(t *testing.T) {
	k := keys(t, newKey("k1"))
	for _, o := range []struct {
		opts codec.ServerOptions
		want string
	}{
		{codec.ServerOptions{Keys: k, Token: "short"}, "token is 5 characters; use at least 16"},
		{codec.ServerOptions{Keys: k, Token: testToken, Origins: []string{"127.0.0.1:8233"}}, `origin "127.0.0.1:8233": write it as scheme://host[:port]`},
		{codec.ServerOptions{Keys: k, Token: testToken, Origins: []string{"http://ui.example/namespaces"}}, `origin "http://ui.example/namespaces"`},
	} {
		_, err := codec.Handler(o.opts)
		require.ErrorContains(t, err, o.want)
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := codec.Serve(ctx, "127.0.0.1:0", "cert.pem", "", http.NotFoundHandler(), func(error) {})
	require.ErrorContains(t, err, "needs both a certificate and its key")
	_, err = codec.Serve(ctx, "127.0.0.1:0", "missing.pem", "missing-key.pem", http.NotFoundHandler(), func(error) {})
	require.ErrorContains(t, err, "codec server certificate")
	addr, err := codec.Serve(ctx, "127.0.0.1:0", "", "", http.NotFoundHandler(), func(err error) { t.Error(err) })
	require.NoError(t, err)
	_, err = codec.Serve(ctx, addr.String(), "", "", http.NotFoundHandler(), func(error) {})
	require.ErrorContains(t, err, "address already in use")
}

func post(t *testing.T, url string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	return req
}

func bearer(r *http.Request, token string) *http.Request {
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

type response struct {
	*http.Response
	body string
}

func do(t *testing.T, r *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{resp, string(b)}
}
