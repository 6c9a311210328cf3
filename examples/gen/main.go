// Command gen writes a reproducible HR export as CSV, for examples and
// benchmarks:
//
//	go run ./examples/gen -n 1000 -o examples/hr-users.csv
//	go run ./examples/gen -n 100000 -o hr-100k.csv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/openprovisioning/provisioner/examples/hrexport"
)

func main() {
	n := flag.Int("n", 1000, "number of employees")
	out := flag.String("o", "-", "output file, - for standard output")
	seed := flag.Uint64("seed", 1, "random seed; the same seed and -n give the same file")
	flag.Parse()
	if err := run(*n, *out, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(n int, out string, seed uint64) error {
	if n < 1 {
		return fmt.Errorf("-n must be at least 1")
	}
	var w io.Writer = os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	if err := hrexport.WriteCSV(bw, n, seed); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && f != os.Stdout {
		return f.Close()
	}
	return nil
}
