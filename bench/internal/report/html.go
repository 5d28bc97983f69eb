package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"strings"

	"github.com/authd/authd/bench/internal/hist"
	"github.com/authd/authd/bench/internal/record"
)

// Series colours, chosen to stay apart for colour-blind readers.
const (
	blue   = "#1f77b4"
	orange = "#ff7f0e"
	green  = "#2ca02c"
	purple = "#9467bd"
	red    = "#d62728"
)

// WriteHTML writes r as one self-contained HTML page: inline CSS, inline
// SVG charts that need no script to show, and a small inline script that
// adds hover read-outs. It loads nothing from the network. The page is also
// well-formed XML, which its tests check.
func WriteHTML(w io.Writer, r *Report) error {
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, pageData(r)); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteHTMLFile writes the HTML page of r to path.
func WriteHTMLFile(path string, r *Report) error {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

type page struct {
	R            *Report
	Title        string
	Load         string
	Targets      string
	Started      string
	Throughput   template.HTML
	Latency      template.HTML
	Distribution template.HTML
	DrainS       float64 // length of the final interval the charts leave out
	Rows         []row
	Errors       []kv
	Counters     []kv
}

type row struct {
	Name string
	S    hist.Summary
	RPS  float64
	Errs int64
}

type kv struct {
	K string
	V string
}

func pageData(r *Report) page {
	p := page{
		R:            r,
		Title:        "authd bench: " + r.Scenario,
		Load:         describeLoad(r.Load),
		Targets:      strings.Join(r.Targets, ", "),
		Started:      r.Started.Format("2006-01-02 15:04:05 MST"),
		Throughput:   template.HTML(throughputChart(r).svg()),
		Latency:      template.HTML(latencyChart(r).svg()),
		Distribution: template.HTML(distributionChart(r).svg()),
	}
	_, p.DrainS = chartTimeline(r)
	p.Rows = append(p.Rows, row{Name: "all", S: r.Latency, RPS: r.GoodputRPS, Errs: r.Errors})
	if r.ServiceTime != nil {
		p.Rows = append(p.Rows, row{Name: "service time", S: *r.ServiceTime, RPS: r.GoodputRPS})
	}
	if len(r.Ops) > 1 {
		for _, op := range r.Ops {
			p.Rows = append(p.Rows,
				row{Name: op.Name, S: op.Latency, RPS: op.ThroughputRPS, Errs: op.Errors})
		}
	}
	for _, k := range sortedKeys(r.ErrorKinds) {
		p.Errors = append(p.Errors, kv{k, fmt.Sprint(r.ErrorKinds[k])})
	}
	for _, k := range sortedKeys(r.Counters) {
		p.Counters = append(p.Counters, kv{k, fmt.Sprint(r.Counters[k])})
	}
	for _, k := range sortedKeys(r.ServerCounters) {
		p.Counters = append(p.Counters, kv{"server " + k, fmt.Sprint(r.ServerCounters[k])})
	}
	return p
}

// minTailS is the shortest final interval the charts show. The last interval
// holds only the drain of requests in flight when the run stopped; when it
// is short, its rate and percentiles are noise that would dwarf the rest.
const minTailS = 0.5

// chartTimeline returns the intervals the charts plot, and the length in
// seconds of the final interval left out (0 when none is).
func chartTimeline(r *Report) ([]record.Interval, float64) {
	tl := r.Timeline
	if n := len(tl); n > 1 && tl[n-1].DurS < minTailS {
		return tl[:n-1], tl[n-1].DurS
	}
	return tl, 0
}

func throughputChart(r *Report) *chart {
	ok := series{name: "requests/s", color: blue}
	bad := series{name: "errors/s", color: red, bars: true}
	tl, _ := chartTimeline(r)
	for _, iv := range tl {
		t := fmt.Sprintf("%.1f s", iv.EndS)
		ok.pts = append(ok.pts, xy{iv.EndS, iv.RPS, fmt.Sprintf("%s: %.0f req/s", t, iv.RPS)})
		e := perSecond(iv.Errors, iv.DurS)
		bad.pts = append(bad.pts, xy{iv.EndS, e, fmt.Sprintf("%s: %.0f errors/s", t, e)})
	}
	return &chart{id: "throughput", xLabel: "seconds into the run", yLabel: "requests per second",
		zeroX: true, series: []series{bad, ok}}
}

func latencyChart(r *Report) *chart {
	tl, _ := chartTimeline(r)
	mk := func(name, color string, v func(i int) float64) series {
		s := series{name: name, color: color}
		for i, iv := range tl {
			if iv.Requests-iv.Errors == 0 {
				continue // no successful request: no latency to show
			}
			s.pts = append(s.pts, xy{iv.EndS, v(i), fmt.Sprintf("%.1f s: %.3f ms", iv.EndS, v(i))})
		}
		return s
	}
	return &chart{id: "latency", xLabel: "seconds into the run", yLabel: "latency, ms (log scale)",
		logY: true, zeroX: true, series: []series{
			mk("p50", blue, func(i int) float64 { return tl[i].P50Ms }),
			mk("p90", green, func(i int) float64 { return tl[i].P90Ms }),
			mk("p99", orange, func(i int) float64 { return tl[i].P99Ms }),
			mk("max", red, func(i int) float64 { return tl[i].MaxMs }),
		}}
}

// distributionChart plots latency by percentile on a "number of nines"
// axis, so that the tail gets as much room as the median.
func distributionChart(r *Report) *chart {
	s := series{name: "latency", color: purple}
	maxN := 0.0
	for _, p := range r.Distribution {
		n := hist.Nines(p.Percentile)
		if math.IsInf(n, 1) {
			continue // the maximum, shown in the tables
		}
		maxN = math.Max(maxN, n)
		s.pts = append(s.pts, xy{n, p.Ms, fmt.Sprintf("p%g = %.3f ms", p.Percentile, p.Ms)})
	}
	var ticks []tick
	for n := 0.0; n <= math.Ceil(maxN); n++ {
		ticks = append(ticks, tick{at: n, label: ninesLabel(n)})
	}
	return &chart{id: "distribution", xLabel: "percentile", yLabel: "latency, ms",
		xTicks: ticks, series: []series{s}}
}

// ninesLabel names the percentile with n nines: 0 -> 0%, 2 -> 99%.
func ninesLabel(n float64) string {
	if n == 0 {
		return "0%"
	}
	return fmt.Sprintf("%g%%", math.Round((100-100*math.Pow(10, -n))*1e6)/1e6)
}

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"ms": func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"f1": func(v float64) string { return fmt.Sprintf("%.1f", v) },
}).Parse(pageHTML))
