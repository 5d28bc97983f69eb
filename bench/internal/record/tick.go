package record

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/authd/authd/bench/internal/hist"
)

// Interval is the digest of one stretch of a run, usually one second, over
// all operations. Latencies are in milliseconds, from the intended send time,
// of the successful requests that completed in the interval.
type Interval struct {
	EndS     float64 `json:"t_s"`   // seconds from the start of the run to the end of the interval
	DurS     float64 `json:"dur_s"` // length of the interval in seconds
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	RPS      float64 `json:"rps"` // Requests / DurS
	P50Ms    float64 `json:"p50_ms"`
	P90Ms    float64 `json:"p90_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
}

// Tick closes the interval that ends at now: it moves what the workers
// recorded since the previous Tick into the run totals, appends the interval
// to the timeline, and returns it.
func (r *Recorder) Tick(now time.Time) Interval {
	r.mu.Lock()
	defer r.mu.Unlock()

	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		s.ops, r.spare = r.spare, s.ops
		s.mu.Unlock()
		mergeSet(r.interval, r.spare)
	}

	merged := hist.New()
	var c counts
	for _, st := range r.interval {
		merged.Merge(st.latency)
		c.merge(&st.counts)
	}
	mergeSet(r.total, r.interval)

	iv := intervalOf(merged, &c, now.Sub(r.start), now.Sub(r.last))
	r.last = now
	r.timeline = append(r.timeline, iv)
	return iv
}

// mergeSet adds every operation of from into dst and resets from.
func mergeSet(dst, from []*opStats) {
	for i, st := range from {
		dst[i].latency.Merge(st.latency)
		dst[i].service.Merge(st.service)
		dst[i].counts.merge(&st.counts)
		st.reset()
	}
}

func intervalOf(h *hdrhistogram.Histogram, c *counts, end, dur time.Duration) Interval {
	s := hist.Summarize(h)
	iv := Interval{
		EndS:     end.Seconds(),
		DurS:     dur.Seconds(),
		Requests: c.classes[OK] + c.errors(),
		Errors:   c.errors(),
		P50Ms:    s.P50Ms,
		P90Ms:    s.P90Ms,
		P99Ms:    s.P99Ms,
		MaxMs:    s.MaxMs,
	}
	if iv.DurS > 0 {
		iv.RPS = float64(iv.Requests) / iv.DurS
	}
	return iv
}

// Timeline returns a copy of the intervals closed so far, oldest first.
func (r *Recorder) Timeline() []Interval {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Interval(nil), r.timeline...)
}

// OpTotals is the run total of one operation.
type OpTotals struct {
	Name     string
	Requests int64 // every request, failed or not
	Errors   int64
	ErrKinds map[string]int64 // by Outcome.Kind; nil when there were none
	Latency  hist.Summary
	Service  hist.Summary
}

// Totals returns the per-operation totals of everything recorded up to the
// last Tick, and the latency histogram of every operation merged (owned by
// the caller). Call Tick first to include the most recent records.
func (r *Recorder) Totals() ([]OpTotals, *hdrhistogram.Histogram) {
	r.mu.Lock()
	defer r.mu.Unlock()

	merged := hist.New()
	out := make([]OpTotals, len(r.total))
	for i, st := range r.total {
		merged.Merge(st.latency)
		out[i] = OpTotals{
			Name:     r.ops[i],
			Requests: st.counts.classes[OK] + st.counts.errors(),
			Errors:   st.counts.errors(),
			ErrKinds: st.counts.kinds(),
			Latency:  hist.Summarize(st.latency),
			Service:  hist.Summarize(st.service),
		}
	}
	return out, merged
}

// ServiceTotal returns the service-time histogram of every operation merged,
// up to the last Tick (owned by the caller).
func (r *Recorder) ServiceTotal() *hdrhistogram.Histogram {
	r.mu.Lock()
	defer r.mu.Unlock()
	merged := hist.New()
	for _, st := range r.total {
		merged.Merge(st.service)
	}
	return merged
}
