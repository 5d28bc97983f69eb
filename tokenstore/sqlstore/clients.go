package sqlstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authd/authd/tokenstore"
)

const clientColumns = `id, secret_digest, name, grant_types, scopes, redirect_uris,
	is_public, first_party, created_at`

// scanClient reads one row of clientColumns.
func scanClient(row pgx.Row) (tokenstore.Client, error) {
	var c tokenstore.Client
	err := row.Scan(&c.ID, &c.SecretDigest, &c.Name, &c.GrantTypes, &c.Scopes, &c.RedirectURIs,
		&c.Public, &c.FirstParty, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, tokenstore.ErrNotFound
	}
	return c, err
}

// CreateClient stores c, or returns tokenstore.ErrExists when the ID is in
// use or was used by a deleted client (re-creating it would revive the old
// client's tokens).
func (s *Store) CreateClient(ctx context.Context, c tokenstore.Client) error {
	return s.single(ctx, "create client", func(ctx context.Context) error {
		tag, err := s.pool.Exec(ctx, `INSERT INTO clients (`+clientColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
			c.ID, c.SecretDigest, c.Name, notNil(c.GrantTypes), notNil(c.Scopes),
			notNil(c.RedirectURIs), c.Public, c.FirstParty, c.CreatedAt)
		if err == nil && tag.RowsAffected() == 0 {
			return tokenstore.ErrExists
		}
		return err
	})
}

// notNil returns ss, or an empty slice for nil: pgx sends a nil slice as
// NULL, which the NOT NULL array columns refuse.
func notNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// Client returns the client, or tokenstore.ErrNotFound for unknown and
// deleted clients.
func (s *Store) Client(ctx context.Context, id string) (tokenstore.Client, error) {
	var c tokenstore.Client
	err := s.single(ctx, "client", func(ctx context.Context) (err error) {
		c, err = scanClient(s.pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM clients
			WHERE id = $1 AND deleted_at IS NULL`, id))
		return err
	})
	return c, err
}

// Clients lists every client not deleted, ordered by ID byte-wise.
func (s *Store) Clients(ctx context.Context) ([]tokenstore.Client, error) {
	var list []tokenstore.Client
	err := s.single(ctx, "clients", func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, `SELECT `+clientColumns+` FROM clients
			WHERE deleted_at IS NULL`)
		if err != nil {
			return err
		}
		list, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (tokenstore.Client,
			error) {
			return scanClient(row)
		})
		return err
	})
	// Sorted here rather than by ORDER BY: PostgreSQL orders TEXT by the
	// database's collation (often en_US, which ignores case and
	// punctuation at first), CockroachDB by bytes.
	slices.SortFunc(list, func(a, b tokenstore.Client) int { return strings.Compare(a.ID, b.ID) })
	return list, err
}

// DeleteClient marks the client deleted, which ends its tokens
// (TokenView.ClientGone), and forgets its secret. It returns
// tokenstore.ErrNotFound for unknown or already deleted clients.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.single(ctx, "delete client", func(ctx context.Context) error {
		tag, err := s.pool.Exec(ctx, `UPDATE clients SET deleted_at = $2, secret_digest = NULL
			WHERE id = $1 AND deleted_at IS NULL`, id, time.Now())
		if err == nil && tag.RowsAffected() == 0 {
			return tokenstore.ErrNotFound
		}
		return err
	})
}
