// Command bench is authd's load benchmark. It creates users, clients and
// tokens through the API, then drives one scenario against one node or a
// cluster under a closed or open load model, and reports throughput,
// latency percentiles from HDR histograms, and errors by kind, as a table, a
// JSON document and an HTML page with charts.
//
//	go run ./bench -scenario introspect -target http://127.0.0.1:8080 \
//	    -admin-key-file authd-data/admin.key -duration 10s -c 32
//	go run ./bench compare old.json new.json
//	go run ./bench summary -html bench-out/index.html bench-out/*.json
//	go run ./bench html run.json run.html
//
// See bench/README.md for every flag and scenario.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses.
const (
	exitOK        = 0
	exitFailed    = 1 // setup, I/O or network failure
	exitUsage     = 2
	exitViolation = 3 // the run saw a stale answer after a revocation
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand or, by default, a load run, and returns
// the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "compare":
			return runCompare(args[1:], stdout, stderr)
		case "summary":
			return runSummary(args[1:], stdout, stderr)
		case "html":
			return runHTML(args[1:], stderr)
		}
	}
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if err != errHelp {
			fmt.Fprintln(stderr, "bench:", err)
		}
		return exitUsage
	}
	if cfg.selfTest {
		return selfTest(ctx, cfg, stdout, stderr)
	}
	return loadRun(ctx, cfg, stdout, stderr)
}
