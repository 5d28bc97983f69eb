package hist

import (
	"math"
	"testing"
	"time"
)

func TestSummarizeKnownInputs(t *testing.T) {
	// 1 µs … 10,000 µs, once each: the p-th percentile is p% of 10 ms.
	h := New()
	for us := 1; us <= 10000; us++ {
		Record(h, time.Duration(us)*time.Microsecond)
	}
	s := Summarize(h)
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"min", s.MinMs, 0.001},
		{"p50", s.P50Ms, 5},
		{"p90", s.P90Ms, 9},
		{"p99", s.P99Ms, 9.9},
		{"p99.9", s.P999Ms, 9.99},
		{"max", s.MaxMs, 10},
		{"mean", s.MeanMs, 5.0005},
	}
	for _, tt := range tests {
		// Three significant digits: within 0.1% (plus one µs of rounding).
		if math.Abs(tt.got-tt.want) > tt.want*0.001+0.001 {
			t.Errorf("%s = %v ms, want %v ms", tt.name, tt.got, tt.want)
		}
	}
	if s.Count != 10000 {
		t.Errorf("count = %d, want 10000", s.Count)
	}
}

func TestSummarizeEmpty(t *testing.T) {
	if s := Summarize(New()); s != (Summary{}) {
		t.Errorf("Summarize(empty) = %+v, want zero", s)
	}
	if d := Distribution(New()); d != nil {
		t.Errorf("Distribution(empty) = %v, want nil", d)
	}
}

func TestRecordClamps(t *testing.T) {
	h := New()
	Record(h, -time.Second)
	Record(h, time.Hour)
	s := Summarize(h)
	if s.Count != 2 || s.MinMs != 0 || s.MaxMs < 60000 || s.MaxMs > 60100 {
		t.Errorf("summary %+v; want both samples kept, clamped to 0 and one minute", s)
	}
}

func TestDistribution(t *testing.T) {
	h := New()
	for i := 0; i < 990; i++ {
		Record(h, time.Millisecond)
	}
	for i := 0; i < 10; i++ {
		Record(h, 100*time.Millisecond)
	}
	d := Distribution(h)
	last := d[len(d)-1]
	if last.Percentile != 100 || math.Abs(last.Ms-100) > 0.1 {
		t.Errorf("last point %+v, want the maximum at 100%%", last)
	}
	for i := 1; i < len(d); i++ {
		if d[i].Percentile <= d[i-1].Percentile || d[i].Ms < d[i-1].Ms {
			t.Fatalf("points %d and %d out of order: %+v %+v", i-1, i, d[i-1], d[i])
		}
	}
	for _, p := range d {
		// 1,000 samples resolve three nines at most.
		if p.Percentile > 99.9 && p.Percentile < 100 {
			t.Errorf("point %+v beyond the resolution of 1,000 samples", p)
		}
		if p.Percentile == 99 && math.Abs(p.Ms-1) > 0.01 {
			t.Errorf("p99 = %v ms, want 1 ms", p.Ms)
		}
	}
}

func TestNines(t *testing.T) {
	tests := []struct{ give, want float64 }{{0, 0}, {90, 1}, {99, 2}, {99.9, 3}}
	for _, tt := range tests {
		if got := Nines(tt.give); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Nines(%v) = %v, want %v", tt.give, got, tt.want)
		}
	}
	if !math.IsInf(Nines(100), 1) {
		t.Error("Nines(100) is not +Inf")
	}
}
