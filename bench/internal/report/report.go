// Package report turns a benchmark run into the reports operators read: a
// JSON document (the stable record that later runs compare against), a
// text table, a self-contained HTML page with charts, and comparisons and
// summaries across runs.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/authd/authd/bench/internal/hist"
	"github.com/authd/authd/bench/internal/load"
	"github.com/authd/authd/bench/internal/record"
)

// Version is the version of the JSON layout; it grows when a field changes
// meaning, not when one is added.
const Version = 1

// Report is everything known about one run. Latencies are in milliseconds;
// for the open model they run from the time each request was due.
type Report struct {
	Version    int       `json:"version"`
	Scenario   string    `json:"scenario"`
	Started    time.Time `json:"started"`
	Targets    []string  `json:"targets"`
	Load       Load      `json:"load"`
	Setup      Setup     `json:"setup"`
	Client     Client    `json:"client"`
	ElapsedS   float64   `json:"elapsed_s"`
	StopReason string    `json:"stop_reason"`

	Requests      int64            `json:"requests"` // every request, failed or not
	Errors        int64            `json:"errors"`
	ThroughputRPS float64          `json:"throughput_rps"` // Requests / ElapsedS
	GoodputRPS    float64          `json:"goodput_rps"`    // successful requests / ElapsedS
	Latency       hist.Summary     `json:"latency"`        // successful requests of every operation
	ServiceTime   *hist.Summary    `json:"service_time,omitempty"`
	ErrorKinds    map[string]int64 `json:"error_kinds,omitempty"`
	Ops           []Op             `json:"ops"`

	Revocation     *Revocation        `json:"revocation,omitempty"`
	Counters       map[string]int64   `json:"counters,omitempty"`
	ServerCounters map[string]float64 `json:"server_counters,omitempty"`
	Notes          []string           `json:"notes,omitempty"`

	Timeline     []record.Interval `json:"timeline"`
	Distribution []hist.Point      `json:"distribution"`
}

// Load is the load model of a run, as asked for.
type Load struct {
	Model       string  `json:"model"` // "closed" or "open"
	Concurrency int     `json:"concurrency"`
	RateRPS     float64 `json:"rate_rps,omitempty"`
	DurationS   float64 `json:"duration_s,omitempty"`
	Requests    int64   `json:"max_requests,omitempty"`
}

// LoadOf describes m.
func LoadOf(m load.Model) Load {
	l := Load{Model: "closed", Concurrency: m.Concurrency, DurationS: m.Duration.Seconds(),
		Requests: m.Requests}
	if m.Open() {
		l.Model, l.RateRPS = "open", m.Rate
	}
	return l
}

// Setup is what a scenario created before the clock started.
type Setup struct {
	Users   int     `json:"users"`
	Clients int     `json:"clients"`
	Tokens  int     `json:"tokens"`
	Seconds float64 `json:"seconds"`
}

// Client describes the machine side of the benchmark process.
type Client struct {
	GoVersion  string `json:"go_version"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	NumCPU     int    `json:"num_cpu"`
}

// ThisClient describes the running process.
func ThisClient() Client {
	return Client{GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		NumCPU: runtime.NumCPU()}
}

// Op is the total of one operation of a scenario.
type Op struct {
	Name          string           `json:"name"`
	Requests      int64            `json:"requests"`
	Errors        int64            `json:"errors"`
	ThroughputRPS float64          `json:"throughput_rps"`
	Latency       hist.Summary     `json:"latency"`
	ErrorKinds    map[string]int64 `json:"error_kinds,omitempty"`
}

// Revocation is what the revoke scenario saw after each revocation.
type Revocation struct {
	Revoked    int64 `json:"revoked"`    // revocations the server confirmed
	Checks     int64 `json:"checks"`     // first introspection of a revoked token on each node
	Stale      int64 `json:"stale"`      // checks that still answered active:true
	Unenforced int64 `json:"unenforced"` // revocations still active somewhere at the deadline
	// PollDeadlineS is how long a node answering active:true was polled.
	PollDeadlineS float64 `json:"poll_deadline_s"`
	// Enforcement is the delay from the revoke answer to the moment every
	// node answered active:false, per revocation; 0 when every node already
	// did at the first check.
	Enforcement hist.Summary `json:"enforcement"`
}

// Fill sets the run results of r from the recorder (ticked for the last
// time) and the load result.
func (r *Report) Fill(rec *record.Recorder, res load.Result) {
	r.Started = res.Start
	r.ElapsedS = res.Elapsed.Seconds()
	r.StopReason = res.Stop
	r.Timeline = rec.Timeline()

	ops, merged := rec.Totals()
	var ok int64
	r.ErrorKinds = nil
	r.Ops = r.Ops[:0]
	for _, o := range ops {
		r.Requests += o.Requests
		r.Errors += o.Errors
		ok += o.Requests - o.Errors
		for k, n := range o.ErrKinds {
			if r.ErrorKinds == nil {
				r.ErrorKinds = make(map[string]int64)
			}
			r.ErrorKinds[k] += n
		}
		if o.Requests == 0 {
			continue // an operation the run never drew, such as a relogin
		}
		r.Ops = append(r.Ops, Op{Name: o.Name, Requests: o.Requests, Errors: o.Errors,
			ThroughputRPS: perSecond(o.Requests, r.ElapsedS), Latency: o.Latency,
			ErrorKinds: o.ErrKinds})
	}
	r.ThroughputRPS = perSecond(r.Requests, r.ElapsedS)
	r.GoodputRPS = perSecond(ok, r.ElapsedS)
	r.Latency = hist.Summarize(merged)
	r.Distribution = hist.Distribution(merged)
	if r.Load.Model == "open" {
		s := hist.Summarize(rec.ServiceTotal())
		r.ServiceTime = &s
	}
}

func perSecond(n int64, s float64) float64 {
	if s <= 0 {
		return 0
	}
	return float64(n) / s
}

// WriteJSON writes r to path as indented JSON.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode report %s: %w", path, err)
	}
	if r.Version != Version {
		return nil, fmt.Errorf("report %s has version %d, want %d", path, r.Version, Version)
	}
	return &r, nil
}
