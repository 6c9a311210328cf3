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

// Text loads url, waits until the page's visible text holds every one of
// want (the Web UI renders after its API calls return), and returns that
// text. It fails the test with the text it saw when want does not appear.
func Text(t testing.TB, url string, want ...string) string {
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
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if _, err := chromedp.Run(browser, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		text, err := chromedp.Run(browser, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatalf("read %s: %v", url, err)
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
			t.Fatalf("%s does not show %q; it shows:\n%s", url, missing, text)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
