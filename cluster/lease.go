package cluster

import "slices"

// How revocations stay enforced: pairwise leases.
//
// A node N answers from its cache only while it holds an unexpired lease
// from every peer in its lease set (the members it knows, see peer.inSet)
// and has applied every invalidation each of them sent up to the point the
// lease was granted. N renews its lease from a peer P by pinging it every
// Lease/4. P answers with its incarnation and the sequence number of its
// latest invalidation (S), and records N as a lease holder until
// P_now + Lease + margin. N dates the lease from when it SENT the ping, so
// N's lease always ends before P's record of it does, on any clock that
// runs at about the same rate.
//
// A lease whose S is above what N has applied from P is only pending: it
// becomes usable when the missing invalidations arrive. If they do not
// arrive within Lease/4 (a message was lost), N empties its whole cache
// (Cache.Flush) and counts every invalidation up to S as applied: whatever
// they revoked was in the store before S was handed out, so entries filled
// afterwards reflect it. A gap in P's sequence (S+2 arrived, S+1 did not)
// is handled the same way.
//
// When P revokes, it numbers the invalidation, sends it to every node in its
// lease set and waits, for each, until one of:
//   - the node acknowledged it, directly or by reporting in a ping that it
//     applied P's sequence that far (after a flush, say);
//   - the node said goodbye (it left gracefully and serves nothing more);
//   - every lease P granted the node before the invalidation was numbered
//     has expired, and P knows the node still holds P in its lease set (so
//     it cannot use its cache without a new lease, which will carry S at or
//     above this invalidation's number). P knows that while its promise
//     from the node holds: the node drops a member from its lease set only
//     after hearing no ping from it for DropAfter, so a ping the node
//     answered, sent at t, promises t + DropAfter - margin.
//
// leaseFrom is N's side of this with one peer. It is pure bookkeeping: the
// caller supplies the monotonic time (nanoseconds) and holds the lock.
type leaseFrom struct {
	inc     uint64   // the peer's incarnation; 0 before first contact
	applied uint64   // every sequence number up to this one is applied
	ahead   []uint64 // applied numbers above applied+1, ascending
	gapAt   int64    // when ahead became non-empty; 0 when it is empty
	granted int64    // end of the usable lease; 0 none
	pending pendingLease
}

// pendingLease is a lease that waits for invalidations up to need.
type pendingLease struct {
	until int64 // 0: none
	need  uint64
	since int64 // when the oldest unsatisfied lease arrived
}

// maxAhead bounds the out-of-order numbers kept: more means messages are
// being lost wholesale, and catching up by a flush is due at once.
const maxAhead = 1024

// observe records a message from incarnation inc of the peer and reports
// whether it is current. A newer incarnation (incarnations are start times)
// resets everything: its numbers start again, and the previous
// incarnation's lease is dropped, because the new one knows nothing of it
// and will not wait for it to expire when it revokes. An older one is stale.
func (l *leaseFrom) observe(inc uint64) bool {
	switch {
	case inc == l.inc:
		return true
	case inc < l.inc:
		return false
	}
	*l = leaseFrom{inc: inc}
	return true
}

// apply records that invalidation seq of the current incarnation has been
// applied to the cache.
func (l *leaseFrom) apply(seq uint64, now int64) {
	switch {
	case seq <= l.applied:
		return
	case seq == l.applied+1:
		l.applied++
		for len(l.ahead) > 0 && l.ahead[0] == l.applied+1 {
			l.applied++
			l.ahead = l.ahead[1:]
		}
	default:
		i, found := slices.BinarySearch(l.ahead, seq)
		if !found {
			l.ahead = slices.Insert(l.ahead, i, seq)
		}
		if l.gapAt == 0 {
			l.gapAt = now
		}
	}
	if len(l.ahead) == 0 {
		l.ahead, l.gapAt = nil, 0
	}
	l.promote()
}

// grant records a lease until until (dated from the ping's sending) from a
// peer whose latest invalidation was need when it answered.
func (l *leaseFrom) grant(until int64, need uint64, now int64) {
	if need <= l.applied {
		l.granted = max(l.granted, until)
		return
	}
	p := &l.pending
	if p.until == 0 {
		p.since = now
	}
	p.until, p.need = max(p.until, until), max(p.need, need)
}

// promote makes the pending lease usable once its invalidations are in.
func (l *leaseFrom) promote() {
	if p := l.pending; p.until != 0 && p.need <= l.applied {
		l.granted = max(l.granted, p.until)
		l.pending = pendingLease{}
	}
}

// overdue reports whether invalidations have been missing for at least
// wait, and if so the number up to which a flush would catch up.
func (l *leaseFrom) overdue(now, wait int64) (uint64, bool) {
	var need uint64
	since := int64(0)
	if p := l.pending; p.until != 0 {
		need, since = p.need, p.since
	}
	if n := len(l.ahead); n > 0 {
		need = max(need, l.ahead[n-1])
		if since == 0 || l.gapAt < since {
			since = l.gapAt
		}
		if n >= maxAhead {
			return need, true
		}
	}
	if need == 0 || now-since < wait {
		return 0, false
	}
	return need, true
}

// caughtUp records a flush that started after invalidation seq was known
// to have been numbered: every number up to seq now counts as applied.
func (l *leaseFrom) caughtUp(seq uint64) {
	l.applied = max(l.applied, seq)
	i, _ := slices.BinarySearch(l.ahead, l.applied+1)
	l.ahead = l.ahead[i:]
	for len(l.ahead) > 0 && l.ahead[0] == l.applied+1 {
		l.applied++
		l.ahead = l.ahead[1:]
	}
	if len(l.ahead) == 0 {
		l.ahead, l.gapAt = nil, 0
	}
	l.promote()
}
