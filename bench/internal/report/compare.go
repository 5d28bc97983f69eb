package report

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/authd/authd/bench/internal/hist"
)

// noticeable is the relative change below which Compare calls a difference
// noise rather than better or worse: runs on a shared machine drift by a few
// percent.
const noticeable = 0.05

// Change is one compared figure.
type Change struct {
	Metric   string
	Old, New float64
	// Rel is (New-Old)/Old; NaN when Old is zero.
	Rel float64
	// Verdict is "better", "worse" or "" when the change is within noise.
	Verdict string
}

// Compare returns the changes from prev to cur: throughput, latency
// percentiles and errors overall, then latency percentiles of each operation
// both runs have.
func Compare(prev, cur *Report) []Change {
	var out []Change
	add := func(metric string, o, n float64, higherIsBetter bool) {
		out = append(out, change(metric, o, n, higherIsBetter))
	}
	add("throughput req/s", prev.ThroughputRPS, cur.ThroughputRPS, true)
	add("successful req/s", prev.GoodputRPS, cur.GoodputRPS, true)
	addLatency(add, "", prev.Latency, cur.Latency)
	add("errors", float64(prev.Errors), float64(cur.Errors), false)
	if prev.Revocation != nil && cur.Revocation != nil {
		add("stale answers", float64(prev.Revocation.Stale), float64(cur.Revocation.Stale), false)
	}
	if len(cur.Ops) < 2 {
		return out
	}
	for _, nop := range cur.Ops {
		for _, oop := range prev.Ops {
			if oop.Name == nop.Name {
				add(nop.Name+" req/s", oop.ThroughputRPS, nop.ThroughputRPS, true)
				addLatency(add, nop.Name+" ", oop.Latency, nop.Latency)
			}
		}
	}
	return out
}

func addLatency(add func(string, float64, float64, bool), prefix string, o, n hist.Summary) {
	add(prefix+"p50 ms", o.P50Ms, n.P50Ms, false)
	add(prefix+"p90 ms", o.P90Ms, n.P90Ms, false)
	add(prefix+"p99 ms", o.P99Ms, n.P99Ms, false)
	add(prefix+"p99.9 ms", o.P999Ms, n.P999Ms, false)
	add(prefix+"max ms", o.MaxMs, n.MaxMs, false)
}

func change(metric string, o, n float64, higherIsBetter bool) Change {
	c := Change{Metric: metric, Old: o, New: n, Rel: math.NaN()}
	if o != 0 {
		c.Rel = (n - o) / o
	}
	improved := (n > o) == higherIsBetter
	switch {
	case n == o:
	case o == 0 || math.Abs(c.Rel) >= noticeable:
		c.Verdict = "worse"
		if improved {
			c.Verdict = "better"
		}
	}
	return c
}

// WriteCompare writes the changes from prev to cur as a table.
func WriteCompare(w io.Writer, prev, cur *Report) {
	fmt.Fprintf(w, "change against the %s run of %s (%s)\n", prev.Scenario,
		prev.Started.Format("2006-01-02 15:04:05"), describeLoad(prev.Load))
	if prev.Scenario != cur.Scenario {
		fmt.Fprintf(w, "warning: comparing scenario %s with %s\n", prev.Scenario, cur.Scenario)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\told\tnew\tchange\t")
	for _, c := range Compare(prev, cur) {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%s\t%s\n", c.Metric, c.Old, c.New, relText(c), c.Verdict)
	}
	tw.Flush()
}

func relText(c Change) string {
	switch {
	case math.IsNaN(c.Rel) && c.New == c.Old:
		return "0%"
	case math.IsNaN(c.Rel):
		return fmt.Sprintf("%+g", c.New-c.Old)
	}
	return fmt.Sprintf("%+.1f%%", 100*c.Rel)
}
