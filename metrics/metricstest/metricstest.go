// Package metricstest reads what a Prometheus endpoint serves, for tests.
package metricstest

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Series is one sample of a scrape.
type Series struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Scrape is what one request to a metrics endpoint returned.
type Scrape []Series

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// Parse reads Prometheus's text format.
func Parse(text string) Scrape {
	var out Scrape
	for _, line := range strings.Split(text, "\n") {
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			continue
		}
		s := Series{Name: m[1], Labels: map[string]string{}, Value: v}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.Labels[p[1]] = p[2]
		}
		out = append(out, s)
	}
	return out
}

// Get scrapes url, failing the test unless it answers 200.
func Get(t testing.TB, url string) Scrape {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s %v", url, resp.Status, err)
	}
	return Parse(string(b))
}

// Value returns the sum of the samples of name whose labels include
// those given, and whether there was any.
func (s Scrape) Value(name string, labels map[string]string) (float64, bool) {
	sum, found := 0.0, false
	for _, x := range s {
		if x.Name != name || !matches(x.Labels, labels) {
			continue
		}
		sum, found = sum+x.Value, true
	}
	return sum, found
}

// Names returns the names of the samples.
func (s Scrape) Names() map[string]bool {
	out := map[string]bool{}
	for _, x := range s {
		out[x.Name] = true
	}
	return out
}

func matches(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
