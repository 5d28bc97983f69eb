package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/cluster/wire"
	"github.com/authd/authd/tokenstore"
)

// handle dispatches a peer request. It runs on the connection's read
// goroutine: everything but a lookup that misses the cache answers inline.
func (n *Node) handle(typ byte, b []byte, r wire.Replier) {
	switch typ {
	case msgPing:
		n.handlePing(b, r)
	case msgInvalidate:
		n.handleInvalidate(b, r)
	case msgLookup:
		n.handleLookup(b, r)
	case msgBye:
		n.handleBye(b, r)
	default:
		r.Fail("unknown request")
	}
}

// forward asks p, the owner of d, for d's answer, and falls back to fill
// (caching nothing) when p is unhealthy, does not answer in time, or could
// not answer. A healthy owner answered a lease ping within the last Lease.
func (n *Node) forward(p *peer, d tokenstore.Digest, now time.Time,
	fill func() (tokencache.Entry, bool, error)) (tokencache.Entry, bool, error) {
	c := p.client.Load()
	switch {
	case c == nil || n.now()-p.pingOK.Load() > n.lease:
		n.m.fallback(reasonUnhealthy)
		return fillUncached(d, now, fill)
	case drop(n.cfg.Faults.DropLookups):
		n.m.fallback(reasonDropped)
		return fillUncached(d, now, fill)
	}
	b, err := c.Call(msgLookup, lookupReq{digest: d, now: now.UnixNano()}.encode(),
		n.cfg.ForwardTimeout)
	if err != nil {
		if errors.Is(err, wire.ErrTimeout) {
			n.m.fallback(reasonTimeout)
		} else {
			n.m.fallback(reasonError)
		}
		return fillUncached(d, now, fill)
	}
	rep, err := decodeLookupReply(b, d)
	if err != nil || rep.status == lookupUnavailable {
		n.m.fallback(reasonError)
		return fillUncached(d, now, fill)
	}
	n.m.forwarded.Inc()
	if rep.status != lookupActive || now.Unix() >= rep.e.ExpiresAt {
		return tokencache.Entry{}, false, nil
	}
	return rep.e, true, nil
}

// handleLookup answers a forwarded lookup: inline from the cache on a hit,
// otherwise on a goroutine that reads the store (through the cache, which
// it fills, when this node holds its leases). Too many fills at once get
// lookupUnavailable, and the asking node reads the store itself.
func (n *Node) handleLookup(b []byte, r wire.Replier) {
	req, err := decodeLookupReq(b)
	if err != nil {
		r.Fail(err.Error())
		return
	}
	now := time.Unix(0, req.now)
	if n.usable() {
		var text [160]byte
		var v tokencache.View
		if _, ok := n.cache.AppendView(text[:0], &v, req.digest, now); ok {
			r.Reply(appendActiveView(make([]byte, 0, 64+len(v.Email)+len(v.Scope)), &v))
			return
		}
	}
	select {
	case n.fillSlots <- struct{}{}:
	default:
		r.Reply([]byte{lookupUnavailable})
		return
	}
	n.fillWG.Go(func() {
		defer func() { <-n.fillSlots }()
		r.Reply(n.ownerLookup(req.digest, now))
	})
}

// ownerLookup answers a lookup that missed: through the cache when usable,
// from the store alone otherwise.
func (n *Node) ownerLookup(d tokenstore.Digest, now time.Time) []byte {
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.StoreTimeout)
	defer cancel()
	fill := func() (tokencache.Entry, bool, error) { return n.cfg.Fill(ctx, d, now) }
	var (
		e      tokencache.Entry
		active bool
		err    error
	)
	if n.usable() {
		e, active, err = n.cache.Lookup(d, now, fill)
	} else {
		e, active, err = fillUncached(d, now, fill)
	}
	switch {
	case err != nil:
		return []byte{lookupUnavailable}
	case !active:
		return []byte{lookupInactive}
	}
	return appendActiveEntry(nil, e)
}
