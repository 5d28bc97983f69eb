package tokencache

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/tokenstore"
)

// benchUsers are the identities of benchmark entries, built once so that
// building an entry allocates nothing.
var benchUsers = func() (u [1024]struct{ id, email, family string }) {
	for i := range u {
		u[i].id = userID(i)
		u[i].email = fmt.Sprintf("user%06d@example.com", i) // 22 bytes
		u[i].family = familyID(i)
	}
	return u
}()

// benchDigest returns the i-th of a sequence of uniformly random digests
// (splitmix64), as SHA-256 digests of random tokens are, but far cheaper.
func benchDigest(i uint64) tokenstore.Digest {
	var d tokenstore.Digest
	for j := 0; j < len(d); j += 8 {
		i += 0x9e3779b97f4a7c15
		z := i
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		binary.LittleEndian.PutUint64(d[j:], z^z>>31)
	}
	return d
}

// benchEntry returns a typical user token: a 36-character UUID, a 22-byte
// email, a short client id and scope, a family, issued now for 15 minutes.
func benchEntry(i uint64, now int64) Entry {
	u := &benchUsers[i%uint64(len(benchUsers))]
	return Entry{
		Digest: benchDigest(i), Kind: tokenstore.KindAccess, UserID: u.id, Email: u.email,
		ClientID: "dashboard", Scope: "openid profile", FamilyID: u.family,
		Generation: 1, IssuedAt: now, ExpiresAt: now + 900,
	}
}

// filledCache returns a cache of maxBytes holding entries typical tokens,
// numbered 0 to entries-1.
func filledCache(b *testing.B, maxBytes int64, entries int) *Cache {
	b.Helper()
	c := New(Config{MaxBytes: maxBytes})
	now := time.Now().Unix()
	for i := range uint64(entries) {
		c.Put(benchEntry(i, now))
	}
	if n := c.Stats().Entries; n != int64(entries) {
		b.Fatalf("cache holds %d entries, want %d", n, entries)
	}
	return c
}

// BenchmarkGetParallel measures hits from every core: on 100 entries, all in
// the CPU caches (the cost of the code), and on 10,000 and 1,000,000, where
// the index and records must come from memory (a 160 MiB cache spreads even
// 10,000 entries' index slots over 16 MiB).
func BenchmarkGetParallel(b *testing.B) {
	for _, n := range []int{100, 10_000, 1_000_000} {
		b.Run(fmt.Sprint("entries=", n), func(b *testing.B) {
			benchHits(b, filledCache(b, 160<<20, n), n, func(c *Cache, d tokenstore.Digest,
				now time.Time, _ []byte) ([]byte, bool) {
				_, ok := c.Get(d, now)
				return nil, ok
			})
		})
	}
}

// BenchmarkAppendViewParallel is BenchmarkGetParallel through AppendView,
// which allocates nothing.
func BenchmarkAppendViewParallel(b *testing.B) {
	for _, n := range []int{100, 10_000, 1_000_000} {
		b.Run(fmt.Sprint("entries=", n), func(b *testing.B) {
			benchHits(b, filledCache(b, 160<<20, n), n, func(c *Cache, d tokenstore.Digest,
				now time.Time, buf []byte) ([]byte, bool) {
				var v View
				buf, ok := c.AppendView(buf[:0], &v, d, now)
				return buf, ok
			})
		})
	}
}

// BenchmarkGetParallelWithFloors is BenchmarkGetParallel (10,000 entries)
// with 50,000 user and 50,000 family floors held, none of them revoking
// the entries hit: the cost of testing floors on every hit.
func BenchmarkGetParallelWithFloors(b *testing.B) {
	const n = 10_000
	c := filledCache(b, 160<<20, n)
	for i := range 50_000 {
		c.RevokeUser(userID(len(benchUsers)+i), 5)
		c.RevokeFamily(familyID(len(benchUsers) + i))
	}
	benchHits(b, c, n, func(c *Cache, d tokenstore.Digest, now time.Time, _ []byte) ([]byte, bool) {
		_, ok := c.Get(d, now)
		return nil, ok
	})
}

// BenchmarkBaselineMapParallel is the yardstick for BenchmarkGetParallel:
// the same hits on 64 shards of map[Digest]Entry under read locks, the
// obvious design, whose entries hold pointers the collector must scan and
// cost several times the memory.
func BenchmarkBaselineMapParallel(b *testing.B) {
	type mapShard struct {
		mu sync.RWMutex
		m  map[tokenstore.Digest]Entry
		_  [64]byte
	}
	for _, n := range []int{100, 10_000, 1_000_000} {
		b.Run(fmt.Sprint("entries=", n), func(b *testing.B) {
			var shards [64]mapShard
			now := time.Now()
			for i := range shards {
				shards[i].m = make(map[tokenstore.Digest]Entry)
			}
			for i := range uint64(n) {
				e := benchEntry(i, now.Unix())
				shards[e.Digest[0]%64].m[e.Digest] = e
			}
			benchHits(b, nil, n, func(_ *Cache, d tokenstore.Digest, now time.Time,
				_ []byte) ([]byte, bool) {
				s := &shards[d[0]%64]
				s.mu.RLock()
				e, ok := s.m[d]
				s.mu.RUnlock()
				return nil, ok && now.Unix() < e.ExpiresAt
			})
		})
	}
}

// benchHits runs get over the n cached entries from every core, each
// goroutine walking them from its own starting point.
func benchHits(b *testing.B, c *Cache, n int,
	get func(*Cache, tokenstore.Digest, time.Time, []byte) ([]byte, bool)) {
	digests := make([]tokenstore.Digest, n)
	for i := range digests {
		digests[i] = benchDigest(uint64(i))
	}
	now := time.Now()
	var start, misses atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(start.Add(7919))
		buf := make([]byte, 0, 256)
		for pb.Next() {
			i += 13
			var ok bool
			buf, ok = get(c, digests[i%n], now, buf)
			if !ok {
				misses.Add(1)
			}
		}
	})
	if m := misses.Load(); m != 0 {
		b.Fatalf("%d misses, want only hits", m)
	}
}

// BenchmarkPut measures inserting typical tokens into a full 64 MiB cache,
// so each Put also evicts.
func BenchmarkPut(b *testing.B) {
	c := New(Config{MaxBytes: 64 << 20})
	now := time.Now().Unix()
	for i := range uint64(1_000_000) {
		c.Put(benchEntry(i, now))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range uint64(b.N) {
		c.Put(benchEntry(1_000_000+i, now))
	}
}

// BenchmarkMemoryPerToken fills a cache sized for about 1,000,000 typical
// tokens past its capacity and reports the heap it takes per cached token,
// index and all, from the heap in use after garbage collection.
func BenchmarkMemoryPerToken(b *testing.B) {
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)

		c := New(Config{MaxBytes: 112_000_000})
		now := time.Now().Unix()
		for i := range uint64(1_200_000) {
			c.Put(benchEntry(i, now))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)

		st := c.Stats()
		if st.Evictions == 0 {
			b.Fatal("the cache never filled up")
		}
		heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(heap/float64(st.Entries), "B/token")
		b.ReportMetric(float64(st.Entries), "tokens")
		runtime.KeepAlive(c)
	}
}

// BenchmarkGCPause10M holds 10,000,000 typical tokens and forces garbage
// collections, reporting their stop-the-world pauses; ns/op is the time of
// one whole forced collection, most of it concurrent marking.
func BenchmarkGCPause10M(b *testing.B) {
	const tokens = 10_000_000
	c := New(Config{MaxBytes: tokens * 115})
	now := time.Now().Unix()
	for i := uint64(0); i%(1<<16) != 0 || c.Stats().Evictions == 0; i++ {
		c.Put(benchEntry(i, now))
	}
	if n := c.Stats().Entries; n < tokens {
		b.Fatalf("cache holds %d tokens, want at least %d", n, tokens)
	}
	runtime.GC()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		runtime.GC()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)

	var total, worst uint64
	cycles := after.NumGC - before.NumGC
	for i := range min(cycles, uint32(len(after.PauseNs))) {
		p := after.PauseNs[(after.NumGC-1-i)%uint32(len(after.PauseNs))]
		total += p
		worst = max(worst, p)
	}
	b.ReportMetric(float64(total)/float64(cycles), "pause-ns/GC")
	b.ReportMetric(float64(worst), "max-pause-ns")
	b.ReportMetric(float64(c.Stats().Entries), "tokens")
	b.ReportMetric(float64(after.HeapAlloc)/(1<<20), "heap-MiB")
	runtime.KeepAlive(c)
}

// BenchmarkRevokeUser measures one user revocation with 100,000 user
// floors already held (a copy of one floor shard).
func BenchmarkRevokeUser(b *testing.B) {
	c := New(Config{MaxBytes: minShardBytes})
	for i := range 100_000 {
		c.RevokeUser(userID(i), 2)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		c.RevokeUser(userID(i%100_000), 3)
	}
}
