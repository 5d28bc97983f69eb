package tokencache

import (
	"time"

	"github.com/authd/authd/tokenstore"
)

// LookupView is Lookup answering into a View: a hit allocates nothing, the
// entry's text is appended to dst as AppendView does. On a miss it fills
// like Lookup (with the same guarantees against revocations racing the
// fill) and appends the filled entry's text the same way. It returns the
// extended buffer, which v's byte fields alias, and whether the token is
// active; *v is set only when it is. Hits and misses are counted once.
func (c *Cache) LookupView(dst []byte, v *View, d tokenstore.Digest, now time.Time,
	fill func() (Entry, bool, error)) ([]byte, bool, error) {
	var f fields
	s := c.shardOf(&d)
	s.mu.Lock()
	r, ok := c.liveLocked(s, &d, now.Unix(), &f)
	if ok {
		dst = c.appendView(dst, v, r, &f, &d)
	}
	epoch := s.epoch
	s.mu.Unlock()
	s.count(ok)
	if ok {
		return dst, true, nil
	}

	seq := c.revSeq.Load()
	res, err, _ := s.flight.Do(flightKey(&d, epoch, seq), func() (any, error) {
		return c.fill(s, d, now, epoch, seq, fill)
	})
	if err != nil {
		return dst, false, err
	}
	e := res.(filled)
	if !e.active {
		return dst, false, nil
	}
	e.e.Digest = d
	return AppendEntryView(dst, v, &e.e), true, nil
}

// AppendEntryView fills *v with e, appending e's user id, email and family
// id to dst, and returns the extended buffer, which v's byte fields alias.
func AppendEntryView(dst []byte, v *View, e *Entry) []byte {
	start := len(dst)
	dst = append(dst, e.UserID...)
	userEnd := len(dst)
	dst = append(dst, e.Email...)
	emailEnd := len(dst)
	dst = append(dst, e.FamilyID...)
	v.Digest, v.Kind, v.ClientID, v.Scope = e.Digest, e.Kind, e.ClientID, e.Scope
	v.UserID, v.Email, v.FamilyID = dst[start:userEnd], dst[userEnd:emailEnd], dst[emailEnd:]
	v.Generation, v.IssuedAt, v.ExpiresAt = e.Generation, e.IssuedAt, e.ExpiresAt
	return dst
}
