package boltstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/authd/authd/tokenstore"
)

// Exchange uses up a single-use token in one read-modify-write transaction;
// bbolt runs write transactions one at a time, so of concurrent calls for the
// same token exactly one finds it unused. In order, it:
//   - returns ErrNotFound for an unknown token or one of another kind;
//   - for a used token presented with its successor (New[0]) within
//     req.Grace of its use, returns Replayed with the stored successors, or
//     Outcome 0 when the token is inactive for another reason by now (its
//     family revoked, say), writing nothing;
//   - for any other used token, revokes its family (or, with no family, the
//     token and its successor) and returns Reused;
//   - for an unused token that is not active (expired, revoked, user
//     revoked or disabled, client gone, family revoked or ended), returns
//     Outcome 0 and its view, writing nothing;
//   - otherwise marks the token used by New[0] at req.Now, stores New and
//     returns Exchanged, or ErrExists (storing nothing) when a digest of New
//     is in use.
func (s *Store) Exchange(ctx context.Context, req tokenstore.ExchangeRequest) (
	tokenstore.ExchangeResult, error) {
	if len(req.New) == 0 {
		return tokenstore.ExchangeResult{}, errors.New("exchange: no new tokens")
	}
	var res tokenstore.ExchangeResult
	err := s.batch(ctx, func(tx *bolt.Tx) error {
		res = tokenstore.ExchangeResult{}
		return exchange(tx, req, &res)
	})
	if err != nil {
		return tokenstore.ExchangeResult{}, err
	}
	return res, nil
}

func exchange(tx *bolt.Tx, req tokenstore.ExchangeRequest, res *tokenstore.ExchangeResult) error {
	old, err := getToken(tx, req.Old)
	if err == nil && old.Kind != req.Kind {
		err = fmt.Errorf("exchange %s as %s: %w", old.Kind, req.Kind, tokenstore.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if res.Old, err = viewOf(tx, old); err != nil {
		return err
	}

	if !old.UsedAt.IsZero() {
		return exchangeUsed(tx, req, old, res)
	}
	if !res.Old.Active(req.Now) {
		return nil
	}

	p, err := planTokens(tx, nil, req.New)
	if err != nil {
		return err
	}
	old.UsedAt, old.Successor = req.Now, req.New[0].Digest
	if err := putToken(tx, old); err != nil {
		return err
	}
	if err := p.apply(tx); err != nil {
		return err
	}
	res.Outcome, res.Successors = tokenstore.Exchanged, slices.Clone(req.New)
	return nil
}

// exchangeUsed handles a used token presented again: a replay inside the
// grace window, or theft.
func exchangeUsed(tx *bolt.Tx, req tokenstore.ExchangeRequest, old tokenstore.Token,
	res *tokenstore.ExchangeResult) error {
	replay := req.Grace > 0 && old.Successor == req.New[0].Digest &&
		req.Now.Before(old.UsedAt.Add(req.Grace))
	if replay {
		unused := res.Old
		unused.UsedAt = time.Time{}
		if !unused.Active(req.Now) {
			return nil
		}
		for _, n := range req.New {
			t, err := getToken(tx, n.Digest)
			switch {
			case errors.Is(err, tokenstore.ErrNotFound):
				continue
			case err != nil:
				return err
			}
			res.Successors = append(res.Successors, t)
		}
		res.Outcome = tokenstore.Replayed
		return nil
	}

	res.Outcome = tokenstore.Reused
	if old.FamilyID != "" {
		return revokeFamily(tx, old.FamilyID)
	}
	for _, d := range []tokenstore.Digest{old.Digest, old.Successor} {
		if err := revokeOne(tx, d); err != nil {
			return err
		}
	}
	return nil
}

// revokeOne marks token d revoked; a missing token needs nothing.
func revokeOne(tx *bolt.Tx, d tokenstore.Digest) error {
	t, err := getToken(tx, d)
	switch {
	case errors.Is(err, tokenstore.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	t.Revoked = true
	return putToken(tx, t)
}
