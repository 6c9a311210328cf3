package chromium

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Recording is what a page opened with OpenRecorded did: what it wrote to
// its console and the requests it made, from before it began to load.
type Recording struct {
	mu       sync.Mutex
	console  []string
	requests []string
}

// Problems returns the page's console errors and warnings, its uncaught
// exceptions and the browser's error and warning log entries for it
// (a resource that failed to load, a blocked request), as "level: text".
func (r *Recording) Problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.console)
}

// Requests returns the URL of every request the page made, the page's own
// first.
func (r *Recording) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests)
}

// record keeps an event of interest; it runs on the tab's event loop, so it
// only appends.
func (r *Recording) record(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		r.requests = append(r.requests, e.Request.URL)
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, cmp.Or(string(a.Value), a.Description))
			}
			r.console = append(r.console, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		text := e.ExceptionDetails.Text
		if ex := e.ExceptionDetails.Exception; ex != nil {
			text += " " + ex.Description
		}
		r.console = append(r.console, "exception: "+text)
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			r.console = append(r.console, fmt.Sprintf("%s (%s): %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	}
}

// OpenRecorded loads url in a new headless Chromium that records the
// page's console problems and requests, for tests of pages that must load
// nothing and report no error.
func OpenRecorded(t testing.TB, url string) (*Page, *Recording) {
	t.Helper()
	p := start(t, url)
	rec := &Recording{}
	// The tab must exist for its events to be listened to, before the
	// page begins to load.
	if err := chromedp.Do(p.ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	if err := chromedp.Listen(p.ctx, rec.record); err != nil {
		t.Fatalf("listen to Chromium: %v", err)
	}
	if _, err := chromedp.Run(p.ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	return p, rec
}

// Evaluate returns the value of a script expression on the page.
func Evaluate[T any](p *Page, expression string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		p.t.Fatalf("evaluate %s on %s: %v", expression, p.url, err)
	}
	return v
}

// Screenshot returns a PNG image of the whole page, beyond the window.
func (p *Page) Screenshot() []byte {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot of %s: %v", p.url, err)
	}
	return png
}
