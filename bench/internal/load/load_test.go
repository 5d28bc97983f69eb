package load

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock whose time moves only when told: SleepUntil jumps to
// the wake-up time, and workers advance it to simulate service time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) SleepUntil(_ context.Context, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// scriptedWorker takes service[i] to serve its i-th operation (the last
// entry repeats) and records each latency from the due time, the way the
// scenario workers do.
type scriptedWorker struct {
	clk       *fakeClock
	service   []time.Duration
	limit     int // operations before running out of work; 0 for none
	latencies []time.Duration
	dues      []time.Time
}

func (w *scriptedWorker) Do(due time.Time) bool {
	if w.limit > 0 && len(w.latencies) >= w.limit {
		return false
	}
	i := min(len(w.latencies), len(w.service)-1)
	w.clk.advance(w.service[i])
	w.dues = append(w.dues, due)
	w.latencies = append(w.latencies, w.clk.Now().Sub(due))
	return true
}

func ms(n ...int) []time.Duration {
	out := make([]time.Duration, len(n))
	for i, v := range n {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func TestOpenModelMeasuresFromDueTime(t *testing.T) {
	// 100 requests/s: one due every 10 ms. The first takes 50 ms, so the next
	// four are sent late; their latency must include the time they waited,
	// not only the 1 ms the server spent on them.
	clk := &fakeClock{now: time.Unix(1000, 0)}
	w := &scriptedWorker{clk: clk, service: ms(50, 1)}
	m := Model{Concurrency: 1, Rate: 100, Requests: 8}

	res := Run(context.Background(), clk, m, []Worker{w})

	want := ms(50, 41, 32, 23, 14, 5, 1, 1)
	if len(w.latencies) != len(want) {
		t.Fatalf("ran %d operations, want %d", len(w.latencies), len(want))
	}
	for i := range want {
		if w.latencies[i] != want[i] {
			t.Errorf("latency[%d] = %v, want %v (all: %v)", i, w.latencies[i], want[i], w.latencies)
		}
	}
	if res.Stop != StopRequests || res.Issued != 8 {
		t.Errorf("stop = %q, issued %d; want %q, 8", res.Stop, res.Issued, StopRequests)
	}
}

func TestClosedModelMeasuresFromSend(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	w := &scriptedWorker{clk: clk, service: ms(50, 1)}
	m := Model{Concurrency: 1, Requests: 4}

	Run(context.Background(), clk, m, []Worker{w})

	want := ms(50, 1, 1, 1)
	for i := range want {
		if w.latencies[i] != want[i] {
			t.Errorf("latency[%d] = %v, want %v", i, w.latencies[i], want[i])
		}
	}
}

func TestDue(t *testing.T) {
	start := time.Unix(0, 0)
	tests := []struct {
		rate float64
		k    int64
		want time.Duration
	}{
		{rate: 1000, k: 0, want: 0},
		{rate: 1000, k: 1, want: time.Millisecond},
		{rate: 3, k: 3, want: time.Second},
		{rate: 3, k: 3_000_000, want: 1_000_000 * time.Second}, // no drift
		{rate: 0.5, k: 2, want: 4 * time.Second},
	}
	for _, tt := range tests {
		if got := Due(start, tt.rate, tt.k).Sub(start); got != tt.want {
			t.Errorf("Due(rate %v, k %d) = %v, want %v", tt.rate, tt.k, got, tt.want)
		}
	}
}

func TestRunStops(t *testing.T) {
	tests := []struct {
		name      string
		model     Model
		limit     int
		wantStop  string
		wantCount int
	}{
		{
			name:      "open model stops at the duration",
			model:     Model{Concurrency: 1, Rate: 10, Duration: time.Second},
			wantStop:  StopDuration,
			wantCount: 10, // due at 0, 100 ms, …, 900 ms; 1 s is past the end
		},
		{
			name:      "closed model stops at the duration",
			model:     Model{Concurrency: 1, Duration: 100 * time.Millisecond},
			wantStop:  StopDuration,
			wantCount: 10, // 10 ms each
		},
		{
			name:      "request bound",
			model:     Model{Concurrency: 1, Requests: 3, Duration: time.Hour},
			wantStop:  StopRequests,
			wantCount: 3,
		},
		{
			name:      "workers run out of work",
			model:     Model{Concurrency: 1, Duration: time.Hour},
			limit:     5,
			wantStop:  StopExhausted,
			wantCount: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{now: time.Unix(1000, 0)}
			w := &scriptedWorker{clk: clk, service: ms(10), limit: tt.limit}
			res := Run(context.Background(), clk, tt.model, []Worker{w})
			if res.Stop != tt.wantStop || len(w.latencies) != tt.wantCount {
				t.Errorf("stop %q after %d ops, want %q after %d",
					res.Stop, len(w.latencies), tt.wantStop, tt.wantCount)
			}
		})
	}
}

// countingWorker counts its operations; it is safe for one goroutine.
type countingWorker struct{ n int }

func (w *countingWorker) Do(time.Time) bool { w.n++; return true }

func TestRunSplitsRequestBoundAcrossWorkers(t *testing.T) {
	workers := make([]*countingWorker, 8)
	ws := make([]Worker, len(workers))
	for i := range workers {
		workers[i] = &countingWorker{}
		ws[i] = workers[i]
	}
	res := Run(context.Background(), RealClock{}, Model{Concurrency: 8, Requests: 1000}, ws)

	total := 0
	for _, w := range workers {
		total += w.n
	}
	if total != 1000 || res.Issued != 1000 {
		t.Errorf("workers did %d operations, issued %d; want exactly 1000", total, res.Issued)
	}
}

func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := Run(ctx, RealClock{}, Model{Concurrency: 2, Rate: 1}, []Worker{&countingWorker{}})
	if res.Stop != StopCanceled {
		t.Errorf("stop = %q, want %q", res.Stop, StopCanceled)
	}
}
