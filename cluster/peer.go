package cluster

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/authd/authd/cluster/ring"
	"github.com/authd/authd/cluster/wire"
	"github.com/authd/authd/tokenstore"
)

// peer is what this node knows of one other node, by name. Peers are never
// removed from Node.peers: a node that left may come back under its name.
type peer struct {
	name string

	// Read on the hot path without Node.mu.
	client atomic.Pointer[wire.Client] // nil until the address is known
	pingOK atomic.Int64                // now() of the last answered ping; 0 never

	// Guarded by Node.mu.
	addr string
	// inSet: the peer is in this node's lease set. The node uses its cache
	// only while it holds a lease from every peer in the set, and sends
	// its invalidations to each of them.
	inSet   bool
	mlAlive bool          // memberlist reports it alive or suspect
	stop    chan struct{} // closed to stop the renew loop; nil when none runs

	lease leaseFrom // what this node holds from the peer

	// What the peer holds from this node.
	holderUntil int64  // now() until which the peer may use this node's lease
	heardAt     int64  // now() of the last ping from the peer
	ackedUpTo   uint64 // this node's invalidations the peer reported applied
	// promised is the now() until which the peer surely keeps this node in
	// its lease set (see the lease protocol in lease.go).
	promised int64
	departed uint64 // incarnation that said goodbye; 0 none
}

// gone reports whether the peer's current incarnation left gracefully.
func (p *peer) gone() bool { return p.departed != 0 && p.departed == p.lease.inc }

// stopRenewLocked stops the peer's renew loop, if one runs.
func (p *peer) stopRenewLocked() {
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
}

// observeLocked records a message from incarnation inc of p and reports
// whether it is current (see leaseFrom.observe). A newer incarnation also
// forgets what the previous one acknowledged.
func (p *peer) observeLocked(inc uint64) bool {
	if inc > p.lease.inc {
		p.ackedUpTo = 0
	}
	return p.lease.observe(inc)
}

// touchLocked records a request from the node h names: it creates the peer,
// updates its address and incarnation, and puts it in the lease set unless
// that incarnation said goodbye. It returns nil for a request bearing this
// node's own name, and whether h's incarnation is current.
func (n *Node) touchLocked(h hello, now int64) (*peer, bool) {
	if h.name == n.cfg.Name || h.name == "" {
		return nil, false
	}
	p := n.peerLocked(h.name)
	current := p.observeLocked(h.inc)
	if !current {
		return p, false
	}
	if h.addr != "" {
		n.setAddrLocked(p, h.addr)
	}
	if !p.inSet && p.departed != h.inc {
		n.addToSetLocked(p, now, "contacted by peer")
	}
	return p, true
}

func (n *Node) peerLocked(name string) *peer {
	p := n.peers[name]
	if p == nil {
		p = &peer{name: name}
		n.peers[name] = p
	}
	return p
}

// setAddrLocked points p's client at addr, replacing (and closing, in the
// background) a client of an older address.
func (n *Node) setAddrLocked(p *peer, addr string) {
	if addr == p.addr && p.client.Load() != nil {
		return
	}
	select {
	case <-n.done:
		return
	default:
	}
	p.addr = addr
	old := p.client.Swap(wire.NewClient(addr, n.clientTLS, 2, time.Duration(n.lease)))
	if old != nil {
		n.wg.Go(old.Close)
	}
}

// addToSetLocked puts p in the lease set and starts renewing its lease. The
// cache is unusable until the first lease arrives.
func (n *Node) addToSetLocked(p *peer, now int64, why string) {
	select {
	case <-n.done:
		return
	default:
	}
	if n.leaving {
		return
	}
	p.inSet = true
	p.heardAt = max(p.heardAt, now)
	p.stopRenewLocked()
	p.stop = make(chan struct{})
	stop := p.stop
	n.wg.Go(func() { n.renewLoop(p, stop) })
	n.recomputeLocked(now)
	n.log.Info("peer joined the lease set", "peer", p.name, "addr", p.addr, "why", why)
}

// dropLocked takes p out of the lease set.
func (n *Node) dropLocked(p *peer, now int64, why string) {
	if !p.inSet {
		return
	}
	p.inSet = false
	p.stopRenewLocked()
	n.recomputeLocked(now)
	n.log.Info("peer left the lease set", "peer", p.name, "why", why)
}

// mayDropLocked reports whether p, which memberlist no longer reports
// alive, may leave the lease set: it has been silent for DropAfter, and the
// nodes this one still holds leases from, itself included, are a majority
// of the set (on a tie, the half holding the smallest name wins). The
// majority rule keeps a node cut off from the rest from dropping them all
// and using its cache alone: it stays without leases and reads the store.
func (n *Node) mayDropLocked(p *peer, now int64) bool {
	if p.mlAlive || now-max(p.heardAt, p.pingOK.Load()) < n.dropAfter {
		return false
	}
	total, held := 1, 1
	smallest, smallestHeld := n.cfg.Name, n.cfg.Name
	for _, q := range n.peers {
		if !q.inSet {
			continue
		}
		total++
		smallest = min(smallest, q.name)
		if q.lease.granted > now {
			held++
			smallestHeld = min(smallestHeld, q.name)
		}
	}
	return 2*held > total || (2*held == total && smallestHeld == smallest)
}

// ownership maps digests to their owners: a ring over the live members and
// the peer of each member (nil for this node). It is immutable; a new one
// replaces it on every membership change.
type ownership struct {
	ring  *ring.Ring
	peers []*peer
}

// owner returns the peer owning d, or nil when this node owns it (or no
// ring has been built yet).
func (o *ownership) owner(d *tokenstore.Digest) *peer {
	i := o.ring.Owner(ringKey(d))
	if i < 0 {
		return nil
	}
	return o.peers[i]
}

// ringKey places a digest on the ring. It reads the digest's last bytes:
// the cache's shards and index tags use its first ones, and ownership
// should not correlate with them.
func ringKey(d *tokenstore.Digest) uint64 { return binary.BigEndian.Uint64(d[24:]) }
