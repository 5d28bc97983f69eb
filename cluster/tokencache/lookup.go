package tokencache

import (
	"encoding/binary"
	"time"

	"github.com/authd/authd/tokenstore"
)

// Lookup returns the entry cached for d if it is active at now, like Get.
// On a miss it calls fill, which reads the token from the store and returns
// its entry (whose Digest is ignored: the entry is d's), whether the token
// is active, and an error, which Lookup returns unwrapped with nothing
// cached. An active entry is cached and returned; the Entry returned is
// zero when active is false. Lookup never reports an entry active at or
// past its ExpiresAt, even when fill does.
//
// Concurrent Lookups that miss on the same digest share one fill call and
// its result, unless a revocation separates them (see below); a panic in
// fill panics every one of them. fill runs on the goroutine of one of them.
//
// A fill's answer may be stale by the time it returns: fill reads the store,
// the token is revoked and the cache told, and only then is the entry
// inserted. Lookup closes the race:
//
//   - Delete: each shard counts Deletes (its epoch). Lookup reads the epoch
//     when it misses and inserts the filled entry only if the epoch is
//     unchanged, under the same lock. A Delete in between leaves the entry
//     uncached (Deletes of other digests of the shard do too, rarely and
//     harmlessly).
//   - RevokeUser, RevokeFamily, RevokeClient: Lookup reads the revocation
//     sequence number before fill. If a floor revokes the filled entry and
//     carries a higher number, the revocation may have committed after
//     fill's read, and the entry is reported inactive; a floor numbered
//     at most that predates the read, so the store's answer stands (as
//     for a client created again under a revoked id), uncached.
//   - Callers that miss after a Delete or a revocation returned must not
//     share a fill that started before it: the epoch and the sequence
//     number are part of the key that decides which calls share a fill.
//
// A Lookup that overlaps a revocation may answer either way; one that starts
// after the revocation returned answers inactive.
func (c *Cache) Lookup(d tokenstore.Digest, now time.Time,
	fill func() (Entry, bool, error)) (Entry, bool, error) {
	var buf [maxRecordLen]byte
	s := c.shardOf(&d)
	r, epoch, ok := c.hit(s, &d, now, &buf)
	if ok {
		return c.entry(r, &d), true, nil
	}

	seq := c.revSeq.Load()
	v, err, _ := s.flight.Do(flightKey(&d, epoch, seq), func() (any, error) {
		return c.fill(s, d, now, epoch, seq, fill)
	})
	if err != nil {
		return Entry{}, false, err
	}
	f := v.(filled)
	return f.e, f.active, nil
}

// filled is the result of one fill, shared by the Lookups waiting for it.
type filled struct {
	e      Entry
	active bool
}

// fill calls fn for d and caches its entry if it is active, unless a Delete
// of s (epoch changed) or a floor says it was revoked meanwhile.
func (c *Cache) fill(s *shard, d tokenstore.Digest, now time.Time, epoch, seq uint64,
	fn func() (Entry, bool, error)) (filled, error) {
	e, active, err := fn()
	if err != nil {
		return filled{}, err
	}
	e.Digest = d
	if !active || now.Unix() >= e.ExpiresAt {
		return filled{}, nil
	}

	p, ok := c.pack(&e, now.Unix())
	if !ok {
		s.uncached.Add(1)
		return filled{e, true}, nil
	}
	k := p.floorKeys()
	if dead, floorSeq := c.revoked(&k); dead {
		if floorSeq > seq {
			return filled{}, nil
		}
		return filled{e, true}, nil
	}

	s.mu.Lock()
	evicted := 0
	if s.epoch == epoch {
		evicted = s.insertLocked(&p)
	}
	s.mu.Unlock()
	s.evictions.Add(uint64(evicted))
	return filled{e, true}, nil
}

// flightKey is the key under which Lookups share a fill: the digest, the
// shard epoch and the revocation sequence number they read.
func flightKey(d *tokenstore.Digest, epoch, seq uint64) string {
	var k [len(d) + 16]byte
	copy(k[:], d[:])
	binary.LittleEndian.PutUint64(k[len(d):], epoch)
	binary.LittleEndian.PutUint64(k[len(d)+8:], seq)
	return string(k[:])
}
