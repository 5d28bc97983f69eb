package tokencache

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// hammerStore is a fake store for TestConcurrentRevocation. For each kind
// of revocation it records the store write, and separately that the cache
// was told (done), as a server does in that order.
type hammerStore struct {
	revoked, tokenDone  [hammerTokens]atomic.Bool
	famRevoked, famDone [hammerFamilies]atomic.Bool
	userGen, userDone   [hammerUsers]atomic.Uint64
	// filling is the token a fill read last, for the token revoker to aim
	// at fills in flight.
	filling atomic.Int64
}

const (
	hammerTokens   = 64
	hammerUsers    = 4
	hammerFamilies = 8
)

// entry returns token i: user i%4, family i%8, issued under generation
// 1 + i/16, so that user revocations end some tokens while others, issued
// under the new generation, become active.
func (st *hammerStore) entry(i int) Entry {
	return userToken(i, i%hammerUsers, i%hammerFamilies, 1+uint64(i/16))
}

func (st *hammerStore) active(i int) bool {
	e := st.entry(i)
	return !st.revoked[i].Load() && !st.famRevoked[i%hammerFamilies].Load() &&
		st.userGen[i%hammerUsers].Load() == e.Generation
}

func (st *hammerStore) fill(i int) func() (Entry, bool, error) {
	return func() (Entry, bool, error) {
		active := st.active(i)
		st.filling.Store(int64(i))
		// Widen the window between the store read and the insert, where
		// revocations must not be lost.
		runtime.Gosched()
		return st.entry(i), active, nil
	}
}

// pause lets other goroutines run, spreading revocations over the test.
func pause() {
	for range 20 {
		runtime.Gosched()
	}
}

// TestConcurrentRevocation runs lookups, issuance and every kind of
// revocation at once and checks the revocation guarantee: once a
// revocation has returned, no lookup that starts afterwards reports an
// affected token active.
func TestConcurrentRevocation(t *testing.T) {
	const readers, reads = 4, 3000
	// Too small for all tokens: evictions keep fills going.
	c, _ := newTestCache(t, Config{MaxBytes: minShardBytes, Shards: 1})
	st := &hammerStore{}
	for u := range hammerUsers {
		st.userGen[u].Store(1)
	}

	var wg sync.WaitGroup
	var violations atomic.Int64
	for r := range readers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 7))
			for range reads {
				i := rng.IntN(hammerTokens)
				tokenDone := st.tokenDone[i].Load()
				famDone := st.famDone[i%hammerFamilies].Load()
				userDone := st.userDone[i%hammerUsers].Load()

				var e Entry
				var active bool
				if rng.IntN(2) == 0 {
					e, active, _ = c.Lookup(digest(i), t0, st.fill(i))
				} else {
					e, active = c.Get(digest(i), t0)
				}
				if active && (tokenDone || famDone || e.Generation < userDone) {
					violations.Add(1)
				}
			}
		})
	}

	// Revokers, each the only writer of what it revokes.
	wg.Go(func() {
		// Revoke tokens whose fill is in flight, when they are among the
		// ones to revoke (multiples of 5).
		for range 100_000 {
			i := int(st.filling.Load())
			if i%5 != 0 || st.revoked[i].Load() {
				runtime.Gosched()
				continue
			}
			st.revoked[i].Store(true)
			c.Delete(digest(i))
			st.tokenDone[i].Store(true)
		}
	})
	wg.Go(func() {
		for f := range hammerFamilies - 2 {
			st.famRevoked[f].Store(true)
			c.RevokeFamily(familyID(f))
			st.famDone[f].Store(true)
			pause()
		}
	})
	wg.Go(func() {
		for gen := uint64(2); gen <= 5; gen++ {
			for u := range hammerUsers {
				st.userGen[u].Store(gen)
				c.RevokeUser(userID(u), gen)
				st.userDone[u].Store(gen)
				pause()
			}
		}
	})
	// Issuance puts tokens that are active, racing the user and family
	// revocations (floors must catch it). It skips the tokens revoked one
	// by one: a real server never puts a token after handing it out.
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(99, 7))
		for range 500 {
			if i := rng.IntN(hammerTokens); i%5 != 0 && st.active(i) {
				c.Put(st.entry(i))
			}
		}
	})
	wg.Wait()

	if n := violations.Load(); n != 0 {
		t.Errorf("%d lookups reported a token active after its revocation returned", n)
	}
	if n := c.Stats().Entries; n > hammerTokens {
		t.Errorf("Entries = %d, more than the %d tokens there are", n, hammerTokens)
	}
	for i := range c.shards {
		checkShard(t, &c.shards[i])
	}
}
