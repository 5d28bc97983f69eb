package tokencache

import (
	"strings"
	"sync"
	"sync/atomic"
)

// A pair is a (client id, scope) combination. A deployment has few clients
// and each asks for few distinct scopes, so every cached record refers to
// its pair by a 2-byte number instead of holding the strings.
type pair struct {
	clientID string
	scope    string
}

const (
	pairChunkLen = 256
	pairChunks   = 256
	maxPairs     = pairChunkLen * pairChunks // every uint16 is a valid reference
)

// pairTable interns pairs. Numbers are handed out in order and never reused:
// records hold them for as long as they stay in an arena, and no arena walk
// tells when a number is unused. When all 65,536 are taken, entries with a
// new pair are not cached (they are served by their fill every time); that
// takes 65,536 distinct (client, scope) combinations, which registered
// clients and their scope lists do not produce in practice.
//
// Readers go without a lock: a record can only name a number after the
// goroutine that interned it (or one that synchronized with it through mu)
// wrote the pair, and the record was published under its shard's lock, so
// the pair's write happens before any read through that record.
type pairTable struct {
	// chunks are allocated on demand; a slot is written once, under mu,
	// before its number is handed out.
	chunks [pairChunks]atomic.Pointer[[pairChunkLen]pair]

	mu  sync.Mutex
	ids map[pair]uint16 // guarded by mu
	n   int             // guarded by mu; numbers handed out
}

// intern returns the number of (clientID, scope), assigning one if needed,
// or false when the table is full.
func (t *pairTable) intern(clientID, scope string) (uint16, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.ids[pair{clientID, scope}]; ok {
		return id, true
	}
	if t.n == maxPairs {
		return 0, false
	}
	if t.ids == nil {
		t.ids = make(map[pair]uint16)
	}

	// Clone so the table does not pin whatever larger buffer (a request
	// body, a database row) the caller's strings point into.
	p := pair{strings.Clone(clientID), strings.Clone(scope)}
	chunk := t.chunks[t.n/pairChunkLen].Load()
	if chunk == nil {
		chunk = new([pairChunkLen]pair)
		t.chunks[t.n/pairChunkLen].Store(chunk)
	}
	chunk[t.n%pairChunkLen] = p
	id := uint16(t.n)
	t.ids[p] = id
	t.n++
	return id, true
}

// lookup returns the pair numbered id, which intern handed out.
func (t *pairTable) lookup(id uint16) *pair {
	return &t.chunks[id/pairChunkLen].Load()[id%pairChunkLen]
}
