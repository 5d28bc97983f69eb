package tokencache

import (
	"sync"
	"sync/atomic"
)

// Revocations of many tokens at once (a user's, a family's, a client's) are
// not applied by finding the tokens: that would mean scanning every shard.
// Each is recorded as a floor, and every hit tests the entry it found
// against the floors, dropping it when one revokes it. The interleavings:
//
//   - Revocation before a hit: the floor is published (an atomic store)
//     before Revoke* returns, so a Get that starts afterwards loads it and
//     drops the entry. This is the guarantee callers rely on.
//   - Revocation racing an insert: Put and Lookup test the floors before
//     inserting. A floor published just after that test lets a revoked
//     entry in, but it can never be returned: the next hit tests again.
//     The test at insert only saves memory.
//   - Revocation racing a fill: Lookup's fill may read the store before the
//     revocation committed there and return an entry that is now revoked.
//     Lookup reads the revocation sequence number (Cache.revSeq) before
//     calling fill; a floor that revokes the filled entry and carries a
//     higher number may postdate the read, so the entry is reported
//     inactive. See Cache.Lookup.
//
// A floor is kept for MaxAge (plus a minute for clock skew between callers)
// after its last raise. Every entry it could revoke has left the cache by
// then: no entry is kept longer than MaxAge from its cached-at time, and an
// entry's cached-at time is read before its insert tests the floors, so an
// entry that did not see the floor was cached (by that time) before the
// raise. Expired floors are dropped as revocations copy the shards they
// touch, and one more shard per revocation, round robin; so the floors held
// are about the revocations of the last MaxAge.

// floorKeys are the parts of an entry the floors test. The ids point into
// an arena or a packed entry and are nil when absent.
type floorKeys struct {
	user   *[16]byte
	gen    uint64
	family *[16]byte
	pair   uint16
}

// A floor records one revoked user, family or client.
type floor struct {
	// gen, for a user, is the generation current after the revocation:
	// entries with a lower Generation are revoked. Unused otherwise.
	gen uint64
	// seq is the Cache.revSeq value taken by the latest revocation that
	// raised this floor.
	seq uint64
	// at is when that revocation happened, by the cache's clock, in unix
	// nanoseconds.
	at int64
}

const floorShards = 256

// floorTable maps user ids, family ids or client ids to floors. It is read
// on every hit and written only by revocations, so each shard is a map that
// is never modified once published: a revocation copies its shard, changes
// the copy and swaps it in. Hits load a pointer and read a map, and never
// write shared memory. A revocation costs a copy of one shard, about
// floors/256 entries: about 30µs with 100,000 floors of one kind held.
type floorTable[K comparable] struct {
	n      atomic.Int64 // floors held, over all shards
	shards [floorShards]atomic.Pointer[map[K]floor]

	mu   sync.Mutex // serializes writers
	next int        // guarded by mu; the shard pruned by the next raise
}

// lookup returns the floor of k, which lives in the given shard.
func (t *floorTable[K]) lookup(k K, shard uint8) (floor, bool) {
	if t.n.Load() == 0 {
		return floor{}, false
	}
	m := t.shards[shard].Load()
	if m == nil {
		return floor{}, false
	}
	f, ok := (*m)[k]
	return f, ok
}

// raise records f as the floor of k, keeping the higher generation of f and
// any floor k already has, and drops floors last raised before cutoff from
// k's shard and from one other.
func (t *floorTable[K]) raise(k K, shard uint8, f floor, cutoff int64) {
	t.mu.Lock()
	defer t.mu.Unlock()

	m := t.copyLocked(int(shard), cutoff, 1)
	if old, ok := m[k]; ok {
		f.gen = max(f.gen, old.gen)
	}
	m[k] = f
	t.storeLocked(int(shard), m)

	// Shards no revocation touches keep their expired floors until this
	// round-robin pass reaches them.
	if i := t.next; i != int(shard) && t.expiredLocked(i, cutoff) {
		t.storeLocked(i, t.copyLocked(i, cutoff, 0))
	}
	t.next = (t.next + 1) % floorShards
}

// copyLocked returns a copy of shard i without the floors raised before
// cutoff, with room for extra more.
func (t *floorTable[K]) copyLocked(i int, cutoff int64, extra int) map[K]floor {
	old := t.shards[i].Load()
	if old == nil {
		return make(map[K]floor, extra)
	}
	m := make(map[K]floor, len(*old)+extra)
	for k, f := range *old {
		if f.at >= cutoff {
			m[k] = f
		}
	}
	return m
}

// expiredLocked reports whether shard i holds a floor raised before cutoff.
func (t *floorTable[K]) expiredLocked(i int, cutoff int64) bool {
	m := t.shards[i].Load()
	if m == nil {
		return false
	}
	for _, f := range *m {
		if f.at < cutoff {
			return true
		}
	}
	return false
}

// storeLocked publishes m as shard i.
func (t *floorTable[K]) storeLocked(i int, m map[K]floor) {
	held := 0
	if old := t.shards[i].Load(); old != nil {
		held = len(*old)
	}
	if len(m) == 0 {
		t.shards[i].Store(nil)
	} else {
		t.shards[i].Store(&m)
	}
	t.n.Add(int64(len(m) - held))
}

// floors are the revocation floors of one Cache.
type floors struct {
	users    floorTable[[16]byte]
	families floorTable[[16]byte]
	clients  floorTable[string]
}

// revoked reports whether a floor revokes an entry with keys k, and the
// highest seq among the floors that do.
func (c *Cache) revoked(k *floorKeys) (dead bool, seq uint64) {
	fl := &c.floors
	if k.user != nil {
		f, ok := fl.users.lookup(*k.user, idShard(k.user))
		if ok && k.gen < f.gen {
			dead, seq = true, f.seq
		}
	}
	if k.family != nil {
		if f, ok := fl.families.lookup(*k.family, idShard(k.family)); ok {
			dead, seq = true, max(seq, f.seq)
		}
	}
	if fl.clients.n.Load() != 0 {
		id := c.pairs.lookup(k.pair).clientID
		if f, ok := fl.clients.lookup(id, stringShard(id)); ok {
			dead, seq = true, max(seq, f.seq)
		}
	}
	return dead, seq
}

// held returns the number of floors held.
func (fl *floors) held() int64 {
	return fl.users.n.Load() + fl.families.n.Load() + fl.clients.n.Load()
}

// idShard picks the floor shard of a user or family id. The last byte is
// random in both: families are random, and UUID versions 4 and 7 end in
// random bits.
func idShard(id *[16]byte) uint8 { return id[15] }

// stringShard picks the floor shard of a client id (FNV-1a, folded).
func stringShard(s string) uint8 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return uint8(h ^ h>>8 ^ h>>16 ^ h>>24)
}

// RevokeUser revokes every cached entry of the user whose Generation is
// below generation: the user's generation after the revocation, as
// tokenstore.Store.RevokeUser returns it. Entries of other users, and of
// this user at generation or above, are untouched. Call it after the
// store holds the revocation; a Get or Lookup that starts after RevokeUser
// returns never returns a revoked entry. A userID that is not a canonical
// UUID was never cached, so there is nothing to revoke.
func (c *Cache) RevokeUser(userID string, generation uint64) {
	var u [16]byte
	if !parseUUID(&u, userID) {
		return
	}
	f, cutoff := c.newFloor(generation)
	c.floors.users.raise(u, idShard(&u), f, cutoff)
}

// RevokeFamily revokes every cached entry of the refresh token family.
// Family ids are random and a revoked family never becomes active again, so
// any entry naming it is revoked. The ordering contract is RevokeUser's.
func (c *Cache) RevokeFamily(familyID string) {
	var id [16]byte
	if !parseHex(id[:], familyID) {
		return
	}
	f, cutoff := c.newFloor(0)
	c.floors.families.raise(id, idShard(&id), f, cutoff)
}

// RevokeClient revokes every cached entry issued to the client, as when the
// client is deleted. For MaxAge afterwards no entry of that client id is
// cached, so should a client be created again with the same id, its tokens
// are answered by their fill (correctly, but without the cache) until the
// floor expires. The ordering contract is RevokeUser's.
func (c *Cache) RevokeClient(clientID string) {
	f, cutoff := c.newFloor(0)
	c.floors.clients.raise(clientID, stringShard(clientID), f, cutoff)
}

// newFloor returns a floor for a revocation happening now, and the cutoff
// before which floors have expired.
func (c *Cache) newFloor(gen uint64) (floor, int64) {
	now := c.now().UnixNano()
	f := floor{gen: gen, seq: c.revSeq.Add(1), at: now}
	return f, now - c.floorKeep.Nanoseconds()
}
