package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authd/authd/tokenstore"
)

// Secret returns the secret stored under name, storing candidate first when
// there is none, so that every node agrees on the first value stored. With
// a nil candidate it only reads, returning tokenstore.ErrNotFound when there
// is none. The result is the caller's to keep.
func (s *Store) Secret(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	var value []byte
	err := s.tx(ctx, "secret", func(ctx context.Context, tx pgx.Tx) error {
		if candidate != nil {
			// Of racing nodes, one inserts; DO NOTHING makes the others
			// wait for it and then read its value.
			if _, err := tx.Exec(ctx, `INSERT INTO secrets (name, value, created_at)
				VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
				name, candidate, time.Now()); err != nil {
				return err
			}
		}
		err := tx.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&value)
		if errors.Is(err, pgx.ErrNoRows) {
			return tokenstore.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return value, nil
}
