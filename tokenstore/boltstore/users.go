package boltstore

import (
	"context"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/authd/authd/tokenstore"
)

// CreateUser stores u with its email lower-cased. It returns ErrEmailTaken
// when another user has that email and ErrExists when the ID is in use.
func (s *Store) CreateUser(ctx context.Context, u tokenstore.User) error {
	if u.ID == "" {
		return fmt.Errorf("create user: empty ID")
	}
	u.Email = strings.ToLower(u.Email)
	return s.batch(ctx, func(tx *bolt.Tx) error {
		users, emails := tx.Bucket(bucketUsers), tx.Bucket(bucketEmails)
		if emails.Get([]byte(u.Email)) != nil {
			return fmt.Errorf("create user: %w", tokenstore.ErrEmailTaken)
		}
		if users.Get([]byte(u.ID)) != nil {
			return fmt.Errorf("create user %s: %w", u.ID, tokenstore.ErrExists)
		}
		if err := emails.Put([]byte(u.Email), []byte(u.ID)); err != nil {
			return err
		}
		return users.Put([]byte(u.ID), encodeUser(u))
	})
}

// UserByID returns the user, or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (tokenstore.User, error) {
	var u tokenstore.User
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		u, err = getUser(tx, id)
		return err
	})
	return u, err
}

// UserByEmail returns the user with the email, or ErrNotFound. The email is
// lower-cased before the lookup.
func (s *Store) UserByEmail(ctx context.Context, email string) (tokenstore.User, error) {
	var u tokenstore.User
	err := s.view(ctx, func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketEmails).Get([]byte(strings.ToLower(email)))
		if id == nil {
			return fmt.Errorf("user by email: %w", tokenstore.ErrNotFound)
		}
		var err error
		u, err = getUser(tx, string(id))
		return err
	})
	return u, err
}

// getUser reads user id.
func getUser(tx *bolt.Tx, id string) (tokenstore.User, error) {
	p := tx.Bucket(bucketUsers).Get([]byte(id))
	if p == nil {
		return tokenstore.User{}, fmt.Errorf("user %s: %w", id, tokenstore.ErrNotFound)
	}
	return decodeUser(id, p)
}

// SetPasswordHash replaces the user's hash if it is still oldHash and, with
// revoke, increments Generation in the same write. It returns the updated
// user, ErrConflict for a stale oldHash, or ErrNotFound.
func (s *Store) SetPasswordHash(ctx context.Context, id, oldHash, newHash string,
	revoke bool) (tokenstore.User, error) {
	return s.changeUser(ctx, s.batch, id, func(u *tokenstore.User) error {
		if u.PasswordHash != oldHash {
			return fmt.Errorf("set password of %s: %w", id, tokenstore.ErrConflict)
		}
		u.PasswordHash = newHash
		if revoke {
			u.Generation++
		}
		return nil
	})
}

// RevokeUser increments the user's Generation, ending every token issued so
// far, and returns the updated user or ErrNotFound.
func (s *Store) RevokeUser(ctx context.Context, id string) (tokenstore.User, error) {
	return s.changeUser(ctx, s.update, id, func(u *tokenstore.User) error {
		u.Generation++
		return nil
	})
}

// SetDisabled disables (and revokes, by incrementing Generation) or
// enables the account, and returns the updated user or ErrNotFound.
func (s *Store) SetDisabled(ctx context.Context, id string, disabled bool) (tokenstore.User,
	error) {
	return s.changeUser(ctx, s.update, id, func(u *tokenstore.User) error {
		u.Disabled = disabled
		if disabled {
			u.Generation++
		}
		return nil
	})
}

// changeUser reads user id, applies change and writes the result in one
// transaction run by write. change returns an outcome error to write
// nothing.
func (s *Store) changeUser(ctx context.Context,
	write func(context.Context, func(*bolt.Tx) error) error, id string,
	change func(u *tokenstore.User) error) (tokenstore.User, error) {
	var u tokenstore.User
	err := write(ctx, func(tx *bolt.Tx) error {
		var err error
		if u, err = getUser(tx, id); err != nil {
			return err
		}
		if err := change(&u); err != nil {
			return err
		}
		return tx.Bucket(bucketUsers).Put([]byte(id), encodeUser(u))
	})
	if err != nil {
		return tokenstore.User{}, err
	}
	return u, nil
}
