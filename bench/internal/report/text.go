package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/authd/authd/bench/internal/hist"
)

// WriteText writes the human-readable table of r to w.
func WriteText(w io.Writer, r *Report) {
	fmt.Fprintf(w, "scenario  %s against %s\n", r.Scenario, strings.Join(r.Targets, ", "))
	fmt.Fprintf(w, "load      %s; stopped: %s after %.2f s\n",
		describeLoad(r.Load), r.StopReason, r.ElapsedS)
	fmt.Fprintf(w, "setup     %d users, %d clients, %d tokens in %.2f s (not measured)\n",
		r.Setup.Users, r.Setup.Clients, r.Setup.Tokens, r.Setup.Seconds)
	fmt.Fprintf(w, "requests  %d in %.2f s: %.1f req/s, %.1f successful/s, %d errors\n\n",
		r.Requests, r.ElapsedS, r.ThroughputRPS, r.GoodputRPS, r.Errors)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "latency ms\tp50\tp90\tp99\tp99.9\tmax\tmean\tok\treq/s\t")
	latencyRow(tw, "all", r.Latency, r.GoodputRPS)
	if r.ServiceTime != nil {
		latencyRow(tw, "service time", *r.ServiceTime, r.GoodputRPS)
	}
	if len(r.Ops) > 1 {
		for _, op := range r.Ops {
			latencyRow(tw, op.Name, op.Latency, op.ThroughputRPS)
		}
	}
	tw.Flush()
	if r.Load.Model == "open" {
		fmt.Fprintln(w, "(latency from each request's due time; service time from its actual send)")
	}
	writeExtras(w, r)
}

func latencyRow(w io.Writer, name string, s hist.Summary, rps float64) {
	fmt.Fprintf(w, "%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%.1f\t\n",
		name, s.P50Ms, s.P90Ms, s.P99Ms, s.P999Ms, s.MaxMs, s.MeanMs, s.Count, rps)
}

func describeLoad(l Load) string {
	var b strings.Builder
	if l.Model == "open" {
		fmt.Fprintf(&b, "open model, %.0f ops/s, at most %d in flight", l.RateRPS, l.Concurrency)
	} else {
		fmt.Fprintf(&b, "closed model, %d connections", l.Concurrency)
	}
	if l.DurationS > 0 {
		fmt.Fprintf(&b, ", for %gs", l.DurationS)
	}
	if l.Requests > 0 {
		fmt.Fprintf(&b, ", at most %d ops", l.Requests)
	}
	return b.String()
}

// writeExtras writes errors, revocation results, counters and notes.
func writeExtras(w io.Writer, r *Report) {
	if len(r.ErrorKinds) > 0 {
		fmt.Fprintf(w, "\nerrors    %s\n", joinCounts(r.ErrorKinds))
	}
	if v := r.Revocation; v != nil {
		e := v.Enforcement
		fmt.Fprintf(w,
			"\nrevocation  %d revoked, %d checks, %d stale answers, %d not enforced within %gs\n",
			v.Revoked, v.Checks, v.Stale, v.Unenforced, v.PollDeadlineS)
		fmt.Fprintf(w, "            time until enforced on every node: p50 %.3f  p99 %.3f  max %.3f ms\n",
			e.P50Ms, e.P99Ms, e.MaxMs)
	}
	if len(r.Counters) > 0 {
		fmt.Fprintf(w, "\ncounters  %s\n", joinCounts(r.Counters))
	}
	if len(r.ServerCounters) > 0 {
		fmt.Fprintln(w, "\nserver counters during the run:")
		for _, k := range sortedKeys(r.ServerCounters) {
			fmt.Fprintf(w, "  %s %g\n", k, r.ServerCounters[k])
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func joinCounts(m map[string]int64) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
