package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/authd/authd/bench/internal/report"
)

// runCompare prints the change between two JSON reports.
func runCompare(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: bench compare OLD.json NEW.json")
		return exitUsage
	}
	prev, err := report.ReadJSON(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return exitFailed
	}
	cur, err := report.ReadJSON(args[1])
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return exitFailed
	}
	report.WriteCompare(stdout, prev, cur)
	return exitOK
}

// runSummary prints one line per JSON report and optionally writes an HTML
// index of the runs.
func runSummary(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench summary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	htmlOut := fs.String("html", "", "also write an HTML summary linking each run's HTML report")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: bench summary [-html index.html] RUN.json...")
		return exitUsage
	}
	var entries []report.Entry
	for _, path := range fs.Args() {
		r, err := report.ReadJSON(path)
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return exitFailed
		}
		entries = append(entries, report.Entry{Path: path, Report: r})
	}
	report.WriteSummary(stdout, entries)
	if *htmlOut != "" {
		if err := report.WriteSummaryHTMLFile(*htmlOut, entries); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return exitFailed
		}
	}
	return exitOK
}

// runHTML renders the HTML report of a JSON report again.
func runHTML(args []string, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: bench html RUN.json OUT.html")
		return exitUsage
	}
	r, err := report.ReadJSON(args[0])
	if err == nil {
		err = report.WriteHTMLFile(args[1], r)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return exitFailed
	}
	return exitOK
}
