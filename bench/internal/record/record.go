// Package record collects the outcome of every request a benchmark run makes:
// latency histograms per operation, error counts by kind, and a timeline of
// one-second intervals, cheaply enough to sit on the hot path of many workers.
package record

import (
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/authd/authd/bench/internal/hist"
)

// Class says how a request ended.
type Class uint8

// The request outcomes a Recorder distinguishes.
const (
	OK        Class = iota // the expected status and a well-formed answer
	Status                 // an unexpected HTTP status (Outcome.Status holds it)
	Timeout                // no response within the request timeout
	Transport              // connection refused, reset, closed, or a dial error
	Protocol               // the expected status, but an answer that breaks the contract
	Inactive               // introspection said active:false for a token that must be active
	numClasses
)

// Outcome is how one request ended.
type Outcome struct {
	Class  Class
	Status int // the HTTP status when Class is Status
}

// Kind returns the name under which reports count the outcome: "status_429",
// "timeout", "transport", "protocol", "inactive", or "" for OK.
func (o Outcome) Kind() string {
	switch o.Class {
	case OK:
		return ""
	case Status:
		return "status_" + strconv.Itoa(o.Status)
	case Timeout:
		return "timeout"
	case Transport:
		return "transport"
	case Protocol:
		return "protocol"
	default:
		return "inactive"
	}
}

// counts are the error tallies of one operation.
type counts struct {
	status  [600]int64 // by HTTP status; other statuses go to status[0]
	classes [numClasses]int64
}

func (c *counts) add(o Outcome) {
	c.classes[o.Class]++
	if o.Class == Status {
		s := o.Status
		if s < 0 || s >= len(c.status) {
			s = 0
		}
		c.status[s]++
	}
}

func (c *counts) merge(from *counts) {
	for i, n := range from.status {
		c.status[i] += n
	}
	for i, n := range from.classes {
		c.classes[i] += n
	}
}

// kinds returns the error counts by Outcome.Kind, without OK; nil when none.
func (c *counts) kinds() map[string]int64 {
	var m map[string]int64
	put := func(k string, n int64) {
		if n == 0 {
			return
		}
		if m == nil {
			m = make(map[string]int64)
		}
		m[k] += n
	}
	for s, n := range c.status {
		put(Outcome{Class: Status, Status: s}.Kind(), n)
	}
	for cl := Timeout; cl < numClasses; cl++ {
		put(Outcome{Class: cl}.Kind(), c.classes[cl])
	}
	return m
}

func (c *counts) errors() int64 {
	var n int64
	for cl := Status; cl < numClasses; cl++ {
		n += c.classes[cl]
	}
	return n
}

// opStats is what one shard holds for one operation.
type opStats struct {
	latency *hdrhistogram.Histogram // from the intended send time, successes only
	service *hdrhistogram.Histogram // from the actual send time, successes only
	counts  counts
}

func newOpStats() *opStats {
	return &opStats{latency: hist.New(), service: hist.New()}
}

func (s *opStats) reset() {
	s.latency.Reset()
	s.service.Reset()
	s.counts = counts{}
}

// shard is the part of a Recorder that a subset of the workers write to.
type shard struct {
	mu  sync.Mutex // guards ops; held for one record, or for one swap by Tick
	ops []*opStats
	_   [64]byte // keeps neighbouring shards' locks off one cache line
}

// Recorder collects request outcomes. Record is safe for concurrent use and
// cheap (one uncontended lock and three array updates); Tick and the report
// accessors are meant for one collecting goroutine at a time, and are safe to
// call concurrently with Record.
type Recorder struct {
	ops    []string
	shards []shard
	start  time.Time

	mu       sync.Mutex // guards the fields below
	last     time.Time
	spare    []*opStats // swapped into a shard by Tick
	total    []*opStats
	interval []*opStats
	timeline []Interval
}

// New returns a Recorder for the named operations, spread over nshards
// shards (at least one), whose clock starts at start.
func New(ops []string, nshards int, start time.Time) *Recorder {
	if nshards < 1 {
		nshards = 1
	}
	r := &Recorder{
		ops:      ops,
		shards:   make([]shard, nshards),
		start:    start,
		last:     start,
		spare:    newOpSet(len(ops)),
		total:    newOpSet(len(ops)),
		interval: newOpSet(len(ops)),
	}
	for i := range r.shards {
		r.shards[i].ops = newOpSet(len(ops))
	}
	return r
}

func newOpSet(n int) []*opStats {
	set := make([]*opStats, n)
	for i := range set {
		set[i] = newOpStats()
	}
	return set
}

// Ops returns the operation names, indexed as Record expects them.
func (r *Recorder) Ops() []string { return r.ops }

// Record counts one request of operation op, made by the worker with the given
// id, that ended with o. latency runs from the intended send time and service
// from the actual one; both are recorded only for successful requests.
func (r *Recorder) Record(worker, op int, latency, service time.Duration, o Outcome) {
	s := &r.shards[worker%len(r.shards)]
	s.mu.Lock()
	st := s.ops[op]
	if o.Class == OK {
		hist.Record(st.latency, latency)
		hist.Record(st.service, service)
	}
	st.counts.add(o)
	s.mu.Unlock()
}
