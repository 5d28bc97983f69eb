package record

import (
	"sync"
	"testing"
	"time"
)

func TestTickAndTotals(t *testing.T) {
	start := time.Unix(100, 0)
	r := New([]string{"a", "b"}, 3, start)
	for i := 0; i < 10; i++ {
		r.Record(i, 0, time.Duration(i+1)*time.Millisecond, time.Millisecond, Outcome{})
	}
	r.Record(1, 1, time.Second, time.Second, Outcome{Class: Status, Status: 429})
	r.Record(2, 1, time.Second, time.Second, Outcome{Class: Timeout})
	iv := r.Tick(start.Add(2 * time.Second))

	if iv.Requests != 12 || iv.Errors != 2 || iv.RPS != 6 || iv.DurS != 2 {
		t.Errorf("interval %+v; want 12 requests, 2 errors, 6 req/s over 2 s", iv)
	}
	// Failed requests carry no latency: the 1 s samples must not show.
	if iv.MaxMs > 10.1 {
		t.Errorf("interval max %v ms includes a failed request", iv.MaxMs)
	}

	r.Record(0, 0, 20*time.Millisecond, time.Millisecond, Outcome{})
	iv2 := r.Tick(start.Add(3 * time.Second))
	if iv2.Requests != 1 || iv2.EndS != 3 || iv2.DurS != 1 {
		t.Errorf("second interval %+v; want 1 request ending at 3 s after 1 s", iv2)
	}

	ops, merged := r.Totals()
	if ops[0].Requests != 11 || ops[0].Errors != 0 || ops[0].Latency.Count != 11 {
		t.Errorf("op a totals %+v", ops[0])
	}
	want := map[string]int64{"status_429": 1, "timeout": 1}
	if ops[1].Requests != 2 || ops[1].Errors != 2 || len(ops[1].ErrKinds) != 2 ||
		ops[1].ErrKinds["status_429"] != want["status_429"] || ops[1].ErrKinds["timeout"] != 1 {
		t.Errorf("op b totals %+v, want errors %v", ops[1], want)
	}
	if merged.TotalCount() != 11 || len(r.Timeline()) != 2 {
		t.Errorf("merged %d samples, %d intervals; want 11, 2", merged.TotalCount(), len(r.Timeline()))
	}
}

func TestOutcomeKind(t *testing.T) {
	tests := []struct {
		give Outcome
		want string
	}{
		{Outcome{}, ""},
		{Outcome{Class: Status, Status: 503}, "status_503"},
		{Outcome{Class: Timeout}, "timeout"},
		{Outcome{Class: Transport}, "transport"},
		{Outcome{Class: Protocol}, "protocol"},
		{Outcome{Class: Inactive}, "inactive"},
	}
	for _, tt := range tests {
		if got := tt.give.Kind(); got != tt.want {
			t.Errorf("%+v.Kind() = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestRecordConcurrentWithTick(t *testing.T) {
	r := New([]string{"op"}, 4, time.Now())
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				r.Record(w, 0, time.Millisecond, time.Millisecond, Outcome{})
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			r.Tick(time.Now())
		}
	}()
	wg.Wait()
	<-done
	r.Tick(time.Now())
	ops, _ := r.Totals()
	if ops[0].Requests != 8000 {
		t.Errorf("recorded %d requests, want 8000: a Tick lost or doubled records", ops[0].Requests)
	}
}
