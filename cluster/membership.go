package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/authd/authd/cluster/ring"
)

// metaVersion heads the node metadata gossiped by memberlist: the version,
// the peer listener's port and the incarnation.
const (
	metaVersion = 1
	metaLen     = 1 + 2 + 8
)

// Join retry pacing: backoff while not joined, then a periodic merge pass
// that heals clusters split at bootstrap or by a long partition.
const (
	joinBackoffMin = 200 * time.Millisecond
	joinBackoffMax = 10 * time.Second
	rejoinEvery    = 30 * time.Second
)

// startGossip creates the memberlist on cfg.Bind and learns the advertised
// peer address from it.
func (n *Node) startGossip(peerPort int) error {
	c := memberlist.DefaultLANConfig()
	c.Name = n.cfg.Name
	host, port, _ := splitHostPort(n.cfg.Bind)
	c.BindAddr, c.BindPort = host, port
	c.AdvertisePort = port
	if n.cfg.Advertise != "" {
		ah, ap, err := splitHostPort(n.cfg.Advertise)
		if err != nil {
			return fmt.Errorf("cluster: advertise address: %w", err)
		}
		c.AdvertiseAddr, c.AdvertisePort = ah, ap
	}
	c.SecretKey = n.cfg.Key
	c.TCPTimeout = 2 * time.Second
	// A node restarted with the same name but a new address (a rescheduled
	// pod) takes its name back once the old address is dead this long.
	c.DeadNodeReclaimTime = 5 * time.Second
	c.Delegate = delegate{meta: n.meta(peerPort)}
	c.Events = events{n}
	c.Logger = log.New(gossipLog{n.log}, "", 0)

	ml, err := memberlist.Create(c)
	if err != nil {
		return fmt.Errorf("cluster gossip: %w", err)
	}
	n.ml = ml
	n.peerAddr = net.JoinHostPort(ml.LocalNode().Addr.String(), strconv.Itoa(peerPort))
	return nil
}

func (n *Node) meta(peerPort int) []byte {
	b := make([]byte, metaLen)
	b[0] = metaVersion
	binary.BigEndian.PutUint16(b[1:], uint16(peerPort))
	binary.BigEndian.PutUint64(b[3:], n.inc)
	return b
}

func parseMeta(b []byte) (port int, inc uint64, ok bool) {
	if len(b) < metaLen || b[0] != metaVersion {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint16(b[1:])), binary.BigEndian.Uint64(b[3:]), true
}

// delegate gives memberlist this node's metadata; authd sends nothing else
// through gossip.
type delegate struct{ meta []byte }

func (d delegate) NodeMeta(int) []byte               { return d.meta }
func (delegate) NotifyMsg([]byte)                    {}
func (delegate) GetBroadcasts(int, int) [][]byte     { return nil }
func (delegate) LocalState(bool) []byte              { return nil }
func (delegate) MergeRemoteState(buf []byte, _ bool) {}

// memberEvent is a copy of what memberlist reported about one node.
type memberEvent struct {
	leave bool
	name  string
	ip    string
	meta  []byte
	state memberlist.NodeStateType
}

// events queues memberlist's notifications for membershipLoop. memberlist
// calls it with its own locks held: it only copies and signals, never
// blocks and never calls back into memberlist.
type events struct{ n *Node }

func (e events) NotifyJoin(m *memberlist.Node)   { e.n.queue(m, false) }
func (e events) NotifyUpdate(m *memberlist.Node) { e.n.queue(m, false) }
func (e events) NotifyLeave(m *memberlist.Node)  { e.n.queue(m, true) }

func (n *Node) queue(m *memberlist.Node, leave bool) {
	ev := memberEvent{leave: leave, name: m.Name, ip: m.Addr.String(),
		meta: bytes.Clone(m.Meta), state: m.State}
	n.evMu.Lock()
	n.events = append(n.events, ev)
	n.evMu.Unlock()
	n.kickMembership()
}

func (n *Node) kickMembership() {
	select {
	case n.evKick <- struct{}{}:
	default:
	}
}

// membershipLoop applies membership events and rebuilds the ring.
func (n *Node) membershipLoop() {
	for {
		select {
		case <-n.done:
			return
		case <-n.evKick:
		}
		n.evMu.Lock()
		evs := n.events
		n.events = nil
		n.evMu.Unlock()
		n.mu.Lock()
		for _, ev := range evs {
			n.applyEventLocked(ev)
		}
		n.mu.Unlock()
		n.rebuildRing()
	}
}

// applyEventLocked updates the peer an event is about. A join or update
// puts it in the lease set; a graceful leave takes it out at once; a death
// only marks it, and renewLoop drops it later if it may (mayDropLocked).
func (n *Node) applyEventLocked(ev memberEvent) {
	if ev.name == n.cfg.Name {
		return
	}
	port, inc, ok := parseMeta(ev.meta)
	if !ok {
		n.log.Warn("ignoring cluster member without authd metadata", "peer", ev.name)
		return
	}
	p := n.peerLocked(ev.name)
	if !p.observeLocked(inc) {
		return // news of an older incarnation
	}
	now := n.now()
	if ev.leave {
		p.mlAlive = false
		if ev.state == memberlist.StateLeft {
			p.departed = inc
			p.holderUntil = 0
			n.dropLocked(p, now, "left the cluster")
		}
		return
	}
	p.mlAlive = true
	n.setAddrLocked(p, net.JoinHostPort(ev.ip, strconv.Itoa(port)))
	if !p.inSet && p.departed != inc {
		n.addToSetLocked(p, now, "member joined")
	}
}

// rebuildRing builds the ownership ring over the live members that have
// not said goodbye, and swaps it in.
func (n *Node) rebuildRing() {
	members := n.ml.Members()
	n.mu.Lock()
	names := []string{}
	if !n.leaving {
		names = append(names, n.cfg.Name)
	}
	for _, m := range members {
		if p := n.peers[m.Name]; p != nil && !p.gone() && m.Name != n.cfg.Name {
			names = append(names, m.Name)
		}
	}
	r := ring.New(names, 0)
	o := &ownership{ring: r, peers: make([]*peer, r.Len())}
	for i, name := range r.Members() {
		if name != n.cfg.Name {
			o.peers[i] = n.peers[name]
		}
	}
	n.mu.Unlock()
	if old := n.owners.Swap(o); !slices.Equal(old.ring.Members(), r.Members()) {
		n.m.ownershipChanges.Inc()
		n.log.Info("cluster ownership changed", "members", r.Len())
	}
}

// joinLoop joins the cluster through the seeds, retrying with backoff and
// logging at warn until it succeeds, then merges with any seed outside the
// membership every rejoinEvery.
func (n *Node) joinLoop() {
	backoff := joinBackoffMin
	for {
		wait := rejoinEvery
		if n.isJoined() {
			n.mergeSeeds()
		} else if err := n.tryJoin(); err != nil {
			n.log.Warn("cluster join failed, retrying", "err", err, "retry_in", backoff)
			wait, backoff = backoff, min(2*backoff, joinBackoffMax)
		} else {
			n.setJoined()
		}
		t := time.NewTimer(wait)
		select {
		case <-n.done:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (n *Node) isJoined() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.joined
}

func (n *Node) setJoined() {
	n.mu.Lock()
	n.joined = true
	n.recomputeLocked(n.now())
	n.mu.Unlock()
	n.log.Info("joined the cluster", "members", n.ml.NumMembers())
}

// tryJoin joins through the seeds. With no seeds configured, or seeds that
// all resolve to this node, the node starts a cluster of its own. A node
// that another one joined meanwhile has joined too.
func (n *Node) tryJoin() error {
	if len(n.cfg.Join) == 0 {
		return nil
	}
	addrs, err := n.resolveSeeds()
	if len(addrs) == 0 && err == nil {
		return nil
	}
	if len(addrs) > 0 {
		var k int
		if k, err = n.ml.Join(addrs); k > 0 {
			return nil
		}
	}
	if n.ml.NumMembers() > 1 {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("no seed answered")
	}
	return err
}

// mergeSeeds joins seeds that are not members: two clusters formed apart
// (nodes that bootstrapped alone, or sides of a long partition that
// memberlist stopped probing) merge.
func (n *Node) mergeSeeds() {
	addrs, _ := n.resolveSeeds()
	known := map[string]bool{}
	for _, m := range n.ml.Members() {
		known[m.Address()] = true
	}
	var strangers []string
	for _, a := range addrs {
		if !known[a] {
			strangers = append(strangers, a)
		}
	}
	if len(strangers) > 0 {
		if k, err := n.ml.Join(strangers); k > 0 {
			n.log.Info("merged with seeds outside the membership", "seeds", k)
		} else {
			n.log.Debug("seed merge failed", "err", err)
		}
	}
}

// resolveSeeds resolves the seeds to ip:port addresses, leaving out this
// node's own. A name may resolve to several addresses. err reports names
// that did not resolve.
func (n *Node) resolveSeeds() ([]string, error) {
	self := n.ml.LocalNode().Address()
	_, defPort, _ := splitHostPort(n.cfg.Bind)
	var addrs []string
	var errs []error
	for _, s := range n.cfg.Join {
		host, port := s, strconv.Itoa(defPort)
		if h, p, err := net.SplitHostPort(s); err == nil {
			host, port = h, p
		}
		ips := []string{host}
		if net.ParseIP(host) == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			var err error
			ips, err = net.DefaultResolver.LookupHost(ctx, host)
			cancel()
			if err != nil {
				errs = append(errs, err)
				continue
			}
		}
		for _, ip := range ips {
			if a := net.JoinHostPort(ip, port); a != self && a != n.cfg.Bind {
				addrs = append(addrs, a)
			}
		}
	}
	slices.Sort(addrs)
	if len(errs) > 0 {
		return slices.Compact(addrs), fmt.Errorf("resolve seeds: %w", errs[0])
	}
	return slices.Compact(addrs), nil
}

// gossipLog routes memberlist's log lines to slog: its errors at warn (the
// cluster copes), everything else at debug.
type gossipLog struct{ log *slog.Logger }

func (g gossipLog) Write(b []byte) (int, error) {
	msg := string(bytes.TrimSpace(b))
	level := slog.LevelDebug
	if bytes.Contains(b, []byte("[ERR]")) {
		level = slog.LevelWarn
	}
	g.log.Log(context.Background(), level, "gossip", "msg", msg)
	return len(b), nil
}

var _ io.Writer = gossipLog{}
