package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/cluster/wire"
	"github.com/authd/authd/tokenstore"
)

// FillFunc reads the token with digest d from the store and returns its
// cache entry and whether it is active at now, as the server's own fill
// does. The owner of a digest calls it to answer forwarded introspections.
type FillFunc func(ctx context.Context, d tokenstore.Digest, now time.Time) (
	tokencache.Entry, bool, error)

// Config configures a Node. Name, Bind, PeerBind, Key, Cache and Fill are
// required; zero durations take the defaults named.
type Config struct {
	// Name identifies the node in the cluster; it must be unique and
	// should stay the same across restarts (a hostname).
	Name string
	// Bind is the gossip address (memberlist, UDP and TCP), host:port.
	Bind string
	// Advertise is the gossip address other nodes reach this one at, when
	// it differs from Bind (NAT, a wildcard Bind). Its host is also the
	// host of the advertised peer address.
	Advertise string
	// PeerBind is the address of the peer listener (forwarded lookups,
	// invalidations, leases), host:port. Port 0 picks a free port.
	PeerBind string
	// Join lists seed addresses or DNS names (host or host:port; the port
	// defaults to Bind's). A name may resolve to several addresses, as a
	// Kubernetes headless service does. Empty: this node starts a cluster.
	Join []string
	// Key is the cluster key: 16, 24 or 32 bytes. It encrypts gossip and
	// authenticates (and encrypts) peer connections.
	Key []byte

	// Lease is how long a node may answer from its cache after it last
	// heard from every peer. It bounds how long a node cut off from the
	// others keeps using its cache, and how long a revocation waits for a
	// peer that does not answer. Default 1s.
	Lease time.Duration
	// DropAfter is how long a peer that memberlist reports dead must have
	// been silent before it leaves the lease set, provided most of the set
	// can still be reached. Default 5 * Lease.
	DropAfter time.Duration
	// ForwardTimeout bounds a forwarded lookup; past it the node reads the
	// store itself. Default 100ms.
	ForwardTimeout time.Duration
	// StoreTimeout bounds the store read of a forwarded lookup that missed
	// the owner's cache. Default 5s.
	StoreTimeout time.Duration

	Cache *tokencache.Cache
	Fill  FillFunc
	// Faults injects message loss, for tests only (see FaultsEnv).
	Faults   Faults
	Logger   *slog.Logger
	Registry prometheus.Registerer
}

// Errors of Invalidate, besides ctx's.
var (
	// ErrNotJoined: the node has not joined its cluster yet, so it cannot
	// know which nodes must enforce a revocation.
	ErrNotJoined = errors.New("cluster: not joined yet")
	// ErrClosed: the node has left the cluster or been closed.
	ErrClosed = errors.New("cluster: node closed")
)

// UnconfirmedError: a peer neither acknowledged a revocation nor lost its
// lease in time. The store holds the revocation, so a retry is safe.
type UnconfirmedError struct{ Peer string }

func (e *UnconfirmedError) Error() string {
	return "cluster: revocation not confirmed by " + e.Peer
}

// Node is this process's member of the cluster. It satisfies server.Cache:
// Lookup answers from the cache of the node that owns the digest, Put
// caches issued tokens on their owner, and Invalidate returns once every
// node enforces a revocation. Create it with Start; it is safe for
// concurrent use. Leave, then Close, when shutting down.
type Node struct {
	cfg   Config
	log   *slog.Logger
	cache *tokencache.Cache
	inc   uint64    // this incarnation: its start time, unix nanoseconds
	epoch time.Time // origin of now()
	m     *metrics

	// Timings in nanoseconds, derived from cfg.
	lease, margin, renewEvery, catchUpAfter, dropAfter int64

	clientTLS *tls.Config
	peerSrv   *wire.Server
	peerAddr  string // advertised peer listener address
	ml        *memberlist.Memberlist

	// usableUntil is the now() until which the cache may be used: the
	// earliest lease deadline over the lease set, 0 before joining. The
	// hot path reads it with one atomic load.
	usableUntil atomic.Int64
	owners      atomic.Pointer[ownership]
	fillSlots   chan struct{} // bounds forwarded lookups filling from the store

	flushMu sync.Mutex // serializes catch-up flushes

	// mu guards the fields below and every peer's guarded fields.
	mu       sync.Mutex
	peers    map[string]*peer
	seq      uint64 // number of this node's latest invalidation
	joined   bool
	caughtUp bool // the cache has been usable once since joining
	leaving  bool

	evMu   sync.Mutex // guards events
	events []memberEvent
	evKick chan struct{}

	done      chan struct{} // closed by Close
	closeOnce sync.Once
	wg        sync.WaitGroup // loops and background closes
	fillWG    sync.WaitGroup // forwarded-lookup fills
}

// Start binds the peer listener and the gossip address, and starts joining
// the cluster in the background: Ready reports when that is done. The
// cache is used only while the node holds its leases; until then every
// lookup reads the store.
func Start(cfg Config) (*Node, error) {
	if err := checkConfig(&cfg); err != nil {
		return nil, err
	}
	serverTLS, clientTLS, err := wire.NewTLS(cfg.Key)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.Logger.With("node", cfg.Name), cache: cfg.Cache,
		inc: uint64(time.Now().UnixNano()), epoch: time.Now(),
		clientTLS: clientTLS, peers: make(map[string]*peer),
		fillSlots: make(chan struct{}, 256), evKick: make(chan struct{}, 1),
		done: make(chan struct{})}
	n.setTimings()
	if n.m, err = newMetrics(cfg.Registry, n); err != nil {
		return nil, err
	}
	n.owners.Store(&ownership{})

	ln, err := net.Listen("tcp", cfg.PeerBind)
	if err != nil {
		return nil, fmt.Errorf("cluster peer listener: %w", err)
	}
	n.peerSrv = wire.NewServer(serverTLS, n.handle)
	n.wg.Go(func() { n.peerSrv.Serve(ln) })
	if err := n.startGossip(ln.Addr().(*net.TCPAddr).Port); err != nil {
		n.peerSrv.Close()
		n.wg.Wait()
		return nil, err
	}
	n.rebuildRing()
	n.wg.Go(n.membershipLoop)
	n.wg.Go(n.joinLoop)
	n.log.Info("cluster node started", "gossip", cfg.Bind, "peer_addr", n.peerAddr,
		"lease", cfg.Lease, "seeds", len(cfg.Join))
	if cfg.Faults.Any() {
		n.log.Warn("cluster fault injection is on: for tests only", "faults", cfg.Faults.String())
	}
	return n, nil
}

func checkConfig(c *Config) error {
	switch {
	case c.Name == "":
		return errors.New("cluster: node name required")
	case c.Cache == nil || c.Fill == nil:
		return errors.New("cluster: Cache and Fill are required")
	case len(c.Key) != 16 && len(c.Key) != 24 && len(c.Key) != 32:
		return errors.New("cluster: key must be 16, 24 or 32 bytes")
	}
	if _, _, err := splitHostPort(c.Bind); err != nil {
		return fmt.Errorf("cluster: bind address: %w", err)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Lease, time.Second)
	def(&c.DropAfter, 5*c.Lease)
	def(&c.ForwardTimeout, 100*time.Millisecond)
	def(&c.StoreTimeout, 5*time.Second)
	c.DropAfter = max(c.DropAfter, 2*c.Lease)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
	}
	return nil
}

// setTimings derives the protocol's intervals from the lease.
func (n *Node) setTimings() {
	n.lease = int64(n.cfg.Lease)
	// margin covers the rate difference of two nodes' clocks over a lease
	// and the scheduling delay between reading the clock and acting on it.
	n.margin = max(n.lease/10, int64(5*time.Millisecond))
	n.renewEvery = n.lease / 4
	n.catchUpAfter = n.lease / 4
	n.dropAfter = int64(n.cfg.DropAfter)
}

// now reads the node's monotonic clock, in nanoseconds.
func (n *Node) now() int64 { return int64(time.Since(n.epoch)) }

// usable reports whether the cache may answer now.
func (n *Node) usable() bool { return n.usableUntil.Load() > n.now() }

// Lookup returns d's introspection answer into *v (as server.Cache
// describes): from this node's cache when it owns d, from the owner's cache
// otherwise. When the owner does not answer within ForwardTimeout, or this
// node may not use its cache (no lease), it calls fill itself and caches
// nothing. Errors are fill's.
func (n *Node) Lookup(ctx context.Context, d tokenstore.Digest, now time.Time, dst []byte,
	v *tokencache.View, fill func() (tokencache.Entry, bool, error)) ([]byte, bool, error) {
	if n.owners.Load().owner(&d) == nil && n.usable() {
		return n.cache.LookupView(dst, v, d, now, fill)
	}
	e, active, err := n.lookupEntry(d, now, fill)
	if !active || err != nil {
		return dst, false, err
	}
	return tokencache.AppendEntryView(dst, v, &e), true, nil
}

// lookupEntry answers a lookup this node cannot answer from its own cache:
// from the owner, or from the store when this node owns d but may not use
// its cache.
func (n *Node) lookupEntry(d tokenstore.Digest, now time.Time,
	fill func() (tokencache.Entry, bool, error)) (tokencache.Entry, bool, error) {
	if p := n.owners.Load().owner(&d); p != nil {
		return n.forward(p, d, now, fill)
	}
	n.m.bypass.Inc()
	return fillUncached(d, now, fill)
}

// fillUncached answers from fill alone, never active past ExpiresAt.
func fillUncached(d tokenstore.Digest, now time.Time,
	fill func() (tokencache.Entry, bool, error)) (tokencache.Entry, bool, error) {
	e, active, err := fill()
	if err != nil || !active || now.Unix() >= e.ExpiresAt {
		return tokencache.Entry{}, false, err
	}
	e.Digest = d
	return e, true, nil
}

// Put caches a freshly issued token when this node owns it and holds its
// leases. A token owned by another node is not sent there: its first
// introspection costs one store read, which is cheaper than making every
// issuance wait for a peer, and it cannot race a revocation of the token.
func (n *Node) Put(e tokencache.Entry) {
	if n.owners.Load().owner(&e.Digest) == nil && n.usable() {
		n.cache.Put(e)
	}
}

// Ready reports whether the node has joined its cluster and held every
// lease once, so that its cache is in use. Afterwards it stays ready until
// Leave, even while a lease lapses: the node then answers from the store,
// correctly, and taking it out of service would only add load elsewhere.
func (n *Node) Ready(context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.leaving:
		return ErrClosed
	case !n.joined:
		return ErrNotJoined
	case !n.caughtUp:
		missing := 0
		now := n.now()
		for _, p := range n.peers {
			if p.inSet && p.lease.granted <= now {
				missing++
			}
		}
		return fmt.Errorf("cluster: waiting for leases from %d peers", missing)
	}
	return nil
}

// recomputeLocked publishes the cache's usable deadline: the earliest lease
// deadline over the lease set, or 0 before joining and after leaving.
func (n *Node) recomputeLocked(now int64) {
	until := int64(math.MaxInt64)
	if !n.joined || n.leaving {
		until = 0
	}
	for _, p := range n.peers {
		if p.inSet {
			until = min(until, p.lease.granted)
		}
	}
	n.usableUntil.Store(until)
	if until > now && !n.caughtUp {
		n.caughtUp = true
		n.log.Info("cluster caught up: cache in use", "peers", n.setSizeLocked())
	}
}

func (n *Node) setSizeLocked() int {
	k := 0
	for _, p := range n.peers {
		if p.inSet {
			k++
		}
	}
	return k
}

// helloLocked names this node in requests.
func (n *Node) helloLocked() hello {
	return hello{name: n.cfg.Name, inc: n.inc, addr: n.peerAddr}
}

// Leave leaves the cluster gracefully: the node stops using its cache,
// tells every peer it is gone (so none waits for its leases), and
// announces its departure through gossip. Call it after the server has
// stopped taking requests; revocations fail afterwards.
func (n *Node) Leave(ctx context.Context) error {
	n.mu.Lock()
	if n.leaving {
		n.mu.Unlock()
		return nil
	}
	n.leaving = true
	n.recomputeLocked(n.now())
	var clients []*wire.Client
	for _, p := range n.peers {
		p.stopRenewLocked()
		if c := p.client.Load(); c != nil && (p.inSet || p.holderUntil > n.now()) {
			clients = append(clients, c)
		}
	}
	bye := enc(nil).hello(n.helloLocked())
	n.mu.Unlock()

	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { c.Call(msgBye, bye, 500*time.Millisecond) })
	}
	wg.Wait()

	timeout := 3 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, max(time.Until(d), 100*time.Millisecond))
	}
	if err := n.ml.Leave(timeout); err != nil {
		return fmt.Errorf("cluster leave: %w", err)
	}
	n.log.Info("left the cluster")
	return nil
}

// Close stops gossip, the peer listener and every background goroutine,
// and waits for them. Call Leave first for a graceful exit. Calling Close
// again does nothing.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		n.mu.Lock()
		n.leaving = true
		n.recomputeLocked(n.now())
		n.mu.Unlock()
		close(n.done)
		err = n.ml.Shutdown()
		n.peerSrv.Close()
		n.fillWG.Wait()
		n.wg.Wait()
		n.mu.Lock()
		for _, p := range n.peers {
			if c := p.client.Swap(nil); c != nil {
				c.Close()
			}
		}
		n.mu.Unlock()
	})
	return err
}

// splitHostPort splits host:port and parses the port.
func splitHostPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", addr)
	}
	return host, p, nil
}
