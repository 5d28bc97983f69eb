package ratelimit

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// step is one call to Allow at t0+at, and what it must answer.
type step struct {
	key   string
	at    time.Duration
	want  bool
	retry time.Duration // wanted retryAfter
}

func run(t *testing.T, l *Limiter, steps []step) {
	t.Helper()
	for i, s := range steps {
		ok, retry := l.Allow(s.key, t0.Add(s.at))
		if ok != s.want || retry != s.retry {
			t.Errorf("step %d: Allow(%q, t0+%v) = %v, %v; want %v, %v",
				i, s.key, s.at, ok, retry, s.want, s.retry)
		}
	}
}

// burst repeats an allowed call n times at the same instant.
func burst(key string, at time.Duration, n int) []step {
	steps := make([]step, n)
	for i := range steps {
		steps[i] = step{key, at, true, 0}
	}
	return steps
}

func TestBurstThenSteadyRate(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name  string
		rate  float64
		burst int
		steps []step
	}{
		{"burst of 20 at 10/s, then one per 100ms", 10, 20, concat(
			burst("ip", 0, 20),
			[]step{
				{"ip", 0, false, 100 * ms},
				{"ip", 40 * ms, false, 60 * ms},
				{"ip", 100 * ms, true, 0},
				{"ip", 100 * ms, false, 100 * ms},
				{"ip", 199 * ms, false, 1 * ms},
				{"ip", 200 * ms, true, 0},
				// 550ms later, 5 tokens have come back (and half of one).
			},
			burst("ip", 750*ms, 5),
			[]step{{"ip", 750 * ms, false, 50 * ms}},
		)},
		{"idle refill stops at burst", 10, 3, concat(
			burst("ip", 0, 3),
			burst("ip", time.Hour, 3),
			[]step{{"ip", time.Hour, false, 100 * ms}},
		)},
		{"burst of 1 is a plain rate", 2, 1, []step{
			{"ip", 0, true, 0},
			{"ip", 0, false, 500 * ms},
			{"ip", 499 * ms, false, 1 * ms},
			{"ip", 500 * ms, true, 0},
		}},
		{"slow rate, retry in minutes", 1.0 / 60, 2, concat(
			burst("ip", 0, 2),
			[]step{
				{"ip", 0, false, time.Minute},
				{"ip", 30 * time.Second, false, 30 * time.Second},
				{"ip", time.Minute, true, 0},
			},
		)},
		{"keys are independent", 1, 2, concat(
			burst("a", 0, 2),
			[]step{{"a", 0, false, time.Second}},
			burst("b", 0, 2),
			[]step{{"b", 0, false, time.Second}, {"a", 0, false, time.Second}},
		)},
		{"refused calls spend nothing", 1, 1, []step{
			{"ip", 0, true, 0},
			{"ip", 100 * ms, false, 900 * ms},
			{"ip", 200 * ms, false, 800 * ms},
			{"ip", 300 * ms, false, 700 * ms},
			{"ip", time.Second, true, 0},
		}},
		{"earlier now counts against the key", 1, 1, []step{
			{"ip", 10 * time.Second, true, 0},
			{"ip", 9 * time.Second, false, 2 * time.Second},
			{"ip", 11 * time.Second, true, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, New(tt.rate, tt.burst, 100), tt.steps)
		})
	}
}

func concat(parts ...[]step) []step {
	var all []step
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func TestRetryAfterIsExact(t *testing.T) {
	l := New(10, 20, 10)
	for range 20 {
		l.Allow("ip", t0)
	}
	ok, retry := l.Allow("ip", t0)
	if ok {
		t.Fatal("call 21 of a burst of 20 allowed")
	}
	if ok, _ := l.Allow("ip", t0.Add(retry-1)); ok {
		t.Errorf("allowed 1ns before retryAfter %v", retry)
	}
	if ok, _ := l.Allow("ip", t0.Add(retry)); !ok {
		t.Errorf("refused at retryAfter %v", retry)
	}
}

func TestMemoryBound(t *testing.T) {
	for _, maxKeys := range []int{1, 3, 64, 100, 1000} {
		t.Run(strconv.Itoa(maxKeys), func(t *testing.T) {
			// 20 times as many keys as room leaves no shard short of its
			// share, whatever the hash seed.
			l := New(1, 5, maxKeys)
			for i := range 20 * maxKeys {
				l.Allow("key"+strconv.Itoa(i), t0.Add(time.Duration(i)*time.Millisecond))
				if i%7 != 0 {
					continue // Len locks every shard: sample it
				}
				if n := l.Len(); n > maxKeys {
					t.Fatalf("after %d keys, Len = %d > maxKeys %d", i+1, n, maxKeys)
				}
			}
			if n := l.Len(); n != maxKeys {
				t.Errorf("after %d keys, Len = %d, want maxKeys %d", 20*maxKeys, n, maxKeys)
			}
		})
	}
}

// TestEvictsFullBucketsFirst pins the eviction order on one shard: a new key
// displaces a full bucket before any drained one, and among drained buckets
// the one nearest to full.
func TestEvictsFullBucketsFirst(t *testing.T) {
	l := newLimiter(1, 3, 3, 1) // 1 token/s, burst 3, 3 keys, one shard
	run(t, l, concat(
		burst("drained", 0, 3), // full again at t0+3s
		burst("half", 0, 2),    // at t0+2s
		burst("full", 0, 1),    // at t0+1s
	))

	// At t0+1s "full" is full: it goes for "new", which takes 2 tokens.
	at := time.Second
	run(t, l, burst("new", at, 2))
	assertKept(t, l, map[string]bool{"full": false, "half": true, "drained": true, "new": true})

	// Nothing is full now. "half" (2 tokens) is nearest to full, ahead of
	// "new" (1 token) and "drained" (1 token, earned since t0), so it goes.
	run(t, l, []step{{"newer", at, true, 0}})
	assertKept(t, l, map[string]bool{"half": false, "new": true, "drained": true, "newer": true})

	// The drained key was not forgiven by the evictions.
	run(t, l, []step{{"drained", at, true, 0}, {"drained", at, false, time.Second}})
}

func assertKept(t *testing.T, l *Limiter, want map[string]bool) {
	t.Helper()
	for key, w := range want {
		if _, kept := l.shards[0].buckets[key]; kept != w {
			t.Errorf("%q kept = %v, want %v", key, kept, w)
		}
	}
}

func TestShardsShareMaxKeysExactly(t *testing.T) {
	for _, maxKeys := range []int{1, 2, 63, 64, 65, 1000} {
		l := New(1, 1, maxKeys)
		total := 0
		for i := range l.shards {
			if l.shards[i].max < 1 {
				t.Errorf("maxKeys %d: shard %d holds %d keys", maxKeys, i, l.shards[i].max)
			}
			total += l.shards[i].max
		}
		if total != maxKeys {
			t.Errorf("maxKeys %d: shards hold %d in total", maxKeys, total)
		}
	}
}

func TestNewPanicsOnInvalidArguments(t *testing.T) {
	tests := []struct {
		rate           float64
		burst, maxKeys int
	}{
		{0, 1, 1}, {-1, 1, 1}, {posInf(), 1, 1}, {nan(), 1, 1}, {2e9, 1, 1},
		{1, 0, 1}, {1, 1, 0}, {1e-18, 1, 1}, {1e-6, 1 << 40, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%v, %d, %d) did not panic", tt.rate, tt.burst, tt.maxKeys)
				}
			}()
			New(tt.rate, tt.burst, tt.maxKeys)
		})
	}
}

func posInf() float64 { z := 0.0; return 1 / z }
func nan() float64    { z := 0.0; return z / z }

// TestConcurrentHammer runs many goroutines on shared and private keys at one
// fixed instant: each key must grant exactly burst tokens in total, whatever
// the interleaving, and memory must stay bounded. Run with -race.
func TestConcurrentHammer(t *testing.T) {
	// 16 keys per shard: the 9 keys that must survive always fit.
	const workers, calls, burstN, maxKeys = 8, 2000, 50, 16 * maxShards
	l := New(1, burstN, maxKeys)
	var shared atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			own := 0
			for i := range calls {
				if ok, _ := l.Allow("shared", t0); ok {
					shared.Add(1)
				}
				if ok, _ := l.Allow("own"+strconv.Itoa(w), t0); ok {
					own++
				}
				// Churn through fresh keys to force evictions meanwhile.
				// Seen a second earlier, they are full again by t0, before
				// any key above, so only churn keys are ever evicted.
				l.Allow(fmt.Sprintf("churn-%d-%d", w, i), t0.Add(-time.Second))
			}
			if own != burstN {
				t.Errorf("worker %d: own key granted %d, want %d", w, own, burstN)
			}
		})
	}
	wg.Wait()
	if got := shared.Load(); got != burstN {
		t.Errorf("shared key granted %d in total, want %d", got, burstN)
	}
	if n := l.Len(); n > maxKeys {
		t.Errorf("Len = %d > maxKeys %d", n, maxKeys)
	}
}

func BenchmarkAllow(b *testing.B) {
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = fmt.Sprintf("203.0.113.%d:%d", i%256, i)
	}
	for _, bc := range []struct {
		name    string
		keys    int
		maxKeys int
	}{
		{"one key", 1, 100_000},
		{"64k keys fit", len(keys), 100_000},
		{"64k keys evicting", len(keys), 1_000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l := New(10, 20, bc.maxKeys)
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				i := int(n.Add(1)) * 7919
				now := time.Now()
				for pb.Next() {
					l.Allow(keys[i%bc.keys], now)
					i++
				}
			})
		})
	}
}
