package tokencache

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sync/singleflight"

	"github.com/authd/authd/tokenstore"
)

// A shard holds the entries whose digests select it: records in a byte ring
// (the arena) and an open-addressing index over them. Neither holds a Go
// pointer, so the garbage collector never scans them, however many entries
// they hold.
//
// The ring evicts in insertion order (FIFO). Tokens of one kind are issued
// with the same lifetime, so they expire in about the order they were
// cached, and the oldest record is nearly always the one closest to its
// expiry or to MaxAge: FIFO is close to what an LRU would evict, with no
// per-hit bookkeeping and no per-entry links.
//
// The index is linear probing over 64-bit slots: the digest's 32-bit tag in
// the high half, the record's arena offset plus one in the low half (0 is an
// empty slot). A slot's home is derived from its tag alone, so deleting
// (backward shift, no tombstones) never reads the arena. A tag match is
// confirmed against the full digest in the record. At 3/4 load it costs
// about 11 bytes per entry; a Go map[uint64]uint32 would cost 20 to 35 and
// grow by doubling, which a hard memory bound cannot allow.
//
// Both are allocated by New at their final size: the memory bound is hard.
// An insert evicts the oldest records until the ring has room and the index
// is at most 3/4 full.
type shard struct {
	shardState
	// pad rounds the shard up to a multiple of 128 bytes, so that the lock
	// and counters of neighbouring shards never share a cache line: cores
	// hitting different shards would otherwise still invalidate each
	// other's lines. 128 rather than 64 because x86 prefetches lines in
	// adjacent pairs.
	_ [(128 - unsafe.Sizeof(shardState{})%128) % 128]byte
}

type shardState struct {
	// mu guards the fields from head to epoch, and the contents of arena
	// and slots (the slices themselves are set once, by init).
	mu      sync.Mutex
	arena   []byte
	slots   []uint64
	head    uint64 // ring position of the next record, counting from 0 forever
	tail    uint64 // ring position of the oldest record; head-tail bytes are in use
	live    int    // entries reachable from slots
	maxLive int
	// epoch counts Deletes. Lookup reads it before a fill and inserts the
	// filled entry only if it is unchanged: see Cache.Lookup.
	epoch uint64

	flight singleflight.Group

	// Counters for Stats, written atomically so Stats needs no lock.
	hits, misses, evictions, uncached atomic.Uint64
	entries, bytes                    atomic.Int64
}

const (
	// typicalRecord is the record size (a typical user token) the split
	// of a shard's budget between arena and index is made for. Smaller
	// records leave part of the arena unused, as the index fills first;
	// larger ones leave index slots unused.
	typicalRecord = 100
	minShardBytes = 4 << 10
	maxShardBytes = 1 << 31 // arena offsets must fit the low half of a slot
	tagOffset     = 8       // digest bytes 8-11 are the tag; 0-3 select the shard
)

// init allocates s's arena and index within budget bytes.
func (s *shard) init(budget int64) {
	// With n slots at 3/4 load and records of typicalRecord bytes, the
	// arena fills when the index does: budget = n*8 + n*3/4*typicalRecord.
	n := max(8, budget*4/(3*typicalRecord+32))
	s.slots = make([]uint64, n)
	s.arena = make([]byte, budget-8*n)
	s.maxLive = int(n * 3 / 4)
}

// capacity returns the bytes allocated for s's arena and index.
func (s *shard) capacity() int64 {
	return int64(len(s.arena)) + 8*int64(len(s.slots))
}

func tagOf(d *tokenstore.Digest) uint32 {
	return binary.LittleEndian.Uint32(d[tagOffset:])
}

// home returns the slot where probing for tag starts (Lemire's fast range
// reduction, so the slot count need not be a power of two).
func (s *shard) home(tag uint32) int {
	return int(uint64(tag) * uint64(len(s.slots)) >> 32)
}

// findLocked returns the slot of d's record, or the empty slot where d's
// probe sequence ends and false.
func (s *shard) findLocked(d *tokenstore.Digest) (int, bool) {
	tag := tagOf(d)
	for i := s.home(tag); ; {
		v := s.slots[i]
		if v == 0 {
			return i, false
		}
		if uint32(v>>32) == tag && s.recordAt(v).hasDigest(d) {
			return i, true
		}
		if i++; i == len(s.slots) {
			i = 0
		}
	}
}

// recordAt returns the record slot value v points to.
func (s *shard) recordAt(v uint64) record {
	return record(s.arena[uint32(v)-1:])
}

// slotOfLocked returns the slot pointing at the record at pos, whose tag is
// tag, or false when no slot does (the entry was deleted or replaced).
func (s *shard) slotOfLocked(tag uint32, pos uint32) (int, bool) {
	want := uint64(tag)<<32 | uint64(pos+1)
	for i := s.home(tag); ; {
		switch s.slots[i] {
		case want:
			return i, true
		case 0:
			return 0, false
		}
		if i++; i == len(s.slots) {
			i = 0
		}
	}
}

// removeLocked empties slot i, shifting later slots of the same probe run
// back so no lookup stops early at the hole.
func (s *shard) removeLocked(i int) {
	n := len(s.slots)
	for j := i; ; {
		if j++; j == n {
			j = 0
		}
		v := s.slots[j]
		if v == 0 {
			break
		}
		// The slot at j may fill the hole at i unless its home lies
		// cyclically in (i, j]: probing for it would never pass i.
		if h := s.home(uint32(v >> 32)); cyclicBetween(h, i, j) {
			continue
		}
		s.slots[i] = v
		i = j
	}
	s.slots[i] = 0
	s.live--
}

// cyclicBetween reports whether h lies in the cyclic interval (i, j].
func cyclicBetween(h, i, j int) bool {
	if i <= j {
		return i < h && h <= j
	}
	return i < h || h <= j
}

// insertLocked stores p, replacing any entry with the same digest, and
// returns how many live entries it evicted to make room.
func (s *shard) insertLocked(p *packed) int {
	if i, ok := s.findLocked(&p.digest); ok {
		s.removeLocked(i)
	}
	n := p.size()
	pos, evicted := s.reserveLocked(n)
	p.write(s.arena[pos : int(pos)+n])

	// Probe after reserving: evictions may have moved slots.
	i, _ := s.findLocked(&p.digest)
	s.slots[i] = uint64(tagOf(&p.digest))<<32 | uint64(pos+1)
	s.live++
	s.syncStatsLocked()
	return evicted
}

// reserveLocked returns the arena offset of n free bytes (n is at most
// maxRecordLen), evicting the oldest records until they are free and the
// index has room for one more entry. It returns how many live entries it
// evicted.
func (s *shard) reserveLocked(n int) (pos uint32, evicted int) {
	size := uint64(len(s.arena))
	if p := s.head % size; p+uint64(n) > size {
		// A record never wraps: pad to the end of the arena.
		pad := size - p
		for size-(s.head-s.tail) < pad {
			evicted += s.evictOldestLocked()
		}
		s.arena[p] = 0
		s.head += pad
	}
	for size-(s.head-s.tail) < uint64(n) || s.live >= s.maxLive {
		evicted += s.evictOldestLocked()
	}
	pos = uint32(s.head % size)
	s.head += uint64(n)
	return pos, evicted
}

// evictOldestLocked frees the oldest record or padding of the ring and
// returns 1 if it was a live entry, 0 if it was padding or an entry already
// deleted or replaced.
func (s *shard) evictOldestLocked() int {
	size := uint64(len(s.arena))
	p := s.tail % size
	r := record(s.arena[p:])
	if r.head() == 0 {
		s.tail += size - p
		return 0
	}
	var f fields
	r.fields(&f)
	s.tail += uint64(f.size)
	i, ok := s.slotOfLocked(r.tag(), uint32(p))
	if !ok {
		return 0
	}
	s.removeLocked(i)
	return 1
}

// deleteLocked removes d's entry if present.
func (s *shard) deleteLocked(d *tokenstore.Digest) {
	if i, ok := s.findLocked(d); ok {
		s.removeLocked(i)
		s.syncStatsLocked()
	}
}

// count counts a hit or a miss.
func (s *shard) count(hit bool) {
	if hit {
		s.hits.Add(1)
	} else {
		s.misses.Add(1)
	}
}

// syncStatsLocked publishes the entry and byte counts for Stats.
func (s *shard) syncStatsLocked() {
	s.entries.Store(int64(s.live))
	s.bytes.Store(int64(s.head - s.tail))
}
