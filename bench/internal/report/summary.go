package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// Entry is one run of a summary: its report and the file it came from.
type Entry struct {
	Path   string
	Report *Report
}

// WriteSummary writes one line per run: scenario, load, throughput,
// percentiles, errors and stale answers.
func WriteSummary(w io.Writer, entries []Entry) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw,
		"scenario\tload\treq/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\terrors\tstale\t")
	for _, e := range entries {
		r := e.Report
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%s\t\n",
			r.Scenario, shortLoad(r.Load), r.ThroughputRPS, r.Latency.P50Ms, r.Latency.P90Ms,
			r.Latency.P99Ms, r.Latency.P999Ms, r.Latency.MaxMs, r.Errors, stale(r))
	}
	tw.Flush()
}

func shortLoad(l Load) string {
	if l.Model == "open" {
		return fmt.Sprintf("open %.0f/s", l.RateRPS)
	}
	return fmt.Sprintf("closed c=%d", l.Concurrency)
}

func stale(r *Report) string {
	if r.Revocation == nil {
		return "-"
	}
	return fmt.Sprint(r.Revocation.Stale + r.Revocation.Unenforced)
}

// WriteSummaryHTMLFile writes the summary as an HTML page at path, linking
// each run to the HTML report beside its JSON file (same name, .html).
func WriteSummaryHTMLFile(path string, entries []Entry) error {
	type line struct {
		Link   string
		R      *Report
		Load   string
		Stale  string
		Errors int64
	}
	var lines []line
	for _, e := range entries {
		link := strings.TrimSuffix(filepath.Base(e.Path), filepath.Ext(e.Path)) + ".html"
		lines = append(lines, line{Link: link, R: e.Report, Load: shortLoad(e.Report.Load),
			Stale: stale(e.Report), Errors: e.Report.Errors})
	}
	var buf bytes.Buffer
	if err := summaryTmpl.Execute(&buf, lines); err != nil {
		return fmt.Errorf("render summary: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

var summaryTmpl = template.Must(template.New("summary").Funcs(template.FuncMap{
	"ms": func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"f1": func(v float64) string { return fmt.Sprintf("%.1f", v) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>authd bench summary</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 24px auto;
  max-width: 980px; padding: 0 16px; }
table { border-collapse: collapse; }
th, td { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f6f6f6; }
</style>
</head>
<body>
<h1>authd bench summary</h1>
<table>
<tr>
<th>scenario</th><th>load</th><th>req/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th>
<th>p99.9 ms</th><th>max ms</th><th>errors</th><th>stale</th>
</tr>
{{- range .}}
<tr>
<td><a href="{{.Link}}">{{.R.Scenario}}</a></td><td>{{.Load}}</td>
<td>{{f1 .R.ThroughputRPS}}</td><td>{{ms .R.Latency.P50Ms}}</td><td>{{ms .R.Latency.P90Ms}}</td>
<td>{{ms .R.Latency.P99Ms}}</td><td>{{ms .R.Latency.P999Ms}}</td>
<td>{{ms .R.Latency.MaxMs}}</td><td>{{.Errors}}</td><td>{{.Stale}}</td>
</tr>
{{- end}}
</table>
</body>
</html>
`))
