// Package tokencache is the in-memory cache of token introspection answers:
// what RFC 7662 reports about a token, keyed by the token's digest, with
// revocation by token, user, refresh token family and client.
//
// It is built to hold tens of millions of entries at about 115 bytes each
// with no cost to the garbage collector: entries are encoded into byte rings
// (arenas) with pointer-free indexes, split over power-of-two lock shards
// chosen by digest bytes. The memory bound is allocated up front and never
// exceeded; when it is full the oldest entries are evicted first. A hit
// takes one uncontended shard lock, a probe of the index and a decode of the
// record, and allocates only the returned strings (AppendView allocates
// nothing).
package tokencache

import (
	"encoding/binary"
	"math/bits"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/authd/authd/tokenstore"
)

// Entry is what the cache keeps of a token: what an RFC 7662 introspection
// answer reports, plus what revocation tests.
//
// Entries the compact record form cannot hold exactly are not cached (Put
// drops them and Lookup returns them from fill every time): a UserID that is
// not a canonical lowercase UUID, a FamilyID that is not 32 lowercase hex
// digits, an Email over 255 bytes, a Kind outside 1-15, times outside
// 0 to 2^32-1 unix seconds or ExpiresAt before IssuedAt. Stats.Uncached
// counts them.
type Entry struct {
	Digest tokenstore.Digest
	Kind   tokenstore.Kind // access or refresh
	// UserID is the canonical UUID string of the owning user, or "" for
	// client-credentials tokens.
	UserID   string
	Email    string // "" for client tokens
	ClientID string
	Scope    string
	FamilyID string // 32 hex digits, or ""
	// Generation is the user generation the token was issued under.
	Generation uint64
	IssuedAt   int64 // unix seconds
	ExpiresAt  int64 // unix seconds
}

// Config configures a Cache. Zero fields take the defaults named.
type Config struct {
	// MaxBytes bounds the memory holding entries: New allocates it all, as
	// shard arenas and indexes, and it never grows. A typical user token
	// (22-byte email) takes about 115 bytes of it, index included, so the
	// default 64 MiB holds about 580,000. At least 4 KiB.
	MaxBytes int64
	// MaxAge caps how long an entry stays cached, whatever its expiry; it
	// also bounds how long revocation floors are kept. Default 1h; whole
	// seconds, at least 1s.
	MaxAge time.Duration
	// Shards is the number of lock shards, rounded up to a power of two.
	// Default 64. Fewer are used when MaxBytes cannot give each 4 KiB, more
	// when a shard would exceed 2 GiB.
	Shards int
	// Now is the clock Put and revocations read; default time.Now. The now
	// given to Get, AppendView and Lookup must come from the same clock.
	Now func() time.Time
}

// Defaults for Config.
const (
	DefaultMaxBytes = 64 << 20
	DefaultMaxAge   = time.Hour
	DefaultShards   = 64
)

// clockSlack is how much longer than MaxAge a floor is kept, covering
// callers whose now lags the cache's clock.
const clockSlack = time.Minute

// Cache is an in-memory token cache. Create it with New; the zero Cache is
// not usable. It is safe for concurrent use and runs no goroutine of its
// own, so there is nothing to close: dropping the last reference frees it.
type Cache struct {
	shards    []shard
	mask      uint32
	maxAge    int64 // seconds
	floorKeep time.Duration
	now       func() time.Time

	pairs  pairTable
	floors floors
	// revSeq numbers user, family and client revocations. Lookup reads it
	// before a fill: see Lookup.
	revSeq atomic.Uint64
}

// New returns an empty Cache configured by cfg, with all of its memory
// bound allocated.
func New(cfg Config) *Cache {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	cfg.MaxBytes = max(cfg.MaxBytes, minShardBytes)
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Shards <= 0 {
		cfg.Shards = DefaultShards
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	n := shardCount(cfg.MaxBytes, cfg.Shards)
	c := &Cache{
		shards:    make([]shard, n),
		mask:      uint32(n - 1),
		maxAge:    max(int64(cfg.MaxAge/time.Second), 1),
		floorKeep: cfg.MaxAge + clockSlack,
		now:       cfg.Now,
	}
	for i := range c.shards {
		c.shards[i].init(cfg.MaxBytes / int64(n))
	}
	return c
}

// shardCount returns want rounded up to a power of two, halved while shards
// would get less than minShardBytes of maxBytes and doubled while they would
// get more than maxShardBytes.
func shardCount(maxBytes int64, want int) int {
	n := 1 << bits.Len(uint(want-1))
	for n > 1 && maxBytes/int64(n) < minShardBytes {
		n /= 2
	}
	for maxBytes/int64(n) > maxShardBytes {
		n *= 2
	}
	return n
}

func (c *Cache) shardOf(d *tokenstore.Digest) *shard {
	return &c.shards[binary.LittleEndian.Uint32(d[:])&c.mask]
}

// Get returns the entry cached for d if it is active at now: not at or past
// its ExpiresAt, not cached longer than MaxAge, not revoked by Delete or by
// a floor. An entry found revoked or expired is dropped.
func (c *Cache) Get(d tokenstore.Digest, now time.Time) (Entry, bool) {
	var buf [maxRecordLen]byte
	r, _, ok := c.hit(c.shardOf(&d), &d, now, &buf)
	if !ok {
		return Entry{}, false
	}
	return c.entry(r, &d), true
}

// hit copies d's record into buf if d is cached and active at now, and
// counts the hit or miss. It also returns s's epoch as of the lookup.
func (c *Cache) hit(s *shard, d *tokenstore.Digest, now time.Time,
	buf *[maxRecordLen]byte) (record, uint64, bool) {
	var f fields
	s.mu.Lock()
	r, ok := c.liveLocked(s, d, now.Unix(), &f)
	if ok {
		// Decode from a copy, outside the lock: the ring may reuse the
		// bytes as soon as the lock is released.
		r = record(buf[:copy(buf[:], r)])
	}
	epoch := s.epoch
	s.mu.Unlock()

	s.count(ok)
	return r, epoch, ok
}

// liveLocked returns the record of d and decodes its fields into f if it is
// active at now (unix seconds), dropping it if it is cached but not active.
// The record is truncated to its length and aliases the arena.
func (c *Cache) liveLocked(s *shard, d *tokenstore.Digest, now int64,
	f *fields) (record, bool) {
	i, ok := s.findLocked(d)
	if !ok {
		return nil, false
	}
	r := s.recordAt(s.slots[i])
	if now >= r.until() {
		s.removeLocked(i)
		s.syncStatsLocked()
		return nil, false
	}
	r.fields(f)
	k := r.floorKeys(f)
	if dead, _ := c.revoked(&k); dead {
		s.removeLocked(i)
		s.syncStatsLocked()
		return nil, false
	}
	return r[:f.size], true
}

// entry decodes r, the record of d. The user id, email and family id share
// one allocation.
func (c *Cache) entry(r record, d *tokenstore.Digest) Entry {
	p := c.pairs.lookup(r.pair())
	e := Entry{
		Digest: *d, Kind: r.kind(), ClientID: p.clientID, Scope: p.scope,
		IssuedAt: r.issued(), ExpiresAt: r.expires(),
	}
	var f fields
	r.fields(&f)
	e.Generation = f.gen
	n := f.textLen()
	if n == 0 {
		return e
	}

	b := make([]byte, 0, n)
	user, email, family := r.user(&f), r.email(&f), r.family(&f)
	if user != nil {
		b = appendUUID(b, user)
	}
	b = append(b, email...)
	if family != nil {
		b = appendHex16(b, family)
	}
	// b is never written again, so the strings may share its memory.
	text := unsafe.String(unsafe.SliceData(b), len(b))
	i := 0
	if user != nil {
		e.UserID, i = text[:uuidLen], uuidLen
	}
	e.Email, i = text[i:i+len(email)], i+len(email)
	e.FamilyID = text[i:]
	return e
}

// Put caches e, a token just issued and active, replacing any entry with
// the same digest. Its time in the cache is counted from now by the
// cache's clock. An entry already expired is not cached, nor one a floor
// revokes (its user, family or client was revoked meanwhile), nor one the
// record form cannot hold (see Entry).
func (c *Cache) Put(e Entry) {
	now := c.now().Unix()
	if now >= e.ExpiresAt {
		return
	}
	s := c.shardOf(&e.Digest)
	p, ok := c.pack(&e, now)
	if !ok {
		s.uncached.Add(1)
		return
	}
	k := p.floorKeys()
	if dead, _ := c.revoked(&k); dead {
		return
	}
	s.mu.Lock()
	evicted := s.insertLocked(&p)
	s.mu.Unlock()
	s.evictions.Add(uint64(evicted))
}

// pack converts e to record form, interning its client id and scope.
func (c *Cache) pack(e *Entry, cachedAt int64) (packed, bool) {
	p, ok := packable(e, cachedAt, c.maxAge)
	if !ok {
		return p, false
	}
	p.pair, ok = c.pairs.intern(e.ClientID, e.Scope)
	return p, ok
}

// Delete removes d's entry, as when the token is revoked, and makes any
// Lookup fill for d that started before Delete leave its result uncached.
// Call it after the store holds the revocation.
func (c *Cache) Delete(d tokenstore.Digest) {
	s := c.shardOf(&d)
	s.mu.Lock()
	s.deleteLocked(&d)
	s.epoch++
	s.mu.Unlock()
}

// Stats are a Cache's counters, for metrics.
type Stats struct {
	Hits      uint64 // Get, AppendView and Lookup calls answered from the cache
	Misses    uint64 // those that were not
	Evictions uint64 // live entries evicted to make room
	// Uncached counts active entries that were not cached because the
	// record form cannot hold them (see Entry).
	Uncached uint64
	Entries  int64 // entries cached, including expired ones not yet dropped
	// Bytes is the arena space in use: records, including dropped ones the
	// ring has not yet reclaimed.
	Bytes int64
	// Capacity is the memory allocated for arenas and indexes; at most
	// Config.MaxBytes.
	Capacity int64
	Floors   int64 // revocation floors held
}

// Stats returns the cache's counters. It takes no lock, so the counters of
// different shards may be read at slightly different moments.
func (c *Cache) Stats() Stats {
	var st Stats
	for i := range c.shards {
		s := &c.shards[i]
		st.Hits += s.hits.Load()
		st.Misses += s.misses.Load()
		st.Evictions += s.evictions.Load()
		st.Uncached += s.uncached.Load()
		st.Entries += s.entries.Load()
		st.Bytes += s.bytes.Load()
		st.Capacity += s.capacity()
	}
	st.Floors = c.floors.held()
	return st
}
