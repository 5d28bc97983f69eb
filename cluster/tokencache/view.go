package tokencache

import (
	"time"

	"github.com/authd/authd/tokenstore"
)

// View is an Entry whose variable-length text lives in a caller's buffer,
// for answering introspection without allocating. UserID, Email and FamilyID
// alias the buffer AppendView returned (they are empty when absent) and are
// valid until it is modified; ClientID and Scope are the cache's own
// immutable strings.
type View struct {
	Digest     tokenstore.Digest
	Kind       tokenstore.Kind
	UserID     []byte
	Email      []byte
	ClientID   string
	Scope      string
	FamilyID   []byte
	Generation uint64
	IssuedAt   int64
	ExpiresAt  int64
}

// AppendView is Get without allocation. On a hit it fills *v with the
// entry, appending its user id, email and family id to dst, and returns the
// extended buffer, which v's byte fields alias; dst is only reallocated when
// its capacity is too small. On a miss it returns dst unchanged and false,
// and leaves *v alone. (A View is filled in place rather than returned
// because copying it out costs as much as the rest of a hit.)
func (c *Cache) AppendView(dst []byte, v *View, d tokenstore.Digest,
	now time.Time) ([]byte, bool) {
	// Unlike Get, decode under the lock: appending to a buffer with room
	// is cheaper than copying the record out first.
	var f fields
	s := c.shardOf(&d)
	s.mu.Lock()
	r, ok := c.liveLocked(s, &d, now.Unix(), &f)
	if ok {
		dst = c.appendView(dst, v, r, &f, &d)
	}
	s.mu.Unlock()
	s.count(ok)
	return dst, ok
}

// appendView appends the text of record r of d, whose fields are f, to dst,
// fills *v and returns the extended buffer.
func (c *Cache) appendView(dst []byte, v *View, r record, f *fields,
	d *tokenstore.Digest) []byte {
	start := len(dst)
	if user := r.user(f); user != nil {
		dst = appendUUID(dst, user)
	}
	userEnd := len(dst)
	dst = append(dst, r.email(f)...)
	emailEnd := len(dst)
	if family := r.family(f); family != nil {
		dst = appendHex16(dst, family)
	}

	// Slice only now: the appends may have moved dst.
	// Field by field: assigning a View literal copies it through a
	// temporary, which measurably slows a hit.
	p := c.pairs.lookup(r.pair())
	v.Digest, v.Kind, v.ClientID, v.Scope = *d, r.kind(), p.clientID, p.scope
	v.UserID, v.Email, v.FamilyID = dst[start:userEnd], dst[userEnd:emailEnd], dst[emailEnd:]
	v.Generation, v.IssuedAt, v.ExpiresAt = f.gen, r.issued(), r.expires()
	return dst
}
