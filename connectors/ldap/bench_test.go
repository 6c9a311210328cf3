package ldap

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
)

// BenchmarkReadPaged reads a directory of 100,000 people (LDAP_BENCH_ENTRIES
// overrides) through the connector, page by page, and with go-ldap's
// SearchWithPaging, which collects every entry before returning: the
// baseline a plain "ldapsearch" client would be. Both report entries/s and
// the peak heap growth during a read. The 100,000 entries load with slapadd
// in about 2 s; benchmarks only run with -bench.
func BenchmarkReadPaged(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("LDAP_BENCH_ENTRIES")); err == nil && v > 0 {
		n = v
	}
	start := time.Now()
	s := slapd.Start(b, slapd.Options{Preload: benchLDIF(n)})
	b.Logf("loaded %d entries with slapadd in %v", n, time.Since(start).Round(time.Millisecond))
	attrs := []string{"uid", "cn", "sn", "givenName", "mail", "title"}

	b.Run("connector", func(b *testing.B) {
		cfg := sourceConfig(s)
		cfg.PageSize = 500
		d := open(b, cfg)
		measure(b, n, func() int {
			req := connectors.ReadRequest{Type: connectors.User, Attributes: attrs, PageSize: 500}
			count := 0
			for {
				page, err := d.Read(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				count += len(page.Objects)
				if page.Cursor == "" {
					return count
				}
				req.Cursor = page.Cursor
			}
		})
	})

	b.Run("SearchWithPaging", func(b *testing.B) {
		c := s.Conn(b)
		// The same attributes as the connector, which adds the ID and delta.
		attrs := append(attrs, "entryUUID", "modifyTimestamp")
		measure(b, n, func() int {
			res, err := c.SearchWithPaging(goldap.NewSearchRequest(slapd.People, goldap.ScopeWholeSubtree,
				goldap.NeverDerefAliases, 0, 0, false, "(objectClass=inetOrgPerson)", attrs, nil), 500)
			if err != nil {
				b.Fatal(err)
			}
			return len(res.Entries)
		})
	})
}

// measure runs read b.N times and reports entries/s and the highest heap
// growth seen while reading, sampled every millisecond.
func measure(b *testing.B, n int, read func() int) {
	var peak uint64
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		base := heapBytes()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for {
				if h := heapBytes(); h > base && h-base > peak {
					peak = h - base
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		})
		b.StartTimer()
		got := read()
		b.StopTimer()
		close(stop)
		wg.Wait()
		if got != n {
			b.Fatalf("read %d entries, want %d", got, n)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// benchLDIF streams n people to slapadd without building them in memory.
func benchLDIF(n int) io.Reader {
	r, w := io.Pipe()
	go func() {
		bw := bufio.NewWriter(w)
		for i := 1; i <= n; i++ {
			fmt.Fprintf(bw, "dn: uid=user%07d,%s\nobjectClass: inetOrgPerson\nuid: user%07d\ncn: Given%d Family%d\n"+
				"sn: Family%d\ngivenName: Given%d\nmail: user%07d@example.org\ntitle: Engineer\n\n",
				i, slapd.People, i, i, i, i, i, i)
		}
		w.CloseWithError(bw.Flush())
	}()
	return r
}
