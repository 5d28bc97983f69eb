// Package cluster turns authd nodes that share a store into one service:
// membership, the token cache spread over the nodes, and revocations that
// every node enforces before the revoking call returns.
package cluster

import (
	"context"
	"time"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/tokenstore"
)

// Local is the token cache of a node that runs alone: every lookup and
// invalidation stays in this process. It satisfies server.Cache.
type Local struct {
	Cache *tokencache.Cache
}

// Lookup answers from the cache, filling it through fill on a miss.
func (l Local) Lookup(_ context.Context, d tokenstore.Digest, now time.Time, dst []byte,
	v *tokencache.View, fill func() (tokencache.Entry, bool, error)) ([]byte, bool, error) {
	return l.Cache.LookupView(dst, v, d, now, fill)
}

// Put caches a freshly issued token.
func (l Local) Put(e tokencache.Entry) { l.Cache.Put(e) }

// Invalidate applies inv to the one cache there is; it cannot fail.
func (l Local) Invalidate(_ context.Context, inv tokencache.Invalidation) error {
	l.Cache.Apply(inv)
	return nil
}
