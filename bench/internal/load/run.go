package load

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// schedule hands out operation tickets to workers. It is safe for concurrent
// use.
type schedule struct {
	model    Model
	start    time.Time
	deadline time.Time // zero when there is no time bound
	next     atomic.Int64
	full     atomic.Bool // the request bound was hit
}

// Due returns when the k-th operation (from zero) of an open-model run that
// starts at start with the given rate is due. It computes from k rather than
// accumulating an interval, so rounding does not drift over long runs.
func Due(start time.Time, rate float64, k int64) time.Time {
	return start.Add(time.Duration(float64(k) * float64(time.Second) / rate))
}

// claim returns the due time of the next operation, or false when the run
// is over. now is the current time, used by the closed model and to apply
// the time bound.
func (s *schedule) claim(now time.Time) (time.Time, bool) {
	k := s.next.Add(1) - 1
	if s.model.Requests > 0 && k >= s.model.Requests {
		s.full.Store(true)
		return time.Time{}, false
	}
	due := now
	if s.model.Open() {
		due = Due(s.start, s.model.Rate, k)
	}
	if !s.deadline.IsZero() && !due.Before(s.deadline) {
		return time.Time{}, false
	}
	return due, true
}

// issued returns how many tickets were handed out.
func (s *schedule) issued() int64 {
	n := s.next.Load()
	// Every worker overshoots by the one claim that ended its loop.
	if s.model.Requests > 0 && n > s.model.Requests {
		return s.model.Requests
	}
	return n
}

// Run drives the workers under model m until the duration or request bound
// is reached, every worker has run out of work, or ctx is done; it returns
// when every worker has finished its current operation. Workers beyond
// m.Concurrency are not used; fewer workers mean less concurrency. A run
// with neither bound ends only when the workers run out of work or ctx ends.
func Run(ctx context.Context, clk Clock, m Model, workers []Worker) Result {
	if m.Concurrency > 0 && len(workers) > m.Concurrency {
		workers = workers[:m.Concurrency]
	}
	start := clk.Now()
	s := &schedule{model: m, start: start}
	if m.Duration > 0 {
		s.deadline = start.Add(m.Duration)
	}

	var exhausted atomic.Int64
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !drive(ctx, clk, s, w) {
				exhausted.Add(1)
			}
		}()
	}
	wg.Wait()

	r := Result{Start: start, Elapsed: clk.Now().Sub(start), Issued: s.issued()}
	switch {
	case ctx.Err() != nil:
		r.Stop = StopCanceled
	case s.full.Load():
		r.Stop = StopRequests
	case exhausted.Load() == int64(len(workers)):
		r.Stop = StopExhausted
	default:
		r.Stop = StopDuration
	}
	return r
}

// drive runs one worker until the schedule or the worker is done; it returns
// false if the worker ran out of work.
func drive(ctx context.Context, clk Clock, s *schedule, w Worker) bool {
	for ctx.Err() == nil {
		due, ok := s.claim(clk.Now())
		if !ok {
			return true
		}
		if s.model.Open() {
			clk.SleepUntil(ctx, due)
			if ctx.Err() != nil {
				return true
			}
		}
		if !w.Do(due) {
			return false
		}
	}
	return true
}

// RealClock is the wall clock. Its zero value is ready to use.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// SleepUntil sleeps until t or until ctx is done.
func (RealClock) SleepUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
	}
}
