// Package ratelimit keeps one token bucket per key (a client IP, say) in a
// bounded amount of memory.
package ratelimit

import (
	"container/heap"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// maxShards is the most shards a Limiter splits its keys over. 64 keeps lock
// contention negligible on machines with tens of cores while each shard stays
// large enough for its share of maxKeys to be meaningful.
const maxShards = 64

// Limiter allows each key rate events per second on average, with bursts of up
// to burst events, and remembers at most maxKeys keys. Buckets refill lazily,
// computed from timestamps when a key is next seen: there is no background
// goroutine and nothing to close.
//
// Each bucket is a single time, full: the instant at which it will hold burst
// tokens again (a bucket that is full now has full <= now). Taking a token
// pushes full one interval (1/rate) later; a token is available while full is
// at most burst-1 intervals after now. This is the generic cell rate
// algorithm, equivalent to a token bucket that holds a fractional count.
//
// Keys are spread over up to 64 shards, each with its own lock and an equal
// share of maxKeys, so the total never exceeds maxKeys; since keys do not
// spread perfectly evenly, a shard may start evicting while the Limiter as a
// whole holds a few percent fewer keys than that. Each key costs about 80
// bytes plus its length.
//
// When a new key arrives and its shard is at capacity, the Limiter evicts the
// bucket with the earliest full: a full bucket if there is one, which loses
// nothing since a fresh bucket is full too, and otherwise the bucket nearest
// to full, whose eviction forgives the fewest tokens. A flood of distinct keys
// can therefore evict drained buckets and hand their keys a fresh burst; that
// is the price of bounded memory, and it takes on the order of maxKeys
// distinct keys.
//
// A Limiter is safe for concurrent use. Its zero value is not usable: call New.
type Limiter struct {
	interval time.Duration // time to earn one token
	window   time.Duration // burst intervals: how far full may run ahead of now
	// seed is random per Limiter so that no client can tell which keys share
	// a shard and aim a flood of keys at the shard of its victim.
	seed   maphash.Seed
	shards []shard
}

// shard is one lock's worth of buckets.
type shard struct {
	// mu guards the fields below.
	mu      sync.Mutex
	buckets map[string]*bucket
	byFull  fullHeap // the same buckets, earliest full first
	max     int      // most buckets this shard keeps

	// Padding so that two shards' locks never share a 64-byte cache line:
	// the fields above fit in one line, and this gap is a full line.
	_ [64]byte
}

// bucket is one key's state. full keeps the monotonic clock reading of the
// time passed to Allow, so a step of the wall clock (NTP, a VM resuming)
// neither locks keys out nor refills them.
type bucket struct {
	key   string
	full  time.Time
	index int // position in byFull
}

// New returns a Limiter of rate tokens per second, bursts of burst tokens, and
// at most maxKeys buckets in memory. New panics unless rate is positive and
// finite, burst is at least 1, maxKeys is at least 1, and one token's interval
// (1/rate) is at least a nanosecond. The rate is kept as a whole number of
// nanoseconds per token, so rates that do not divide a second round down by
// under a nanosecond per token.
func New(rate float64, burst, maxKeys int) *Limiter {
	return newLimiter(rate, burst, maxKeys, maxShards)
}

func newLimiter(rate float64, burst, maxKeys, shards int) *Limiter {
	interval := float64(time.Second) / rate
	if !(rate > 0) || math.IsInf(rate, 0) || interval < 1 || interval > math.MaxInt64/2 ||
		burst < 1 || maxKeys < 1 {
		panic(fmt.Sprintf("ratelimit.New(%v, %d, %d): invalid arguments", rate, burst, maxKeys))
	}
	l := &Limiter{
		interval: time.Duration(interval),
		seed:     maphash.MakeSeed(),
		shards:   make([]shard, min(shards, maxKeys)),
	}
	l.window = l.interval * time.Duration(burst)
	if l.window/time.Duration(burst) != l.interval {
		panic(fmt.Sprintf("ratelimit.New(%v, %d, %d): burst too long", rate, burst, maxKeys))
	}

	// Spread maxKeys over the shards exactly, so the total never exceeds it.
	n := len(l.shards)
	for i := range l.shards {
		s := &l.shards[i]
		s.max = maxKeys / n
		if i < maxKeys%n {
			s.max++
		}
		s.buckets = make(map[string]*bucket)
	}
	return l
}

// Allow spends one token of key's bucket as of now, if it has one, and reports
// whether it did. When it did not, retryAfter is how long until a token will
// be available (more than zero, to the nanosecond: rounding up to whole
// seconds for a Retry-After header is the caller's job). A refused call
// spends nothing, so retrying at now+retryAfter succeeds unless another call
// for the same key took that token first.
//
// now should come from time.Now, whose monotonic reading Allow uses; tests
// may pass any time. A now earlier than that of an earlier call for the same
// key counts against the key: its wait grows by the difference. Callers that
// read time.Now just before Allow differ by microseconds at most.
func (l *Limiter) Allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	s := &l.shards[l.shardOf(key)]
	s.mu.Lock()
	defer s.mu.Unlock()

	b := s.buckets[key]
	if b == nil {
		b = s.addLocked(key, now)
	}
	full := b.full
	if full.Before(now) {
		full = now
	}
	next := full.Add(l.interval)
	if wait := next.Sub(now) - l.window; wait > 0 {
		return false, wait
	}
	b.full = next
	heap.Fix(&s.byFull, b.index)
	return true, 0
}

// Len returns the number of keys the Limiter holds now, at most maxKeys.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.buckets)
		s.mu.Unlock()
	}
	return n
}

func (l *Limiter) shardOf(key string) int {
	if len(l.shards) == 1 {
		return 0
	}
	return int(maphash.String(l.seed, key) % uint64(len(l.shards)))
}

// addLocked adds a full bucket for key, first evicting the bucket with the
// earliest full time if the shard is at capacity. The caller holds s.mu.
func (s *shard) addLocked(key string, now time.Time) *bucket {
	if len(s.buckets) >= s.max {
		old := heap.Pop(&s.byFull).(*bucket)
		delete(s.buckets, old.key)
	}
	b := &bucket{key: key, full: now}
	heap.Push(&s.byFull, b)
	s.buckets[key] = b
	return b
}

// fullHeap orders buckets by full time, earliest first, for container/heap.
type fullHeap []*bucket

func (h fullHeap) Len() int           { return len(h) }
func (h fullHeap) Less(i, j int) bool { return h[i].full.Before(h[j].full) }

func (h fullHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *fullHeap) Push(x any) {
	b := x.(*bucket)
	b.index = len(*h)
	*h = append(*h, b)
}

func (h *fullHeap) Pop() any {
	old := *h
	b := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return b
}
