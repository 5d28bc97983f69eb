package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/authd/authd/tokenstore"
)

// CreateTokens stores family (when not nil) and tokens in one transaction.
// It returns ErrExists when the family ID or a digest is in use or a digest
// appears twice, and ErrNotFound when a token names a family that is
// neither family nor stored; either way it stores nothing.
func (s *Store) CreateTokens(ctx context.Context, family *tokenstore.Family,
	tokens ...tokenstore.Token) error {
	return s.batch(ctx, func(tx *bolt.Tx) error {
		p, err := planTokens(tx, family, tokens)
		if err != nil {
			return err
		}
		return p.apply(tx)
	})
}

// Token returns the token with its user's, family's and client's state, or
// ErrNotFound.
func (s *Store) Token(ctx context.Context, d tokenstore.Digest) (tokenstore.TokenView, error) {
	var v tokenstore.TokenView
	err := s.view(ctx, func(tx *bolt.Tx) error {
		t, err := getToken(tx, d)
		if err != nil {
			return err
		}
		v, err = viewOf(tx, t)
		return err
	})
	return v, err
}

// getToken reads token d.
func getToken(tx *bolt.Tx, d tokenstore.Digest) (tokenstore.Token, error) {
	p := tx.Bucket(bucketTokens).Get(d[:])
	if p == nil {
		return tokenstore.Token{}, fmt.Errorf("token: %w", tokenstore.ErrNotFound)
	}
	return decodeToken(d, p)
}

// putToken writes t, which must keep the ExpiresAt it was created with.
func putToken(tx *bolt.Tx, t tokenstore.Token) error {
	return tx.Bucket(bucketTokens).Put(t.Digest[:], encodeToken(t))
}

// viewOf reads the state t's validity depends on. A user, family or client
// that t names but that is missing makes t inactive.
func viewOf(tx *bolt.Tx, t tokenstore.Token) (tokenstore.TokenView, error) {
	v := tokenstore.TokenView{Token: t}
	if t.UserID != "" {
		u, err := getUser(tx, t.UserID)
		switch {
		case isOutcome(err):
			v.UserDisabled = true
		case err != nil:
			return v, err
		default:
			v.Email, v.CurrentGeneration, v.UserDisabled = u.Email, u.Generation, u.Disabled
		}
	}
	if t.FamilyID != "" {
		f, err := getFamily(tx, t.FamilyID)
		switch {
		case isOutcome(err):
			v.FamilyRevoked = true
		case err != nil:
			return v, err
		default:
			v.FamilyRevoked, v.FamilyExpiresAt = f.Revoked, f.ExpiresAt
		}
	}
	if t.ClientID != "" {
		p := tx.Bucket(bucketClients).Get([]byte(t.ClientID))
		// Byte 1 of a client record holds its flags (see encodeClient); a
		// missing or truncated record counts as gone.
		v.ClientGone = len(p) < 2 || p[1]&clientDeleted != 0
	}
	return v, nil
}

// getFamily reads family id.
func getFamily(tx *bolt.Tx, id string) (familyRecord, error) {
	p := tx.Bucket(bucketFamilies).Get([]byte(id))
	if p == nil {
		return familyRecord{}, fmt.Errorf("family %s: %w", id, tokenstore.ErrNotFound)
	}
	return decodeFamily(id, p)
}

// putFamily writes f; with indexed it also adds f to the expiry index, which
// a new family needs and an updated one already has.
func putFamily(tx *bolt.Tx, f *familyRecord, indexed bool) error {
	if indexed {
		k := expiryKey(f.ExpiresAt, []byte(f.ID))
		if err := tx.Bucket(bucketFamilyExpiry).Put(k, []byte{}); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketFamilies).Put([]byte(f.ID), encodeFamily(*f))
}

// tokenPlan is a checked set of tokens to store, with the families whose
// token counts change. Planning reads only, so that a refused write leaves
// a shared batch untouched (see Store.write).
type tokenPlan struct {
	tokens   []tokenstore.Token
	families []*familyRecord
	// created is the index in families of a family the plan creates, or -1.
	created int
}

// planTokens checks that family (when not nil) and tokens can be stored.
func planTokens(tx *bolt.Tx, family *tokenstore.Family,
	tokens []tokenstore.Token) (*tokenPlan, error) {
	p := &tokenPlan{tokens: tokens, created: -1}
	if family != nil {
		if tx.Bucket(bucketFamilies).Get([]byte(family.ID)) != nil {
			return nil, fmt.Errorf("family %s: %w", family.ID, tokenstore.ErrExists)
		}
		p.families = append(p.families, &familyRecord{Family: *family})
		p.created = 0
	}
	if err := checkDigests(tx, tokens); err != nil {
		return nil, err
	}
	for _, t := range tokens {
		if t.FamilyID == "" {
			continue
		}
		f, err := p.family(tx, t.FamilyID)
		if err != nil {
			return nil, err
		}
		f.Tokens++
	}
	return p, nil
}

// checkDigests returns ErrExists when a digest of tokens is stored or
// appears twice among them.
func checkDigests(tx *bolt.Tx, tokens []tokenstore.Token) error {
	b := tx.Bucket(bucketTokens)
	for i, t := range tokens {
		if b.Get(t.Digest[:]) != nil {
			return fmt.Errorf("token: %w", tokenstore.ErrExists)
		}
		for _, u := range tokens[:i] {
			if u.Digest == t.Digest {
				return fmt.Errorf("token appears twice: %w", tokenstore.ErrExists)
			}
		}
	}
	return nil
}

// family returns the plan's record of family id, reading it on first use.
func (p *tokenPlan) family(tx *bolt.Tx, id string) (*familyRecord, error) {
	for _, f := range p.families {
		if f.ID == id {
			return f, nil
		}
	}
	f, err := getFamily(tx, id)
	if err != nil {
		return nil, err
	}
	p.families = append(p.families, &f)
	return &f, nil
}

// apply writes the plan.
func (p *tokenPlan) apply(tx *bolt.Tx) error {
	for i, f := range p.families {
		if err := putFamily(tx, f, i == p.created); err != nil {
			return err
		}
	}
	expiry := tx.Bucket(bucketTokenExpiry)
	for _, t := range p.tokens {
		if err := putToken(tx, t); err != nil {
			return err
		}
		if err := expiry.Put(expiryKey(t.ExpiresAt, t.Digest[:]), []byte{}); err != nil {
			return err
		}
	}
	return nil
}

// RevokeToken revokes the token and, for a refresh token or a code, its
// whole family. It returns the token as it was, or ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, d tokenstore.Digest) (tokenstore.Token, error) {
	var was tokenstore.Token
	err := s.batch(ctx, func(tx *bolt.Tx) error {
		var err error
		if was, err = getToken(tx, d); err != nil {
			return err
		}
		t := was
		t.Revoked = true
		if err := putToken(tx, t); err != nil {
			return err
		}
		if t.Kind == tokenstore.KindAccess || t.FamilyID == "" {
			return nil
		}
		return revokeFamily(tx, t.FamilyID)
	})
	if err != nil {
		return tokenstore.Token{}, err
	}
	return was, nil
}

// revokeFamily marks family id revoked; a missing family needs nothing.
func revokeFamily(tx *bolt.Tx, id string) error {
	f, err := getFamily(tx, id)
	switch {
	case isOutcome(err):
		return nil
	case err != nil:
		return err
	case f.Revoked:
		return nil
	}
	f.Revoked = true
	return putFamily(tx, &f, false)
}
