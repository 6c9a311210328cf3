package codec

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"
)

// MinTokenLength is the shortest codec server token accepted.
const MinTokenLength = 16

// maxBody bounds a request: the Web UI sends an event's payloads at a time,
// each under Temporal's 2 MB blob limit.
const maxBody = 16 << 20

// ServerOptions configure the codec server.
type ServerOptions struct {
	// Keys decrypt; without them the server only decompresses, which is
	// what the Web UI needs to show compressed payloads.
	Keys *Keys
	// Token authorizes a request, as "Authorization: Bearer TOKEN" (the
	// Temporal CLI's --codec-auth) or as the first segment of the path, for
	// a Web UI that sends no header: its codec endpoint is then
	// https://HOST/TOKEN, and it posts to https://HOST/TOKEN/decode.
	Token string
	// Origins are the Web UIs' origins (scheme://host:port) whose pages may
	// call the server from a browser; requests from other pages are refused.
	Origins []string
}

// Handler serves /encode and /decode as Temporal's codec server protocol
// has them: Payloads in protobuf JSON, the endpoint told by the path's last
// segment. Every request must carry the token; browsers' requests must
// come from an allowed origin.
func Handler(o ServerOptions) (http.Handler, error) {
	if len(o.Token) < MinTokenLength {
		return nil, fmt.Errorf("the codec server's token is %d characters; use at least %d (openssl rand -hex 16)", len(o.Token), MinTokenLength)
	}
	origins := make([]string, len(o.Origins))
	for i, origin := range o.Origins {
		u, err := url.Parse(origin)
		if err != nil || u.Scheme == "" || u.Host == "" || strings.TrimRight(u.Path, "/") != "" {
			return nil, fmt.Errorf("codec server origin %q: write it as scheme://host[:port], as the Web UI's address bar shows it", origin)
		}
		origins[i] = u.Scheme + "://" + u.Host
	}
	return &server{codec: converter.NewPayloadCodecHTTPHandler(Codec{Keys: o.Keys}.Codecs()...), token: sha256.Sum256([]byte(o.Token)), origins: origins}, nil
}

type server struct {
	codec   http.Handler
	token   [sha256.Size]byte
	origins []string
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" {
		if !slices.Contains(s.origins, origin) {
			http.Error(w, "origin "+origin+" may not use this codec server", http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Authorization-Extras, Content-Type, X-Namespace")
		h.Set("Access-Control-Max-Age", "600")
		h.Add("Vary", "Origin")
	}
	// A browser's preflight carries no credentials; the request after it does.
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	path, ok := s.authorized(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="codec"`)
		http.Error(w, "unauthorized: send the codec server's token as Authorization: Bearer TOKEN, or as the endpoint's first path segment", http.StatusUnauthorized)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = path
	r2.Body = http.MaxBytesReader(w, r.Body, maxBody)
	s.codec.ServeHTTP(w, r2)
}

// authorized checks the request's token and returns its path without the
// token segment, if that is where the token was.
func (s *server) authorized(r *http.Request) (string, bool) {
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.matches(bearer) {
		return r.URL.Path, true
	}
	first, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if s.matches(first) {
		return "/" + rest, true
	}
	return "", false
}

// matches compares in constant time; hashing first hides the length too.
func (s *server) matches(token string) bool {
	sum := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(sum[:], s.token[:]) == 1
}

// Serve serves h on addr until ctx ends, with TLS when certFile and
// keyFile are given. It returns once the address is bound and the
// certificate read, so that either is an error at start-up; a later
// failure goes to fail.
func Serve(ctx context.Context, addr, certFile, keyFile string, h http.Handler, fail func(error)) (net.Addr, error) {
	var tc *tls.Config
	switch {
	case certFile != "" && keyFile != "":
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("codec server certificate: %w", err)
		}
		tc = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case certFile != "" || keyFile != "":
		return nil, errors.New("the codec server's TLS needs both a certificate and its key")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("codec server: %w", err)
	}
	if tc != nil {
		l = tls.NewListener(l, tc)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			fail(fmt.Errorf("codec server: %w", err))
		}
	}()
	return l.Addr(), nil
}
