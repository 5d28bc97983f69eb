package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/cluster/looptest"
	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/tokenstore"
)

// fakeStore is the store the nodes of a test cluster share: token entries
// and whether each is active.
type fakeStore struct {
	mu     sync.Mutex
	tokens map[tokenstore.Digest]tokencache.Entry
	active map[tokenstore.Digest]bool
	reads  atomic.Int64
}

func newFakeStore() *fakeStore {
	return &fakeStore{tokens: map[tokenstore.Digest]tokencache.Entry{},
		active: map[tokenstore.Digest]bool{}}
}

func (s *fakeStore) add(i int) tokencache.Entry {
	now := time.Now().Unix()
	e := tokencache.Entry{Digest: tokenstore.DigestOf(fmt.Sprintf("at_%d", i)),
		Kind: tokenstore.KindAccess, ClientID: "svc", Scope: "read",
		IssuedAt: now, ExpiresAt: now + 600}
	s.mu.Lock()
	s.tokens[e.Digest], s.active[e.Digest] = e, true
	s.mu.Unlock()
	return e
}

func (s *fakeStore) revoke(d tokenstore.Digest) {
	s.mu.Lock()
	s.active[d] = false
	s.mu.Unlock()
}

func (s *fakeStore) fill(_ context.Context, d tokenstore.Digest, _ time.Time) (
	tokencache.Entry, bool, error) {
	s.reads.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.tokens[d]
	return e, ok && s.active[d], nil
}

// startNodes starts n nodes on loopback sharing st, the first one seeding
// the others, and waits until all are ready.
func startNodes(t *testing.T, n int, st *fakeStore) []*Node {
	t.Helper()
	var nodes []*Node
	for i := range n {
		cfg := Config{Name: fmt.Sprintf("n%d", i), Bind: freeAddr(t), PeerBind: "127.0.0.1:0",
			Key: []byte("0123456789abcdef"), Cache: tokencache.New(tokencache.Config{MaxBytes: 1 << 20}),
			Fill: st.fill}
		if i > 0 {
			cfg.Join = []string{nodes[0].cfg.Bind}
		}
		nd, err := Start(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nd.Close() })
		nodes = append(nodes, nd)
	}
	for _, nd := range nodes {
		waitFor(t, "node ready", func() bool { return nd.Ready(context.Background()) == nil })
	}
	for _, nd := range nodes {
		waitFor(t, "full ring", func() bool { return nd.owners.Load().ring.Len() == n })
	}
	return nodes
}

func freeAddr(t *testing.T) string { return looptest.FreeAddr(t) }

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lookup asks nd about e as the server would, with a fill that reads st.
func lookup(nd *Node, st *fakeStore, d tokenstore.Digest) (bool, error) {
	var v tokencache.View
	_, active, err := nd.Lookup(context.Background(), d, time.Now(), nil, &v,
		func() (tokencache.Entry, bool, error) { return st.fill(context.Background(), d, time.Time{}) })
	return active, err
}

// TestClusterShardsAndRevokes: every node answers every token, the answer
// is cached on the token's owner only, and an Invalidate that returned is
// enforced by every node.
func TestClusterShardsAndRevokes(t *testing.T) {
	st := newFakeStore()
	nodes := startNodes(t, 3, st)
	var es []tokencache.Entry
	for i := range 60 {
		es = append(es, st.add(i))
	}

	var wg sync.WaitGroup
	for _, nd := range nodes {
		wg.Go(func() {
			for _, e := range es {
				if active, err := lookup(nd, st, e.Digest); err != nil || !active {
					t.Errorf("%s: %x active = %v, %v", nd.cfg.Name, e.Digest[:4], active, err)
				}
			}
		})
	}
	wg.Wait()
	for _, e := range es {
		holders := 0
		for _, nd := range nodes {
			if _, ok := nd.cache.Get(e.Digest, time.Now()); ok {
				holders++
			}
		}
		if holders != 1 {
			t.Fatalf("%x is cached on %d nodes, want its owner only", e.Digest[:4], holders)
		}
	}

	for i, e := range es {
		st.revoke(e.Digest)
		inv := tokencache.Invalidation{Kind: tokencache.InvalidateToken, Digest: e.Digest}
		if err := nodes[i%3].Invalidate(context.Background(), inv); err != nil {
			t.Fatal(err)
		}
		for _, nd := range nodes {
			if active, _ := lookup(nd, st, e.Digest); active {
				t.Fatalf("%s answers %x active after its revocation returned", nd.cfg.Name,
					e.Digest[:4])
			}
		}
	}
}

// TestLeaveReleasesPeers: a node that leaves is out of its peers' lease
// sets and ring at once, and their revocations no longer wait for it.
func TestLeaveReleasesPeers(t *testing.T) {
	st := newFakeStore()
	nodes := startNodes(t, 3, st)
	gone := nodes[2]
	if err := gone.Leave(context.Background()); err != nil {
		t.Fatal(err)
	}
	gone.Close()
	for _, nd := range nodes[:2] {
		nd.mu.Lock()
		p := nd.peers[gone.cfg.Name]
		inSet, left := p.inSet, p.gone()
		nd.mu.Unlock()
		if inSet || !left {
			t.Errorf("%s: left peer in set %v, gone %v", nd.cfg.Name, inSet, left)
		}
		waitFor(t, "ring without the left node", func() bool {
			return nd.owners.Load().ring.Len() == 2
		})
		if !nd.usable() {
			t.Errorf("%s lost its cache when a peer left gracefully", nd.cfg.Name)
		}
	}
	// Lease 1s: with the goodbye honoured there is nothing to wait for.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	inv := tokencache.Invalidation{Kind: tokencache.InvalidateClient, ID: "svc"}
	if err := nodes[0].Invalidate(ctx, inv); err != nil {
		t.Fatalf("revocation after a graceful leave: %v", err)
	}
	if err := gone.Invalidate(context.Background(), inv); !errors.Is(err, ErrClosed) {
		t.Errorf("revocation on a node that left: %v, want ErrClosed", err)
	}
}

// TestOwnerDownFallsBackToStore: lookups owned by a node that vanished
// (closed without leaving) are answered from the store, correctly.
func TestOwnerDownFallsBackToStore(t *testing.T) {
	st := newFakeStore()
	nodes := startNodes(t, 3, st)
	dead := nodes[2]
	var owned []tokencache.Entry
	for i := 0; len(owned) < 5; i++ {
		e := st.add(i)
		if p := nodes[0].owners.Load().owner(&e.Digest); p != nil && p.name == dead.cfg.Name {
			owned = append(owned, e)
		}
	}
	dead.Close()
	st.revoke(owned[0].Digest)
	for _, e := range owned {
		want := e.Digest != owned[0].Digest
		if active, err := lookup(nodes[0], st, e.Digest); err != nil || active != want {
			t.Errorf("lookup of a dead node's token: %v, %v; want %v", active, err, want)
		}
	}
}

// TestWrongKeyCannotJoin: a node with another cluster key gets nowhere.
func TestWrongKeyCannotJoin(t *testing.T) {
	st := newFakeStore()
	nodes := startNodes(t, 1, st)
	x, err := Start(Config{Name: "intruder", Bind: freeAddr(t), PeerBind: "127.0.0.1:0",
		Key: []byte("fedcba9876543210"), Cache: tokencache.New(tokencache.Config{MaxBytes: 1 << 20}),
		Fill: st.fill, Join: []string{nodes[0].cfg.Bind}})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if err := x.tryJoin(); err == nil {
		t.Fatal("a node with the wrong key joined")
	}
	if n := nodes[0].ml.NumMembers(); n != 1 {
		t.Fatalf("cluster has %d members after an intruder tried to join", n)
	}
	if err := x.Invalidate(context.Background(),
		tokencache.Invalidation{Kind: tokencache.InvalidateClient, ID: "svc"}); !errors.Is(err,
		ErrNotJoined) {
		t.Errorf("revocation on a node that never joined: %v, want ErrNotJoined", err)
	}
}

// TestFlushDropsInFlightFill: a fill that started before Flush does not
// put its (possibly stale) answer in the cache.
func TestFlushDropsInFlightFill(t *testing.T) {
	c := tokencache.New(tokencache.Config{MaxBytes: 1 << 20})
	st := newFakeStore()
	e := st.add(1)
	c.Put(st.add(2))
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Lookup(e.Digest, time.Now(), func() (tokencache.Entry, bool, error) {
			close(started)
			<-release
			return e, true, nil
		})
	}()
	<-started
	c.Flush()
	close(release)
	<-done
	if _, ok := c.Get(e.Digest, time.Now()); ok {
		t.Error("a fill that overlapped Flush was cached")
	}
	if _, ok := c.Get(tokenstore.DigestOf("at_2"), time.Now()); ok {
		t.Error("an entry survived Flush")
	}
	if st := c.Stats(); st.Entries != 0 {
		t.Errorf("Stats.Entries = %d after Flush", st.Entries)
	}
	c.Put(e)
	if _, ok := c.Get(e.Digest, time.Now()); !ok {
		t.Error("cache unusable after Flush")
	}
}

// TestJoinBySeedName: seeds may be DNS names; one that does not resolve
// does not keep the node from joining through the others.
func TestJoinBySeedName(t *testing.T) {
	st := newFakeStore()
	first := startNodes(t, 1, st)[0]
	_, port, _ := net.SplitHostPort(first.cfg.Bind)
	cfg := Config{Name: "by-name", Bind: freeAddr(t), PeerBind: "127.0.0.1:0",
		Key: []byte("0123456789abcdef"), Cache: tokencache.New(tokencache.Config{MaxBytes: 1 << 20}),
		Fill: st.fill, Join: []string{"no-such-seed.invalid:7946", "localhost:" + port}}
	nd, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nd.Close() })
	waitFor(t, "node ready", func() bool { return nd.Ready(context.Background()) == nil })
	waitFor(t, "both members", func() bool { return nd.owners.Load().ring.Len() == 2 })
}
