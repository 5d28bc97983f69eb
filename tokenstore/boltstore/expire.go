package boltstore

import (
	"bytes"
	"context"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/authd/authd/tokenstore"
)

// DeleteExpired deletes up to limit rows, in one transaction: first tokens
// that expired before before, oldest first, then families that ended before
// before and have no token left, then throttle state whose lock ended more
// than tokenstore.ThrottleRetention before before. It returns how many it
// deleted; callers repeat until it returns 0.
func (s *Store) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var n int
	err := s.update(ctx, func(tx *bolt.Tx) error {
		d := expiry{tx: tx, cutoff: timeKey(before), before: before, limit: limit}
		err := d.run()
		n = d.n
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// expiry is one DeleteExpired transaction.
type expiry struct {
	tx     *bolt.Tx
	cutoff [12]byte
	before time.Time
	limit  int
	// n counts deleted tokens and families.
	n int
	// families holds the families that lost tokens, with updated counts.
	families []*familyRecord
}

func (d *expiry) run() error {
	if err := d.deleteTokens(); err != nil {
		return err
	}
	if err := d.settleFamilies(); err != nil {
		return err
	}
	if err := d.deleteEndedFamilies(); err != nil {
		return err
	}
	return d.deleteOldThrottles()
}

// deleteOldThrottles forgets account keys whose last lock ended more than
// ThrottleRetention before the cutoff, within the limit.
func (d *expiry) deleteOldThrottles() error {
	old := expiry{cutoff: timeKey(d.before.Add(-tokenstore.ThrottleRetention))}
	index, throttles := d.tx.Bucket(bucketThrottleExpiry), d.tx.Bucket(bucketThrottle)
	for _, k := range old.expired(index, d.limit-d.n) {
		if err := index.Delete(k); err != nil {
			return err
		}
		if err := throttles.Delete(k[len(old.cutoff):]); err != nil {
			return err
		}
		d.n++
	}
	return nil
}

// expired returns the keys of the expiry index b that lie before the cutoff,
// at most max of them. Keys are copied: deleting while a cursor walks would
// skip entries.
func (d *expiry) expired(b *bolt.Bucket, max int) [][]byte {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && len(keys) < max; k, _ = c.Next() {
		if len(k) < len(d.cutoff) || bytes.Compare(k[:len(d.cutoff)], d.cutoff[:]) >= 0 {
			break
		}
		keys = append(keys, bytes.Clone(k))
	}
	return keys
}

// deleteTokens deletes expired tokens and counts them off their families.
func (d *expiry) deleteTokens() error {
	index, tokens := d.tx.Bucket(bucketTokenExpiry), d.tx.Bucket(bucketTokens)
	for _, k := range d.expired(index, d.limit) {
		if err := index.Delete(k); err != nil {
			return err
		}
		var digest tokenstore.Digest
		copy(digest[:], k[len(d.cutoff):])
		t, err := getToken(d.tx, digest)
		if isOutcome(err) {
			continue // an index entry left by a token since deleted
		}
		if err != nil {
			return err
		}
		if err := tokens.Delete(digest[:]); err != nil {
			return err
		}
		d.n++
		if err := d.countOff(t.FamilyID); err != nil {
			return err
		}
	}
	return nil
}

// countOff records that a token of family id was deleted.
func (d *expiry) countOff(id string) error {
	if id == "" {
		return nil
	}
	for _, f := range d.families {
		if f.ID == id {
			f.Tokens = max(f.Tokens, 1) - 1
			return nil
		}
	}
	f, err := getFamily(d.tx, id)
	if isOutcome(err) {
		return nil
	}
	if err != nil {
		return err
	}
	f.Tokens = max(f.Tokens, 1) - 1
	d.families = append(d.families, &f)
	return nil
}

// settleFamilies deletes the families that lost their last token and have
// ended, within the limit, and writes the new counts of the others.
func (d *expiry) settleFamilies() error {
	for _, f := range d.families {
		if f.Tokens == 0 && f.ExpiresAt.Before(d.before) && d.n < d.limit {
			if err := d.deleteFamily(f); err != nil {
				return err
			}
			continue
		}
		if err := putFamily(d.tx, f, false); err != nil {
			return err
		}
	}
	return nil
}

func (d *expiry) deleteFamily(f *familyRecord) error {
	k := expiryKey(f.ExpiresAt, []byte(f.ID))
	if err := d.tx.Bucket(bucketFamilyExpiry).Delete(k); err != nil {
		return err
	}
	d.n++
	return d.tx.Bucket(bucketFamilies).Delete([]byte(f.ID))
}

// deleteEndedFamilies deletes families that ended before the cutoff with no
// token left, within the limit. Ended families that still have tokens are
// passed over; their tokens expire soon after.
func (d *expiry) deleteEndedFamilies() error {
	var ended []*familyRecord
	var stale [][]byte
	c := d.tx.Bucket(bucketFamilyExpiry).Cursor()
	for k, _ := c.First(); k != nil && d.n+len(ended) < d.limit; k, _ = c.Next() {
		if len(k) < len(d.cutoff) || bytes.Compare(k[:len(d.cutoff)], d.cutoff[:]) >= 0 {
			break
		}
		f, err := getFamily(d.tx, string(k[len(d.cutoff):]))
		switch {
		case isOutcome(err):
			stale = append(stale, bytes.Clone(k)) // an entry without its family
		case err != nil:
			return err
		case f.Tokens == 0:
			ended = append(ended, &f)
		}
	}

	for _, k := range stale {
		if err := d.tx.Bucket(bucketFamilyExpiry).Delete(k); err != nil {
			return err
		}
	}
	for _, f := range ended {
		if err := d.deleteFamily(f); err != nil {
			return err
		}
	}
	return nil
}
