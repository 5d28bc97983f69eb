package boltstore

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/authd/authd/tokenstore"
)

// Secret returns the secret stored under name, first storing candidate there
// when there is none; every caller, concurrent or not, gets the one stored
// value. With no secret stored and an empty candidate it returns
// ErrNotFound. The result is the caller's to keep.
func (s *Store) Secret(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	var secret []byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		secret = bytes.Clone(tx.Bucket(bucketSecrets).Get([]byte(name)))
		return nil
	})
	if err != nil || secret != nil {
		return secret, err
	}
	if len(candidate) == 0 {
		return nil, fmt.Errorf("secret %s: %w", name, tokenstore.ErrNotFound)
	}

	// Another caller may have stored one since the read: check again in
	// the write transaction.
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSecrets)
		if stored := b.Get([]byte(name)); stored != nil {
			secret = bytes.Clone(stored)
			return nil
		}
		secret = bytes.Clone(candidate)
		return b.Put([]byte(name), secret)
	})
	if err != nil {
		return nil, err
	}
	return bytes.Clone(secret), nil
}
