package httpexport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/file"
)

// origin downloads the report for the file source (file.Origin). It keeps
// the latest copy it downloaded, so that a read resumed on this worker or
// a record read on demand asks the server only whether the report changed.
type origin struct {
	url     string
	name    string // the URL for messages: no query
	format  string
	http    *retryablehttp.Client
	idle    *http.Transport
	secrets []string
	timeout time.Duration
	log     *logrus.Entry

	mu     sync.Mutex
	latest *download
}

var _ file.Origin = (*origin)(nil)

// download is a copy of the report on disk, unlinked, so nothing is left
// behind when the process ends.
type download struct {
	f         *os.File
	size      int64
	version   int64 // from the digest: the same bytes have the same version
	digest    string
	validator string
	refs      int // snapshots open on it; guarded by origin.mu
}

// errStalled ends a download that sent nothing for the time-out.
var errStalled = errors.New("the server sent nothing more")

// Validators as a watermark keeps them: the answer's ETag, or without one
// its Last-Modified date.
const (
	etagPrefix     = "etag:"
	modifiedPrefix = "modified:"
)

func (o *origin) Name() string { return o.name }

// Open asks for the report, conditionally when there is a version to
// compare with: last's (an unchanged report is then ErrUnchanged), or
// else the latest copy's (which an unchanged report then reuses). A
// report answered in full with last's bytes is ErrUnchanged too.
func (o *origin) Open(ctx context.Context, last file.Version) (file.Snapshot, error) {
	cached := o.useLatest()
	defer o.release(cached)
	cond, reuse := last.Validator, false
	if cond == "" && cached != nil && cached.validator != "" {
		cond, reuse = cached.validator, true
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	resp, err := o.get(ctx, cond)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		if reuse {
			return o.snapshot(cached), nil
		}
		o.log.Info("the report is unchanged (304 Not Modified)")
		return nil, file.ErrUnchanged
	}
	d, err := o.download(ctx, cancel, resp)
	if err != nil {
		return nil, err
	}
	snap := o.keep(d)
	o.log.WithField("bytes", d.size).Info("downloaded the report")
	if last.Digest != "" && d.digest == last.Digest {
		snap.Close()
		return nil, file.ErrUnchanged
	}
	return snap, nil
}

// Stream answers the report's first bytes on, for reading its columns:
// the latest copy's when the server says it is unchanged.
func (o *origin) Stream(ctx context.Context) (io.ReadCloser, error) {
	cached := o.useLatest()
	defer o.release(cached)
	cond := ""
	if cached != nil {
		cond = cached.validator
	}
	ctx, cancel := context.WithCancelCause(ctx)
	resp, err := o.get(ctx, cond)
	if err != nil {
		cancel(nil)
		return nil, err
	}
	if resp.StatusCode == http.StatusNotModified {
		resp.Body.Close()
		cancel(nil)
		snap := o.snapshot(cached)
		return struct {
			io.Reader
			io.Closer
		}{io.NewSectionReader(snap, 0, cached.size), snap}, nil
	}
	body, stop := o.watch(resp.Body, cancel)
	br := bufio.NewReaderSize(body, 64<<10)
	if err := o.checkAnswer(resp, br); err != nil {
		stop()
		resp.Body.Close()
		cancel(nil)
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{br, closer(func() error { stop(); err := resp.Body.Close(); cancel(nil); return err })}, nil
}

type closer func() error

func (c closer) Close() error { return c() }

// get sends the request, conditional on validator when it is set, and
// returns a 2xx or 304 answer; any other answer is an error naming the URL.
func (o *origin) get(ctx context.Context, validator string) (*http.Response, error) {
	op := "GET " + o.name
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, o.url, nil)
	if err != nil {
		return nil, &connectors.Error{Kind: connectors.KindInvalidRequest, Op: op, Detail: o.redact(err.Error())}
	}
	req.Header.Set("Accept", map[string]string{file.CSV: "text/csv", file.JSON: "application/json", file.JSONL: "application/x-ndjson"}[o.format]+", */*;q=0.1")
	switch {
	case strings.HasPrefix(validator, etagPrefix):
		req.Header.Set("If-None-Match", strings.TrimPrefix(validator, etagPrefix))
	case strings.HasPrefix(validator, modifiedPrefix):
		req.Header.Set("If-Modified-Since", strings.TrimPrefix(validator, modifiedPrefix))
	}
	resp, err := o.http.Do(req)
	if err != nil {
		return nil, o.transportError(ctx, op, err)
	}
	switch s := resp.StatusCode; {
	case s == http.StatusNotModified && validator != "":
		return resp, nil
	case s >= 200 && s < 300 && s != http.StatusNoContent:
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, o.statusError(op, resp)
}

// download copies the answer's body to an unlinked temporary file while
// hashing it. cancel ends the request when the body stalls.
func (o *origin) download(ctx context.Context, cancel context.CancelCauseFunc, resp *http.Response) (*download, error) {
	op := "GET " + o.name
	body, stop := o.watch(resp.Body, cancel)
	defer stop()
	br := bufio.NewReaderSize(body, 64<<10)
	if err := o.checkAnswer(resp, br); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "openprovisioning-report-*")
	if err != nil {
		return nil, &connectors.Error{Kind: connectors.KindUnavailable, Op: op, Detail: "a copy of the report cannot be kept: " + err.Error()}
	}
	// Unlinked at once, the copy lives as long as it is open. Where a
	// file cannot be removed while open, it stays in the temporary folder.
	_ = os.Remove(f.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), br)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("%d of the %d bytes the answer announced", n, resp.ContentLength)
	}
	if err != nil {
		f.Close()
		if cause := context.Cause(ctx); cause == errStalled {
			err = fmt.Errorf("%w for %s", cause, o.timeout)
		} else if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &connectors.Error{Kind: connectors.KindUnavailable, Op: op, Detail: o.redact(fmt.Sprintf("the download stopped after %d bytes: %v", n, err))}
	}
	sum := h.Sum(nil)
	d := &download{f: f, size: n, version: int64(binary.BigEndian.Uint64(sum)), digest: hex.EncodeToString(sum)}
	if etag := resp.Header.Get("ETag"); etag != "" {
		d.validator = etagPrefix + etag
	} else if lm := resp.Header.Get("Last-Modified"); lm != "" {
		d.validator = modifiedPrefix + lm
	}
	return d, nil
}

// watch cancels the request when its body sends nothing for the time-out;
// stop ends the watch.
func (o *origin) watch(body io.Reader, cancel context.CancelCauseFunc) (io.Reader, func()) {
	t := time.AfterFunc(o.timeout, func() { cancel(errStalled) })
	return &idleReader{r: body, t: t, d: o.timeout}, func() { t.Stop() }
}

type idleReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.t.Reset(r.d)
	return n, err
}

// checkAnswer refuses a body that is not the report: an HTML page (a login
// or error page answered 200), XML (a Workday report asked without
// format=json or format=csv), or text that does not begin as the format
// does. The rest of the body is checked as it is read.
func (o *origin) checkAnswer(resp *http.Response, br *bufio.Reader) error {
	op := "GET " + o.name
	incompatible := func(detail string) error {
		return &connectors.Error{Kind: connectors.KindServiceIncompatible, Op: op, Status: resp.StatusCode, Detail: detail}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/html" || mt == "application/xhtml+xml" {
		return incompatible(fmt.Sprintf("the answer is an HTML page (%s), not the %s report: a login page? Check the URL and the credentials", mt, o.format))
	}
	head, err := br.Peek(512)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return &connectors.Error{Kind: connectors.KindUnavailable, Op: op, Detail: o.redact("the answer could not be read: " + err.Error())}
	}
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\uFEFF")), " \t\r\n")
	if len(head) == 0 {
		return nil // the file source says what an empty export lacks
	}
	switch c := head[0]; {
	case c == '<':
		return incompatible(fmt.Sprintf("the answer is HTML or XML (%s), not the %s report: a login page, or a report asked for without format=%s?", excerpt(head), o.format, o.format))
	case o.format == file.JSON && c != '[' && c != '{', o.format == file.JSONL && c != '{':
		return incompatible(fmt.Sprintf("the answer does not begin as %s does: %s", strings.ToUpper(o.format), excerpt(head)))
	}
	return nil
}

// excerpt quotes the start of an answer for a message.
func excerpt(b []byte) string {
	const most = 60
	if len(b) > most {
		b = b[:most]
	}
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return fmt.Sprintf("%q…", strings.Join(strings.Fields(string(b)), " "))
}

// statusError describes an answer other than the report.
func (o *origin) statusError(op string, resp *http.Response) *connectors.Error {
	e := &connectors.Error{Kind: kindForStatus(resp.StatusCode), Op: op, Status: resp.StatusCode}
	if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
		e.Detail = fmt.Sprintf("redirected to %s, which is not followed (a login page?); use the report's own URL", redactURL(loc))
		return e
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	detail := http.StatusText(resp.StatusCode)
	if text := strings.Join(strings.Fields(string(b)), " "); text != "" && utf8.Valid(b) && !bytes.HasPrefix(bytes.TrimSpace(b), []byte("<")) {
		detail += ": " + text
	}
	e.Detail = o.redact(detail)
	return e
}

// transportError describes a request that got no answer.
func (o *origin) transportError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil && context.Cause(ctx) != errStalled {
		return ctx.Err()
	}
	kind := connectors.KindUnavailable
	var (
		te *tokenError
		ne net.Error
	)
	switch {
	case errors.As(err, &te) && te.refused:
		kind = connectors.KindUnauthorized
	case errors.As(err, &ne) && ne.Timeout():
		kind = connectors.KindTimeout
	}
	return &connectors.Error{Kind: kind, Op: op, Detail: o.redact(err.Error())}
}

// useLatest returns the latest copy, in use until released.
func (o *origin) useLatest() *download {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.latest != nil {
		o.latest.refs++
	}
	return o.latest
}

// release ends a use of d; a copy no longer the latest is closed after
// its last use.
func (o *origin) release(d *download) {
	if d == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	d.refs--
	if d.refs == 0 && d != o.latest {
		d.f.Close()
	}
}

// keep makes d the latest copy and returns a use of it; the copy before
// it is closed unless it is in use.
func (o *origin) keep(d *download) file.Snapshot {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.drop()
	o.latest = d
	d.refs++
	return &snapshot{o: o, d: d}
}

// drop forgets the latest copy, closing it unless it is in use; o.mu is held.
func (o *origin) drop() {
	if old := o.latest; old != nil && old.refs == 0 {
		old.f.Close()
	}
	o.latest = nil
}

// snapshot is a new use of d, until it is closed.
func (o *origin) snapshot(d *download) file.Snapshot {
	o.mu.Lock()
	defer o.mu.Unlock()
	d.refs++
	return &snapshot{o: o, d: d}
}

// close drops the latest copy and idle connections.
func (o *origin) close() {
	o.mu.Lock()
	o.drop()
	o.mu.Unlock()
	o.idle.CloseIdleConnections()
}

// snapshot is one use of a downloaded copy (file.Snapshot).
type snapshot struct {
	o    *origin
	d    *download
	once sync.Once
}

func (s *snapshot) ReadAt(p []byte, off int64) (int, error) { return s.d.f.ReadAt(p, off) }
func (s *snapshot) Stat() (int64, int64, error)             { return s.d.size, s.d.version, nil }
func (s *snapshot) Validator() string                       { return s.d.validator }

func (s *snapshot) Close() error {
	s.once.Do(func() { s.o.release(s.d) })
	return nil
}
