// Package hist wraps HDR histograms of request latency: one fixed geometry for
// every histogram the benchmark keeps, clamped recording, and the summaries and
// percentile distributions that reports print.
//
// Latencies are recorded in microseconds, from 1 µs to one minute, with three
// significant digits: any reported percentile is within 0.1% of the true
// value of the samples recorded.
package hist

import (
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

const (
	lowest  = 1                         // µs
	highest = int64(time.Minute / 1000) // µs
	digits  = 3                         // significant decimal digits
)

// New returns an empty latency histogram with the benchmark's geometry. A
// histogram is not safe for concurrent use.
func New() *hdrhistogram.Histogram {
	return hdrhistogram.New(lowest, highest, digits)
}

// Record adds one latency to h. Negative durations count as zero and
// durations beyond one minute count as one minute, so no sample is dropped.
func Record(h *hdrhistogram.Histogram, d time.Duration) {
	us := int64(d / time.Microsecond)
	switch {
	case us < 0:
		us = 0
	case us > highest:
		us = highest
	}
	// The value is clamped into the trackable range, so the error cannot occur.
	_ = h.RecordValue(us)
}

// Summary is the digest of one latency histogram that reports show.
// Durations are in milliseconds; every field is zero when Count is zero.
type Summary struct {
	Count  int64   `json:"count"`
	MinMs  float64 `json:"min_ms"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P90Ms  float64 `json:"p90_ms"`
	P99Ms  float64 `json:"p99_ms"`
	P999Ms float64 `json:"p99_9_ms"`
	MaxMs  float64 `json:"max_ms"`
}

// Summarize returns the summary of h.
func Summarize(h *hdrhistogram.Histogram) Summary {
	if h.TotalCount() == 0 {
		return Summary{}
	}
	return Summary{
		Count:  h.TotalCount(),
		MinMs:  ms(h.Min()),
		MeanMs: round3(h.Mean() / 1000),
		P50Ms:  ms(h.ValueAtQuantile(50)),
		P90Ms:  ms(h.ValueAtQuantile(90)),
		P99Ms:  ms(h.ValueAtQuantile(99)),
		P999Ms: ms(h.ValueAtQuantile(99.9)),
		MaxMs:  ms(h.Max()),
	}
}

// Point is one point of a percentile distribution: the latency under which
// Percentile percent of the samples fall.
type Point struct {
	Percentile float64 `json:"percentile"`
	Ms         float64 `json:"ms"`
}

// Distribution returns the latency at a fixed ladder of percentiles, from 0 to
// 100 with ever finer steps towards the tail (…, 99, 99.9, 99.99, 99.999), the
// classic HDR percentile plot. Percentiles beyond the resolution of the sample
// count (more nines than log10 of the count) are left out, since they would
// only repeat the maximum. Distribution returns nil for an empty histogram.
func Distribution(h *hdrhistogram.Histogram) []Point {
	n := h.TotalCount()
	if n == 0 {
		return nil
	}
	maxNines := math.Log10(float64(n))
	var pts []Point
	for _, p := range ladder {
		if nines(p) > maxNines {
			break
		}
		pts = append(pts, Point{Percentile: p, Ms: ms(h.ValueAtQuantile(p))})
	}
	return append(pts, Point{Percentile: 100, Ms: ms(h.Max())})
}

// ladder lists the percentiles Distribution reports, below 100.
var ladder = []float64{
	0, 10, 20, 30, 40, 50, 55, 60, 65, 70, 75, 77.5, 80, 82.5, 85, 87.5,
	90, 91.25, 92.5, 93.75, 95, 96, 97, 97.5, 98, 98.5, 99, 99.25, 99.5, 99.75,
	99.9, 99.925, 99.95, 99.975, 99.99, 99.995, 99.999, 99.9995, 99.9999,
}

// nines returns how many nines percentile p has: 90 -> 1, 99 -> 2, 99.9 -> 3.
func nines(p float64) float64 {
	if p >= 100 {
		return math.Inf(1)
	}
	return -math.Log10(1 - p/100)
}

// Nines is exported for charts that place percentiles on a "number of nines"
// axis: it maps 0 -> 0, 90 -> 1, 99 -> 2, 99.9 -> 3, and 100 to +Inf.
func Nines(p float64) float64 { return nines(p) }

// ms converts a microsecond count to milliseconds rounded to the microsecond.
func ms(us int64) float64 { return float64(us) / 1000 }

// round3 rounds to three decimals, the resolution of every other field.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
