package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/chromium"
	"github.com/openprovisioning/provisioner/sampleapp"
)

// The HTML report of a job that ran three cycles with failures, made by
// the starter binary from a dev server's histories and opened in headless
// Chromium: it renders its charts, loads nothing, reports no error and
// shows hostile names as text.
func TestReportHTML(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	e := &env{t: t, bin: testenv.Build(t, "./starter"), address: tmp.Server.FrontendHostPort()}
	t.Setenv(tokenEnv, "report-test-token")
	app := sampleapp.New(sampleapp.Options{Token: "report-test-token"})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	const hostile = `<script>document.title='pwned'</script><img src=/x onerror=alert(1)>`
	rows := func(renamed string, leavers int) string {
		var b strings.Builder
		b.WriteString("employeeId,userName,displayName,givenName\n")
		for i := 1; i <= 12-leavers; i++ {
			given := fmt.Sprintf("Given%d", i)
			if i == 1 {
				given = renamed
			}
			fmt.Fprintf(&b, "E%03d,user%03d@example.com,User %d,%s\n", i, i, i, given)
		}
		// Too few fields: fails alone, in every cycle, under an ID that is
		// markup.
		b.WriteString(hostile + ",broken@example.com\n")
		return b.String()
	}
	hr := filepath.Join(dir, "hr.csv")
	require.NoError(t, os.WriteFile(hr, []byte(rows("Given1", 0)), 0o600))
	cfg := filepath.Join(dir, "job.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`name: report-test
interval: 1h
source:
  file: {path: hr.csv, idColumn: employeeId}
target:
  application: sampleapp
  scim: {baseURL: "`+srv.URL+`/scim/v2", token: {env: `+tokenEnv+`}}
objects:
  - sourceObject: User
    targetObject: User
    attributes:
      - {target: userName, type: Direct, source: userName, matchingPriority: 1}
      - {target: externalId, type: Direct, source: employeeId}
      - {target: displayName, type: Direct, source: displayName}
      - {target: name.givenName, type: Direct, source: givenName}
`), 0o600))
	startWorkerProcess(t, e.address, filepath.Join(dir, "state.db"))

	page := filepath.Join(dir, "report.html")
	t.Run("a job without a finished cycle says so", func(t *testing.T) {
		out, stderr, code := e.run("report", "report-test", "--html", page)
		require.Zero(t, code, stderr)
		require.Contains(t, out, "wrote "+page)
		b, err := os.ReadFile(page)
		require.NoError(t, err)
		require.Contains(t, string(b), "No finished cycle yet")
		require.NotContains(t, string(b), `<svg class="chart"`)
	})

	e.ok("start", cfg)
	waitIdle(t, e, "report-test", 1)
	// Cycle 2 renames one person; cycle 3 sees two leave, who are disabled.
	require.NoError(t, os.WriteFile(hr, []byte(rows("Renamed", 0)), 0o600))
	e.ok("sync-now", "report-test")
	waitIdle(t, e, "report-test", 2)
	require.NoError(t, os.WriteFile(hr, []byte(rows("Renamed", 2)), 0o600))
	e.ok("sync-now", "report-test")
	waitIdle(t, e, "report-test", 3)

	var cycles []audit.CycleReport
	require.NoError(t, json.Unmarshal([]byte(e.ok("report", "report-test", "--json")), &cycles))
	require.Len(t, cycles, 3)
	require.Equal(t, map[string]int{"User": 12}, cycles[0].InScope, "the broken row is not in scope")
	require.Equal(t, map[string]int{"User": 12}, cycles[1].InScope)
	require.Equal(t, map[string]int{"User": 10}, cycles[2].InScope)
	require.Equal(t, 2, cycles[2].Counts.Of(audit.Disable, audit.Success))
	for i, c := range cycles {
		require.Equal(t, 1, c.Errors["InvalidSourceRecord"], c.CycleID)
		require.Equal(t, map[bool]string{true: "Initial", false: "Incremental"}[i == 0], c.Kind, c.CycleID)
		require.Equal(t, []int{13, 13, 11}[i], c.Read, "%s: the rows read, the broken one too", c.CycleID)
	}

	// Cycle 4 finds the broken row gone; cycle 5 has nothing to do and
	// logs nothing, but is reported.
	require.NoError(t, os.WriteFile(hr, []byte(strings.TrimSuffix(rows("Renamed", 2), hostile+",broken@example.com\n")), 0o600))
	e.ok("sync-now", "report-test")
	waitIdle(t, e, "report-test", 4)
	e.ok("sync-now", "report-test")
	waitIdle(t, e, "report-test", 5)
	cycles = nil
	require.NoError(t, json.Unmarshal([]byte(e.ok("report", "report-test", "--json")), &cycles))
	require.Len(t, cycles, 5)
	quiet := cycles[4]
	require.Zero(t, quiet.Counts.Total())
	require.Equal(t, "Incremental", quiet.Kind)
	require.Equal(t, map[string]int{"User": 10}, quiet.InScope)
	require.True(t, quiet.Finished.After(quiet.Started), "the span of the cycle, which logged nothing")

	out := e.ok("report", "report-test", "--html", page)
	require.Contains(t, out, "wrote "+page+": 5 cycles in the log")
	info, err := os.Stat(page)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the page names people")

	// Served over loopback, so that every request the page makes reaches
	// this server: it must ask for the page alone.
	var mu sync.Mutex
	var served []string
	files := http.FileServer(http.Dir(dir))
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		served = append(served, r.URL.Path)
		mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(web.Close)
	url := web.URL + "/report.html"
	p, rec := chromium.OpenRecorded(t, url)
	text := p.WaitText("Provisioning report: report-test → sampleapp", "Latest cycles", "Most frequent errors", "InvalidSourceRecord")
	require.Contains(t, text, "5 finished cycles in the log")
	require.Contains(t, text, hostile, "the hostile ID is shown as text")
	require.Zero(t, chromium.Evaluate[int](p, `document.querySelectorAll("script, img, main svg:not(.chart):not([aria-hidden])").length`), "no markup from a name")
	require.Equal(t, "Provisioning report: report-test", chromium.Evaluate[string](p, `document.title`))

	charts := map[string]int{"in-scope": 5, "durations": 5, "actions": 4, "statuses": 4, "errors": 3}
	for kind, shapes := range charts {
		got := chromium.Evaluate[int](p, fmt.Sprintf(`document.querySelectorAll('svg.chart[data-chart=%q] rect.bar, svg.chart[data-chart=%q] circle.point').length`, kind, kind))
		require.GreaterOrEqual(t, got, shapes, kind)
	}
	require.Equal(t, len(charts), chromium.Evaluate[int](p, `document.querySelectorAll("svg.chart").length`))
	require.Equal(t, 5, chromium.Evaluate[int](p, `document.querySelectorAll('svg.chart[data-chart="durations"] rect.bar').length`))
	require.Equal(t, 5, chromium.Evaluate[int](p, `document.querySelectorAll('svg.chart[data-chart="in-scope"] circle.point').length`))
	require.Equal(t, 5, chromium.Evaluate[int](p, `document.querySelectorAll("#cycles tbody tr").length`))

	require.Empty(t, rec.Problems(), "console errors and warnings")
	for _, r := range rec.Requests() {
		require.True(t, r == url || strings.HasPrefix(r, "data:"), "the page requested %s", r)
	}
	require.Contains(t, rec.Requests(), url)
	mu.Lock()
	require.Equal(t, []string{"/report.html"}, served)
	mu.Unlock()

	checkScreenshot(t, p)
}

// checkScreenshot takes a PNG of the whole page and checks that it is the
// page's size, not blank, and that every chart drew its bars and lines in
// colour where the page says they are.
func checkScreenshot(t *testing.T, p *chromium.Page) {
	t.Helper()
	shot := p.Screenshot()
	if path := os.Getenv("REPORT_SCREENSHOT"); path != "" {
		require.NoError(t, os.WriteFile(path, shot, 0o644))
	}
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err)
	size := chromium.Evaluate[[]int](p, `[document.documentElement.scrollWidth, document.documentElement.scrollHeight]`)
	require.Equal(t, image.Rect(0, 0, size[0], size[1]), img.Bounds(), "the screenshot is the whole page")

	colours := map[color.Color]bool{}
	for y := 0; y < img.Bounds().Dy(); y += 4 {
		for x := 0; x < img.Bounds().Dx(); x += 4 {
			colours[img.At(x, y)] = true
		}
	}
	require.Greater(t, len(colours), 50, "the page is blank")

	// Each chart's box, in page coordinates, and the centre and fill of
	// every bar and point in it.
	type shape struct {
		X, Y  int
		Color string
	}
	type box struct {
		Kind          string
		X, Y, W, H    int
		Shapes        []shape
		ColouredShare float64
	}
	boxes := chromium.Evaluate[[]box](p, `Array.from(document.querySelectorAll("svg.chart")).map(svg => {
		const r = svg.getBoundingClientRect(), at = e => { const b = e.getBoundingClientRect(); return {X: Math.round(b.x + b.width / 2 + scrollX), Y: Math.round(b.y + b.height / 2 + scrollY), Color: e.getAttribute("fill")} };
		return {Kind: svg.dataset.chart, X: Math.round(r.x + scrollX), Y: Math.round(r.y + scrollY), W: Math.round(r.width), H: Math.round(r.height),
			Shapes: Array.from(svg.querySelectorAll("rect.bar, circle.point")).map(at)};
	})`)
	require.Len(t, boxes, 5)
	for _, b := range boxes {
		require.Greater(t, b.W, 300, b.Kind)
		require.Greater(t, b.H, 100, b.Kind)
		coloured := 0
		for y := b.Y; y < b.Y+b.H; y++ {
			for x := b.X; x < b.X+b.W; x++ {
				if saturated(img.At(x, y)) {
					coloured++
				}
			}
		}
		require.Greater(t, float64(coloured)/float64(b.W*b.H), 0.002, "chart %s has no coloured pixels", b.Kind)
		require.NotEmpty(t, b.Shapes, b.Kind)
		for _, s := range b.Shapes {
			require.True(t, near(img.At(s.X, s.Y), s.Color), "chart %s: the pixel at %d,%d is %v, not the %s drawn there", b.Kind, s.X, s.Y, img.At(s.X, s.Y), s.Color)
		}
	}
}

// saturated reports whether a pixel is a colour rather than white, grey
// or black: what only the charts' bars, lines and legends draw.
func saturated(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	hi, lo := max(r, g, b)>>8, min(r, g, b)>>8
	return hi-lo > 60
}

// near reports whether a pixel is the colour #rrggbb, give or take
// antialiasing.
func near(c color.Color, hex string) bool {
	var want [3]uint32
	if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &want[0], &want[1], &want[2]); err != nil {
		return false
	}
	r, g, b, _ := c.RGBA()
	for i, v := range []uint32{r >> 8, g >> 8, b >> 8} {
		if max(v, want[i])-min(v, want[i]) > 24 {
			return false
		}
	}
	return true
}
