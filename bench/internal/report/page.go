package report

// pageHTML is the HTML report template. It must stay well-formed XML (every
// element closed, attributes quoted, no named entities), and its scripts must
// avoid '<' and '&', so that an XML parser can check the whole page.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>{{.Title}}</title>
<script>
window.addEventListener("error", function (e) {
  document.documentElement.setAttribute("data-js-error", String(e.message));
});
</script>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
  margin: 24px auto; max-width: 940px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.meta { color: #555; margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.card b { display: block; font-size: 20px; }
.card span { color: #666; font-size: 12px; }
.bad b { color: #d62728; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f6f6f6; }
svg.chart { width: 100%; height: auto; border: 1px solid #eee; border-radius: 6px; }
svg .grid { stroke: #eee; }
svg .frame { fill: none; stroke: #bbb; }
svg .line { fill: none; stroke-width: 2; }
svg .tick, svg .legend { font-size: 11px; fill: #555; }
svg .axis { font-size: 12px; fill: #333; }
svg .empty { font-size: 14px; fill: #999; text-anchor: middle; }
svg [data-tip] { cursor: crosshair; }
#tip { position: absolute; display: none; background: #222; color: #fff; padding: 3px 7px;
  border-radius: 4px; font-size: 12px; pointer-events: none; }
.note { color: #555; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="meta">{{.Started}} · {{.Targets}}<br/>
{{.Load}} · stopped: {{.R.StopReason}} after {{f1 .R.ElapsedS}} s</p>
<div class="cards">
<div class="card"><b>{{f1 .R.ThroughputRPS}}</b><span>requests/s</span></div>
<div class="card"><b>{{ms .R.Latency.P50Ms}}</b><span>p50 ms</span></div>
<div class="card"><b>{{ms .R.Latency.P99Ms}}</b><span>p99 ms</span></div>
<div class="card"><b>{{ms .R.Latency.P999Ms}}</b><span>p99.9 ms</span></div>
<div class="card"><b>{{ms .R.Latency.MaxMs}}</b><span>max ms</span></div>
<div class="card{{if .R.Errors}} bad{{end}}">
<b>{{.R.Errors}}</b><span>errors of {{.R.Requests}}</span></div>
{{- with .R.Revocation}}
<div class="card{{if or .Stale .Unenforced}} bad{{end}}">
<b>{{.Stale}}</b><span>stale answers</span></div>
{{- end}}
</div>

<h2>Throughput</h2>
{{.Throughput}}
<h2>Latency over time</h2>
{{.Latency}}
{{- if .DrainS}}
<p class="note">The last {{f1 .DrainS}} s, while requests in flight at the end completed,
is left out of the charts above (it is in the totals and the JSON timeline).</p>
{{- end}}
<h2>Latency distribution</h2>
{{.Distribution}}

<h2>Latency by operation</h2>
<table>
<tr>
<th>operation</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th>
<th>mean ms</th><th>ok</th><th>req/s</th><th>errors</th>
</tr>
{{- range .Rows}}
<tr>
<td>{{.Name}}</td><td>{{ms .S.P50Ms}}</td><td>{{ms .S.P90Ms}}</td><td>{{ms .S.P99Ms}}</td>
<td>{{ms .S.P999Ms}}</td><td>{{ms .S.MaxMs}}</td><td>{{ms .S.MeanMs}}</td><td>{{.S.Count}}</td>
<td>{{f1 .RPS}}</td><td>{{.Errs}}</td>
</tr>
{{- end}}
</table>
{{- if eq .R.Load.Model "open"}}
<p class="note">Open model: latency runs from the time each request was due,
service time from the time it was sent.</p>
{{- end}}
{{- with .R.Revocation}}

<h2>Revocation</h2>
<table>
<tr>
<th>revoked</th><th>checks</th><th>stale answers</th>
<th>not enforced in {{.PollDeadlineS}} s</th><th>enforced p50 ms</th><th>p99 ms</th>
<th>max ms</th>
</tr>
<tr>
<td>{{.Revoked}}</td><td>{{.Checks}}</td><td>{{.Stale}}</td><td>{{.Unenforced}}</td>
<td>{{ms .Enforcement.P50Ms}}</td><td>{{ms .Enforcement.P99Ms}}</td>
<td>{{ms .Enforcement.MaxMs}}</td>
</tr>
</table>
{{- end}}
{{- if .Errors}}

<h2>Errors</h2>
<table>
<tr><th>kind</th><th>count</th></tr>
{{- range .Errors}}
<tr><td>{{.K}}</td><td>{{.V}}</td></tr>
{{- end}}
</table>
{{- end}}

<h2>Run</h2>
<table>
<tr>
<td>setup (not measured)</td>
<td>{{.R.Setup.Users}} users, {{.R.Setup.Clients}} clients,
{{.R.Setup.Tokens}} tokens in {{f1 .R.Setup.Seconds}} s</td>
</tr>
<tr>
<td>benchmark client</td>
<td>{{.R.Client.GoVersion}}, GOMAXPROCS {{.R.Client.GOMAXPROCS}} of {{.R.Client.NumCPU}} CPUs</td>
</tr>
{{- range .Counters}}
<tr><td>{{.K}}</td><td>{{.V}}</td></tr>
{{- end}}
</table>
{{- range .R.Notes}}
<p class="note">{{.}}</p>
{{- end}}
<div id="tip"></div>
<script>
(function () {
  var tip = document.getElementById("tip");
  var marks = document.querySelectorAll("[data-tip]");
  function show(e) {
    tip.textContent = e.currentTarget.getAttribute("data-tip");
    tip.style.left = (e.pageX + 12) + "px";
    tip.style.top = (e.pageY + 12) + "px";
    tip.style.display = "block";
  }
  function hide() { tip.style.display = "none"; }
  marks.forEach(function (m) {
    m.addEventListener("mousemove", show);
    m.addEventListener("mouseleave", hide);
  });
  document.documentElement.setAttribute("data-ready", String(marks.length));
})();
</script>
</body>
</html>
`
