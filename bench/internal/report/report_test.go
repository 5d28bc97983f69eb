package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/bench/internal/load"
	"github.com/authd/authd/bench/internal/record"
)

// sample builds a report from a recorder fed known samples: three seconds
// of introspections at 1, 2 and 3 ms, some refreshes, and a few errors.
func sample(t *testing.T) *Report {
	t.Helper()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := record.New([]string{"introspect", "refresh"}, 2, start)
	for s := 1; s <= 3; s++ {
		for i := 0; i < 1000; i++ {
			rec.Record(i, 0, time.Duration(s)*time.Millisecond, time.Millisecond, record.Outcome{})
		}
		for i := 0; i < 100; i++ {
			rec.Record(i, 1, 10*time.Millisecond, 5*time.Millisecond, record.Outcome{})
		}
		rec.Record(0, 1, 0, 0, record.Outcome{Class: record.Status, Status: 429})
		rec.Tick(start.Add(time.Duration(s) * time.Second))
	}
	m := load.Model{Concurrency: 8, Rate: 1100, Duration: 3 * time.Second}
	r := &Report{Version: Version, Scenario: "mixed", Targets: []string{"http://127.0.0.1:8080"},
		Load: LoadOf(m), Client: ThisClient()}
	r.Fill(rec, load.Result{Start: start, Elapsed: 3 * time.Second, Stop: load.StopDuration})
	r.Revocation = &Revocation{Revoked: 10, Checks: 20, PollDeadlineS: 2}
	r.Counters = map[string]int64{"relogins": 1}
	r.Notes = []string{"a note with <angle> & ampersand"}
	return r
}

func TestFill(t *testing.T) {
	r := sample(t)
	if r.Requests != 3303 || r.Errors != 3 || r.ErrorKinds["status_429"] != 3 {
		t.Errorf("requests %d errors %d kinds %v; want 3303, 3, status_429: 3",
			r.Requests, r.Errors, r.ErrorKinds)
	}
	if r.ThroughputRPS != 1101 || r.GoodputRPS != 1100 {
		t.Errorf("throughput %v goodput %v; want 1101, 1100", r.ThroughputRPS, r.GoodputRPS)
	}
	l := r.Latency
	if !approx(l.P50Ms, 2) || !approx(l.P90Ms, 3) || !approx(l.P99Ms, 10) || !approx(l.MaxMs, 10) {
		t.Errorf("latency %+v; want p50 2, p90 3, p99 10, max 10 ms", l)
	}
	if r.ServiceTime == nil || !approx(r.ServiceTime.P50Ms, 1) {
		t.Errorf("service time %+v; want p50 1 ms for the open model", r.ServiceTime)
	}
	if len(r.Ops) != 2 || !approx(r.Ops[1].Latency.P50Ms, 10) || len(r.Timeline) != 3 {
		t.Errorf("ops %+v, %d intervals", r.Ops, len(r.Timeline))
	}
}

// approx reports whether got is want within the histograms' resolution
// (three significant digits).
func approx(got, want float64) bool {
	d := got - want
	return d <= want*0.001+0.001 && d >= -(want*0.001+0.001)
}

func TestJSONRoundTrip(t *testing.T) {
	r := sample(t)
	path := filepath.Join(t.TempDir(), "run.json")
	if err := r.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Started.Equal(r.Started) {
		t.Errorf("started %v, want %v", got.Started, r.Started)
	}
	got.Started = r.Started
	if !reflect.DeepEqual(got, r) {
		t.Errorf("round trip changed the report:\n got %+v\nwant %+v", got, r)
	}
}

func TestReadJSONRejectsOtherVersions(t *testing.T) {
	r := sample(t)
	r.Version = Version + 1
	path := filepath.Join(t.TempDir(), "run.json")
	if err := r.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadJSON(path); err == nil {
		t.Error("ReadJSON accepted a report of another version")
	}
}

func TestCompare(t *testing.T) {
	prev := sample(t)
	cur := sample(t)
	cur.ThroughputRPS = prev.ThroughputRPS * 1.5
	cur.Latency.P99Ms = prev.Latency.P99Ms * 1.02
	cur.Latency.MaxMs = prev.Latency.MaxMs * 2
	cur.Errors = 0

	byMetric := map[string]Change{}
	for _, c := range Compare(prev, cur) {
		byMetric[c.Metric] = c
	}
	tests := []struct {
		metric  string
		rel     float64
		verdict string
	}{
		{"throughput req/s", 0.5, "better"},
		{"p99 ms", 0.02, ""}, // within noise
		{"max ms", 1, "worse"},
		{"errors", -1, "better"},
		{"refresh p50 ms", 0, ""},
	}
	for _, tt := range tests {
		c, ok := byMetric[tt.metric]
		if !ok {
			t.Errorf("no %q row", tt.metric)
			continue
		}
		if d := c.Rel - tt.rel; d > 1e-9 || d < -1e-9 || c.Verdict != tt.verdict {
			t.Errorf("%s: change %v %q, want %v %q", tt.metric, c.Rel, c.Verdict, tt.rel, tt.verdict)
		}
	}

	var out bytes.Buffer
	WriteCompare(&out, prev, cur)
	for _, want := range []string{"throughput req/s", "+50.0%", "better", "+100.0%", "worse"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("compare output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestWriteText(t *testing.T) {
	var out bytes.Buffer
	WriteText(&out, sample(t))
	for _, want := range []string{"mixed against http://127.0.0.1:8080", "open model, 1100 ops/s",
		"status_429 3", "service time", "refresh", "0 stale answers"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, out.String())
		}
	}
}

// checkWellFormed parses page as strict XML: every element closed and
// properly nested, attributes quoted, entities known.
func checkWellFormed(t *testing.T, page []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict = true
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			line, col := d.InputPos()
			t.Fatalf("page is not well-formed at %d:%d: %v", line, col, err)
		}
	}
}

func TestHTMLIsWellFormedAndSelfContained(t *testing.T) {
	var page bytes.Buffer
	if err := WriteHTML(&page, sample(t)); err != nil {
		t.Fatal(err)
	}
	checkWellFormed(t, page.Bytes())
	s := page.String()
	for _, want := range []string{`<svg id="throughput"`, `<svg id="latency"`,
		`<svg id="distribution"`, "Revocation", "status_429", "&lt;angle&gt; &amp; ampersand"} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, banned := range []string{"http://", "https://"} {
		for _, line := range strings.Split(s, "\n") {
			// The only URLs allowed are the SVG namespace and the target shown as text.
			if strings.Contains(line, banned) && !strings.Contains(line, "www.w3.org/2000/svg") &&
				!strings.Contains(line, "127.0.0.1:8080") {
				t.Errorf("page refers to the network: %s", line)
			}
		}
	}
	if strings.Contains(s, "src=") || strings.Contains(s, "<link") {
		t.Error("page loads an external resource")
	}
}

func TestHTMLWithEmptyRun(t *testing.T) {
	r := &Report{Version: Version, Scenario: "login", Load: Load{Model: "closed", Concurrency: 1}}
	var page bytes.Buffer
	if err := WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	checkWellFormed(t, page.Bytes())
	if !strings.Contains(page.String(), "no data") {
		t.Error("an empty run's charts do not say there is no data")
	}
}

func TestSummary(t *testing.T) {
	r := sample(t)
	dir := t.TempDir()
	entries := []Entry{{Path: filepath.Join(dir, "mixed.json"), Report: r}}
	var out bytes.Buffer
	WriteSummary(&out, entries)
	if !strings.Contains(out.String(), "mixed") || !strings.Contains(out.String(), "open 1100/s") {
		t.Errorf("summary lacks the run:\n%s", out.String())
	}
	path := filepath.Join(dir, "index.html")
	if err := WriteSummaryHTMLFile(path, entries); err != nil {
		t.Fatal(err)
	}
}

func TestChartTimelineLeavesOutShortTail(t *testing.T) {
	iv := func(dur float64) record.Interval { return record.Interval{DurS: dur} }
	tests := []struct {
		name      string
		give      []record.Interval
		wantLen   int
		wantDrain float64
	}{
		{"short tail", []record.Interval{iv(1), iv(1), iv(0.2)}, 2, 0.2},
		{"long tail", []record.Interval{iv(1), iv(0.7)}, 2, 0},
		{"only interval", []record.Interval{iv(0.1)}, 1, 0},
		{"empty", nil, 0, 0},
	}
	for _, tt := range tests {
		tl, drain := chartTimeline(&Report{Timeline: tt.give})
		if len(tl) != tt.wantLen || drain != tt.wantDrain {
			t.Errorf("%s: %d intervals, drain %v; want %d, %v",
				tt.name, len(tl), drain, tt.wantLen, tt.wantDrain)
		}
	}
}
