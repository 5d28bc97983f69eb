package tokencache

import (
	"fmt"

	"github.com/authd/authd/tokenstore"
)

// InvalidationKind says what an Invalidation revokes.
type InvalidationKind uint8

// Invalidation kinds. The numeric values may travel between nodes; do not
// renumber.
const (
	// InvalidateToken revokes one token: Invalidation.Digest.
	InvalidateToken InvalidationKind = iota + 1
	// InvalidateUser revokes the tokens of user ID issued under a
	// generation below Generation (the user's generation after the
	// revocation).
	InvalidateUser
	// InvalidateFamily revokes every token of refresh token family ID.
	InvalidateFamily
	// InvalidateClient revokes every token issued to client ID.
	InvalidateClient
)

// Invalidation is one revocation as a value, so that it can be handed to
// every cache that may hold an affected token.
type Invalidation struct {
	Kind       InvalidationKind
	Digest     tokenstore.Digest // InvalidateToken
	ID         string            // user, family or client id
	Generation uint64            // InvalidateUser
}

// Apply applies inv to c through Delete, RevokeUser, RevokeFamily or
// RevokeClient, with their contracts. It returns an error only for an
// unknown kind, having applied nothing.
func (c *Cache) Apply(inv Invalidation) error {
	switch inv.Kind {
	case InvalidateToken:
		c.Delete(inv.Digest)
	case InvalidateUser:
		c.RevokeUser(inv.ID, inv.Generation)
	case InvalidateFamily:
		c.RevokeFamily(inv.ID)
	case InvalidateClient:
		c.RevokeClient(inv.ID)
	default:
		return fmt.Errorf("apply invalidation: unknown kind %d", inv.Kind)
	}
	return nil
}
