package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// profileWindow is how long each CPU profile taken from the worker runs.
// The profiler's endpoint profiles for a time fixed up front and a cycle's
// length is not known, so the cycle is covered by consecutive windows;
// `go tool pprof` merges the files it is given.
const profileWindow = 5 * time.Second

// profiler takes the worker's CPU profile, window after window, from its
// -debug-listen endpoint until stopped, then its heap profile.
type profiler struct {
	addr, dir string
	client    *http.Client
	quit      chan struct{}
	done      chan struct{}
	files     []string
	err       error
}

// freeLoopbackAddr returns a loopback address nothing listens on now.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func startProfiler(ctx context.Context, addr, dir string) *profiler {
	p := &profiler{addr: addr, dir: dir, client: &http.Client{Timeout: profileWindow + 30*time.Second},
		quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		if p.err = os.MkdirAll(dir, 0o755); p.err != nil {
			return
		}
		for i := 1; ; i++ {
			if p.err = p.fetch(ctx, fmt.Sprintf("profile?seconds=%d", int(profileWindow.Seconds())), fmt.Sprintf("worker-cpu-%03d.pprof", i)); p.err != nil {
				return
			}
			select {
			case <-p.quit:
				return
			case <-ctx.Done():
				p.err = ctx.Err()
				return
			default:
			}
		}
	}()
	return p
}

// stop waits for the window under way to end, takes the heap profile and
// returns the files written.
func (p *profiler) stop() ([]string, error) {
	close(p.quit)
	<-p.done
	if p.err != nil {
		return p.files, p.err
	}
	err := p.fetch(context.Background(), "heap", "worker-heap.pprof")
	return p.files, err
}

// fetch saves one profile of the worker's endpoint to a file of dir. The
// worker may still be starting its endpoint when the first is asked for.
func (p *profiler) fetch(ctx context.Context, query, name string) error {
	var resp *http.Response
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+"/debug/pprof/"+query, nil)
		if err != nil {
			return err
		}
		resp, err = p.client.Do(req)
		if err == nil {
			break
		}
		if attempt == 50 {
			return fmt.Errorf("the worker's profiler at %s: %w", p.addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the worker's profiler: %s answered %s", query, resp.Status)
	}
	path := filepath.Join(p.dir, name)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	p.files = append(p.files, path)
	return nil
}
