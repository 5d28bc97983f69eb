package cluster

import (
	"time"

	"github.com/authd/authd/cluster/wire"
)

// renewLoop renews p's lease every Lease/4 until stop or Close, and checks
// after each round whether invalidations from p are overdue and whether p
// may leave the lease set.
func (n *Node) renewLoop(p *peer, stop chan struct{}) {
	t := time.NewTicker(time.Duration(n.renewEvery))
	defer t.Stop()
	for {
		n.renew(p)
		if !n.checkPeer(p) {
			return
		}
		select {
		case <-stop:
			return
		case <-n.done:
			return
		case <-t.C:
		}
	}
}

// renew pings p once and records the lease it grants. The lease is dated
// from before the ping was sent, so it ends before p's record of it.
func (n *Node) renew(p *peer) {
	sent := n.now()
	n.mu.Lock()
	req := pingReq{from: n.helloLocked(), yourInc: p.lease.inc, applied: p.lease.applied}
	n.mu.Unlock()
	c := p.client.Load()
	if c == nil || drop(n.cfg.Faults.DropPings) {
		return
	}
	b, err := c.Call(msgPing, req.encode(), time.Duration(n.renewEvery))
	if err != nil {
		n.m.pingFailures.Inc()
		return
	}
	rep, err := decodePingReply(b)
	if err != nil {
		n.m.pingFailures.Inc()
		return
	}

	now := n.now()
	n.mu.Lock()
	defer n.mu.Unlock()
	p.pingOK.Store(now)
	// p answered, so it has this node in its lease set now, and keeps it
	// there for DropAfter after the ping reached it.
	p.promised = max(p.promised, sent+n.dropAfter-n.margin)
	if p.observeLocked(rep.inc) {
		p.lease.grant(sent+n.lease, rep.seq, now)
	}
	n.recomputeLocked(now)
}

// checkPeer catches up when p's invalidations are overdue and drops p from
// the lease set when it may. It reports whether p is still in the set.
func (n *Node) checkPeer(p *peer) bool {
	now := n.now()
	n.mu.Lock()
	_, overdue := p.lease.overdue(now, n.catchUpAfter)
	if p.inSet && n.mayDropLocked(p, now) {
		n.dropLocked(p, now, "unreachable and reported dead")
	}
	inSet := p.inSet
	n.mu.Unlock()
	if overdue {
		n.catchUp()
	}
	return inSet
}

// catchUp empties the cache because invalidations were missed, then counts
// every invalidation known to exist when it started as applied. Entries
// cached afterwards are read from the store after those revocations were
// committed, so they reflect them.
func (n *Node) catchUp() {
	n.flushMu.Lock()
	defer n.flushMu.Unlock()

	type target struct {
		p    *peer
		inc  uint64
		need uint64
	}
	var targets []target
	now := n.now()
	n.mu.Lock()
	for _, p := range n.peers {
		if need, ok := p.lease.overdue(now, 0); ok {
			targets = append(targets, target{p, p.lease.inc, need})
		}
	}
	n.mu.Unlock()
	if len(targets) == 0 {
		return
	}

	n.cache.Flush()
	n.m.flushes.Inc()
	n.mu.Lock()
	for _, t := range targets {
		if t.p.lease.inc == t.inc {
			t.p.lease.caughtUp(t.need)
		}
	}
	n.recomputeLocked(n.now())
	n.mu.Unlock()
	n.log.Warn("cache flushed: invalidations were missed", "peers", len(targets))
}

// handlePing grants a lease to the pinging node: it records the node as a
// lease holder until now + Lease + margin and answers with this node's
// incarnation and latest invalidation number, both read under the same
// lock as Invalidate's numbering (see Invalidate).
func (n *Node) handlePing(b []byte, r wire.Replier) {
	req, err := decodePingReq(b)
	if err != nil {
		r.Fail(err.Error())
		return
	}
	now := n.now()
	n.mu.Lock()
	if n.leaving {
		n.mu.Unlock()
		r.Fail("leaving")
		return
	}
	p, current := n.touchLocked(req.from, now)
	if p == nil {
		n.mu.Unlock()
		r.Fail("peer has this node's name")
		return
	}
	p.heardAt = now
	p.holderUntil = max(p.holderUntil, now+n.lease+n.margin)
	if current && req.yourInc == n.inc {
		p.ackedUpTo = max(p.ackedUpTo, req.applied)
	}
	rep := pingReply{inc: n.inc, seq: n.seq}
	n.mu.Unlock()
	r.Reply(rep.encode())
}
