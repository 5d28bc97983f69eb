package boltstore

import (
	"context"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/authd/authd/tokenstore"
)

// Throttle returns the backoff state of key; the zero Throttle for a key
// never seen.
func (s *Store) Throttle(ctx context.Context, key string) (tokenstore.Throttle, error) {
	var t tokenstore.Throttle
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		t, err = getThrottle(tx, key)
		return err
	})
	return t, err
}

func getThrottle(tx *bolt.Tx, key string) (tokenstore.Throttle, error) {
	p := tx.Bucket(bucketThrottle).Get([]byte(key))
	if p == nil {
		return tokenstore.Throttle{}, nil
	}
	return decodeThrottle(p)
}

// LoginFailed counts a failed attempt at now, locks the key until
// now+lock(failures) and returns the new state. lock may be called more than
// once per call (a shared commit can be retried); it must be a pure function
// of its argument.
func (s *Store) LoginFailed(ctx context.Context, key string, now time.Time,
	lock func(failures int) time.Duration) (tokenstore.Throttle, error) {
	var t tokenstore.Throttle
	err := s.batch(ctx, func(tx *bolt.Tx) error {
		var err error
		if t, err = getThrottle(tx, key); err != nil {
			return err
		}
		if err := deleteThrottleExpiry(tx, key, t); err != nil {
			return err
		}
		t.Failures++
		t.LockedUntil = now
		if lock != nil {
			t.LockedUntil = now.Add(lock(t.Failures))
		}
		err = tx.Bucket(bucketThrottleExpiry).Put(expiryKey(t.LockedUntil, []byte(key)), nil)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketThrottle).Put([]byte(key), encodeThrottle(t))
	})
	if err != nil {
		return tokenstore.Throttle{}, err
	}
	return t, nil
}

// LoginSucceeded forgets the key's failures. A key with none costs a read
// and no write.
func (s *Store) LoginSucceeded(ctx context.Context, key string) error {
	var seen bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		seen = tx.Bucket(bucketThrottle).Get([]byte(key)) != nil
		return nil
	})
	if err != nil || !seen {
		return err
	}
	return s.batch(ctx, func(tx *bolt.Tx) error {
		t, err := getThrottle(tx, key)
		if err != nil {
			return err
		}
		if err := deleteThrottleExpiry(tx, key, t); err != nil {
			return err
		}
		return tx.Bucket(bucketThrottle).Delete([]byte(key))
	})
}

// deleteThrottleExpiry removes the expiry index entry of key's throttle t,
// if it has one.
func deleteThrottleExpiry(tx *bolt.Tx, key string, t tokenstore.Throttle) error {
	if t.Failures == 0 {
		return nil
	}
	return tx.Bucket(bucketThrottleExpiry).Delete(expiryKey(t.LockedUntil, []byte(key)))
}
