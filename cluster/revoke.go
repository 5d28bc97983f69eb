package cluster

import (
	"context"
	"sync"
	"time"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/cluster/wire"
)

// revokeTarget is a peer an invalidation must reach, with the end of the
// latest lease it held from this node when the invalidation was numbered.
type revokeTarget struct {
	p          *peer
	holderSnap int64
}

// Invalidate applies inv to this node's cache, sends it to every peer in
// the lease set (and every other lease holder) and returns once each has
// applied it or can no longer use its cache without learning of it (see
// lease.go). The store must already hold the revocation. It returns
// ErrNotJoined before the node has joined, an *UnconfirmedError when a peer
// could be confirmed neither way within DropAfter + Lease, or ctx's error;
// in every case the revocation is applied locally and a retry is safe.
func (n *Node) Invalidate(ctx context.Context, inv tokencache.Invalidation) error {
	if err := n.cache.Apply(inv); err != nil {
		return err
	}
	start := time.Now()
	now := n.now()
	n.mu.Lock()
	switch {
	case n.leaving:
		n.mu.Unlock()
		return ErrClosed
	case !n.joined:
		n.mu.Unlock()
		return ErrNotJoined
	}
	// Numbering and the holder snapshot happen under the lock handlePing
	// takes: a lease granted before this point is in the snapshot, and one
	// granted after carries a number at or above this one.
	n.seq++
	req := invalidateReq{from: n.helloLocked(), seq: n.seq, inv: inv}
	var targets []revokeTarget
	for _, p := range n.peers {
		if p.inSet || p.holderUntil > now {
			targets = append(targets, revokeTarget{p, p.holderUntil})
		}
	}
	n.mu.Unlock()

	err := n.fanOut(ctx, targets, req)
	if err != nil {
		n.m.revokeFailures.Inc()
		return err
	}
	n.m.revocation.Observe(time.Since(start).Seconds())
	return nil
}

// fanOut delivers req to every target in parallel and waits for all.
func (n *Node) fanOut(ctx context.Context, targets []revokeTarget, req invalidateReq) error {
	if len(targets) == 0 {
		return nil
	}
	msg := req.encode()
	deadline := n.now() + n.dropAfter + n.lease
	stop := make(chan struct{})
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() { errs[i] = n.deliver(t, req.seq, msg, deadline, stop) })
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-ctx.Done():
		close(stop)
		<-finished
		return ctx.Err()
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// deliver sends invalidation seq (encoded as msg) to t until it is
// acknowledged or t is released (see released), retrying with a growing
// pause. It gives up with an *UnconfirmedError at deadline.
func (n *Node) deliver(t revokeTarget, seq uint64, msg []byte, deadline int64,
	stop <-chan struct{}) error {
	// Acks take well under a millisecond on a LAN; the first retry comes
	// soon, later ones back off so a dead peer costs little.
	wait := 10 * time.Millisecond
	for attempt := 0; ; attempt++ {
		if n.released(t, seq) {
			return nil
		}
		if n.now() > deadline {
			return &UnconfirmedError{Peer: t.p.name}
		}
		began := time.Now()
		if c := t.p.client.Load(); c != nil && !drop(n.cfg.Faults.DropInvalidations) {
			n.m.sent.Inc()
			if attempt > 0 {
				n.m.retries.Inc()
			}
			if _, err := c.Call(msgInvalidate, msg, wait); err == nil {
				return nil
			}
		}
		// A refused dial fails at once: pause for the rest of the attempt.
		pause := time.NewTimer(wait - time.Since(began))
		select {
		case <-pause.C:
		case <-stop:
			pause.Stop()
			return context.Canceled
		case <-n.done:
			pause.Stop()
			return ErrClosed
		}
		wait = min(2*wait, 40*time.Millisecond)
	}
}

// released reports whether t no longer needs invalidation seq delivered:
// it acknowledged it through a ping, it left, or every lease it held when
// seq was numbered has expired while it still keeps this node in its lease
// set (or this node dropped it from its own: see mayDropLocked).
func (n *Node) released(t revokeTarget, seq uint64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	p, now := t.p, n.now()
	switch {
	case p.ackedUpTo >= seq, p.gone():
		return true
	case now <= t.holderSnap:
		return false
	}
	return !p.inSet || now < p.promised
}

// handleInvalidate applies a peer's invalidation and acknowledges it. An
// invalidation from a node not yet in the lease set puts it there.
func (n *Node) handleInvalidate(b []byte, r wire.Replier) {
	req, err := decodeInvalidateReq(b)
	if err != nil {
		r.Fail(err.Error())
		return
	}
	if err := n.cache.Apply(req.inv); err != nil {
		r.Fail(err.Error())
		return
	}
	now := n.now()
	n.mu.Lock()
	if p, current := n.touchLocked(req.from, now); current {
		p.lease.apply(req.seq, now)
		n.recomputeLocked(now)
	}
	n.mu.Unlock()
	n.m.applied.Inc()
	r.Reply(nil)
}

// handleBye records that a peer left gracefully: it uses no lease from this
// node any more and will revoke nothing, so nothing waits for it.
func (n *Node) handleBye(b []byte, r wire.Replier) {
	h, err := decodeHello(b)
	if err != nil {
		r.Fail(err.Error())
		return
	}
	n.mu.Lock()
	if p := n.peers[h.name]; p != nil && p.observeLocked(h.inc) {
		p.departed = h.inc
		p.holderUntil = 0
		n.dropLocked(p, n.now(), "said goodbye")
	}
	n.mu.Unlock()
	n.kickMembership()
	r.Reply(nil)
}
