package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/authd/authd/tokenstore"
)

// CreateClient stores c, or returns ErrExists when the ID is in use or was
// used by a client since deleted (reusing it would revive that client's
// tokens).
func (s *Store) CreateClient(ctx context.Context, c tokenstore.Client) error {
	if c.ID == "" {
		return fmt.Errorf("create client: empty ID")
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketClients)
		if b.Get([]byte(c.ID)) != nil {
			return fmt.Errorf("create client %s: %w", c.ID, tokenstore.ErrExists)
		}
		return b.Put([]byte(c.ID), encodeClient(clientRecord{Client: c}))
	})
}

// Client returns the client, or ErrNotFound when it is unknown or deleted.
func (s *Store) Client(ctx context.Context, id string) (tokenstore.Client, error) {
	var c clientRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		c, err = getClient(tx, id)
		return err
	})
	return c.Client, err
}

// getClient reads client id; a tombstone is ErrNotFound.
func getClient(tx *bolt.Tx, id string) (clientRecord, error) {
	p := tx.Bucket(bucketClients).Get([]byte(id))
	if p == nil {
		return clientRecord{}, fmt.Errorf("client %s: %w", id, tokenstore.ErrNotFound)
	}
	c, err := decodeClient(id, p)
	if err == nil && c.Deleted {
		err = fmt.Errorf("client %s: %w", id, tokenstore.ErrNotFound)
	}
	return c, err
}

// Clients lists every client that is not deleted, ordered by ID.
func (s *Store) Clients(ctx context.Context) ([]tokenstore.Client, error) {
	var list []tokenstore.Client
	err := s.view(ctx, func(tx *bolt.Tx) error {
		list = nil
		return tx.Bucket(bucketClients).ForEach(func(k, v []byte) error {
			c, err := decodeClient(string(k), v)
			if err != nil || c.Deleted {
				return err
			}
			list = append(list, c.Client)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// DeleteClient replaces the client with a tombstone, so that its tokens
// report ClientGone and its ID stays taken. ErrNotFound for unknown or
// already deleted clients.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getClient(tx, id); err != nil {
			return err
		}
		tomb := clientRecord{Client: tokenstore.Client{ID: id}, Deleted: true}
		return tx.Bucket(bucketClients).Put([]byte(id), encodeClient(tomb))
	})
}
