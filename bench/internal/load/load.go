// Package load drives benchmark workers under one of two load models and
// decides when a run is over.
//
// In the closed model, Concurrency workers each send a request, wait for the
// answer and send the next one at once: the server's speed sets the rate.
// In the open model, requests are due at a fixed arrival rate whatever the
// server does; the k-th request is due at start + k/Rate. Concurrency workers
// claim due requests in order, so when the server falls behind, requests
// queue inside the benchmark and their latency, measured from the time they
// were due rather than the time they were sent, grows as a real client's
// would. This is what keeps open-model results free of coordinated omission.
package load

import (
	"context"
	"time"
)

// Model is how much load a run offers and when it stops.
type Model struct {
	Concurrency int           // workers; in the open model, the most requests in flight
	Rate        float64       // requests per second; 0 selects the closed model
	Duration    time.Duration // stop issuing after this long; 0 means no time bound
	Requests    int64         // stop after this many operations; 0 means no count bound
}

// Open reports whether m is the open (fixed arrival rate) model.
func (m Model) Open() bool { return m.Rate > 0 }

// Worker performs operations. Each Worker is driven by one goroutine, so its
// methods need not be safe for concurrent use.
type Worker interface {
	// Do performs one operation that was due at the given time (in the
	// closed model, the time it is started) and records its outcome. It
	// returns false when the worker has nothing more to do, for instance
	// when a pool of single-use tokens is used up.
	Do(due time.Time) bool
}

// Clock is the time source of a run; tests substitute a fake one.
type Clock interface {
	Now() time.Time
	// SleepUntil returns when t is reached or ctx is done, whichever comes
	// first.
	SleepUntil(ctx context.Context, t time.Time)
}

// Stop reasons reported by Run.
const (
	StopDuration  = "duration reached"
	StopRequests  = "request count reached"
	StopExhausted = "workers ran out of work"
	StopCanceled  = "canceled"
)

// Result says how a run ended.
type Result struct {
	Start   time.Time
	Elapsed time.Duration
	Issued  int64  // operations handed to workers
	Stop    string // one of the Stop constants
}
