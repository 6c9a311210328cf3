// Package chromium drives Debian's headless Chromium, through the DevTools
// protocol, for tests of what the Temporal Web UI shows. It installs the
// package when it is missing and the test runs as root.
package chromium

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/openprovisioning/provisioner/internal/testenv/debian"
)

var (
	once    sync.Once
	path    string
	errFind error
)

// find returns Chromium's path, installing it when missing.
func find() (string, error) {
	once.Do(func() { path, errFind = debian.Locate(look, "chromium") })
	return path, errFind
}

func look() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("chromium not found")
}

// Page is a page open in headless Chromium until the test ends.
type Page struct {
	t   testing.TB
	url string
	ctx context.Context
}

// Open loads url in a new headless Chromium.
func Open(t testing.TB, url string) *Page {
	t.Helper()
	p := start(t, url)
	if _, err := chromedp.Run(p.ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	return p
}

// start starts a headless Chromium, with a blank tab, for a page to load url.
func start(t testing.TB, url string) *Page {
	t.Helper()
	bin, err := find()
	if err != nil {
		t.Fatalf("Chromium: %v", err)
	}
	// Root needs no-sandbox; the other flags keep a closed network from
	// stalling start-up with background requests.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1600, 1000))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancel() })
	return &Page{t: t, url: url, ctx: browser}
}

// Text loads url and returns its text once it shows every one of want.
func Text(t testing.TB, url string, want ...string) string {
	t.Helper()
	return Open(t, url).WaitText(want...)
}

// WaitText waits until the page's visible text holds every one of want
// (the Web UI renders after its API calls return), and returns that text.
// It fails the test with the text it saw when want does not appear.
func (p *Page) WaitText(want ...string) string {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		text, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			p.t.Fatalf("read %s: %v", p.url, err)
		}
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return text
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s does not show %q; it shows:\n%s", p.url, missing, text)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// firstVisible is a script expression for the first visible element the
// CSS selector matches, or undefined; pages often hold hidden copies of
// menus and dialogs.
func firstVisible(selector string) string {
	return fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).find(e => e.getClientRects().length > 0)`, selector)
}

// Click clicks the first visible element the CSS selector matches,
// waiting for one to appear.
func (p *Page) Click(selector string) {
	p.t.Helper()
	p.click(selector, firstVisible(selector))
}

// ClickButton clicks the visible button whose text is text.
func (p *Page) ClickButton(text string) {
	p.t.Helper()
	p.ClickText("button", text)
}

// ClickText clicks the visible element the CSS selector matches whose
// text is text.
func (p *Page) ClickText(selector, text string) {
	p.t.Helper()
	p.click(fmt.Sprintf("%s %q", selector, text), fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).find(b => b.innerText.trim() === %q && b.getClientRects().length > 0)`, selector, text))
}

// Visible reports whether an element the CSS selector matches is visible.
func (p *Page) Visible(selector string) bool {
	p.t.Helper()
	ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`!!`+firstVisible(selector)))
	if err != nil {
		p.t.Fatalf("look for %s on %s: %v", selector, p.url, err)
	}
	return ok
}

// Until repeats steps until an element the CSS selector matches is visible:
// a page's first clicks can land before its scripts listen for them.
func (p *Page) Until(selector string, steps func()) {
	p.t.Helper()
	for range 10 {
		steps()
		for range 12 {
			if p.Visible(selector) {
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	text, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body.innerText`))
	p.t.Fatalf("%s never appeared on %s; it shows:\n%s", selector, p.url, text)
}

// click waits for the element find evaluates to, then clicks it.
func (p *Page) click(what, find string) {
	p.t.Helper()
	p.act("click "+what, `(() => { const e = `+find+`; if (!e) return false; e.click(); return true })()`)
}

// Type sets the value of the first visible input the CSS selector matches
// and tells the page's input handlers, as typing would.
func (p *Page) Type(selector, text string) {
	p.t.Helper()
	p.act("type into "+selector, fmt.Sprintf(`(() => {
		const e = %s;
		if (!e) return false;
		e.focus();
		Object.getOwnPropertyDescriptor(Object.getPrototypeOf(e), 'value').set.call(e, %q);
		e.dispatchEvent(new Event('input', {bubbles: true}));
		e.dispatchEvent(new Event('change', {bubbles: true}));
		return true;
	})()`, firstVisible(selector), text))
}

// act runs a script that acts on an element and reports whether it found
// it, until it does, for up to 30 seconds.
func (p *Page) act(what, script string) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		done, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](script))
		if err != nil {
			p.t.Fatalf("%s on %s: %v", what, p.url, err)
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s on %s: the element never appeared", what, p.url)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Insert types text into the first visible editable element the CSS
// selector matches, such as the Web UI's JSON editor, as one input event:
// an editor that closes brackets as they are typed would double them.
func (p *Page) Insert(selector, text string) {
	p.t.Helper()
	p.act("insert into "+selector, fmt.Sprintf(`(() => {
		const e = %s;
		if (!e) return false;
		e.focus();
		return document.execCommand('insertText', false, %q);
	})()`, firstVisible(selector), text))
}
