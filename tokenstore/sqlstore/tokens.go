package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authd/authd/tokenstore"
)

// tokenColumns are a token's columns, qualified by the alias t.
const tokenColumns = `t.digest, t.kind, t.client_id, t.user_id, t.family_id, t.scope,
	t.user_generation, t.issued_at, t.expires_at, t.revoked, t.used_at, t.successor,
	t.redirect_uri, t.code_challenge`

// viewQuery reads a token and the state its validity depends on in one
// statement, hence from one snapshot. The joins find no row for a client
// token (empty user_id and family_id); a deleted client leaves a tombstone
// row with deleted_at set.
const viewQuery = `SELECT ` + tokenColumns + `,
	u.email, u.generation, u.disabled, f.revoked, f.expires_at,
	c.id IS NULL OR c.deleted_at IS NOT NULL
	FROM tokens t
	LEFT JOIN users u ON u.id = t.user_id
	LEFT JOIN families f ON f.id = t.family_id
	LEFT JOIN clients c ON c.id = t.client_id
	WHERE t.digest = $1`

// tokenRow receives the columns of one token.
type tokenRow struct {
	tok       tokenstore.Token
	digest    []byte
	successor []byte
	usedAt    *time.Time
}

// dest returns scan destinations for tokenColumns.
func (r *tokenRow) dest() []any {
	t := &r.tok
	return []any{&r.digest, &t.Kind, &t.ClientID, &t.UserID, &t.FamilyID, &t.Scope,
		&t.UserGeneration, &t.IssuedAt, &t.ExpiresAt, &t.Revoked, &r.usedAt, &r.successor,
		&t.RedirectURI, &t.CodeChallenge}
}

// token returns the scanned token.
func (r *tokenRow) token() (tokenstore.Token, error) {
	t := r.tok
	if len(r.digest) != len(t.Digest) || (r.successor != nil && len(r.successor) != len(t.Digest)) {
		return t, errors.New("stored digest is not 32 bytes")
	}
	copy(t.Digest[:], r.digest)
	copy(t.Successor[:], r.successor)
	if r.usedAt != nil {
		t.UsedAt = *r.usedAt
	}
	return t, nil
}

// scanToken reads one row of tokenColumns.
func scanToken(row pgx.Row) (tokenstore.Token, error) {
	var r tokenRow
	if err := row.Scan(r.dest()...); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return tokenstore.Token{}, tokenstore.ErrNotFound
		}
		return tokenstore.Token{}, err
	}
	return r.token()
}

// scanView reads one row of viewQuery.
func scanView(row pgx.Row) (tokenstore.TokenView, error) {
	var (
		r         tokenRow
		v         tokenstore.TokenView
		email     *string
		gen       *uint64
		disabled  *bool
		famRevoke *bool
		famEnd    *time.Time
	)
	dest := append(r.dest(), &email, &gen, &disabled, &famRevoke, &famEnd, &v.ClientGone)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return v, tokenstore.ErrNotFound
		}
		return v, err
	}
	var err error
	if v.Token, err = r.token(); err != nil {
		return v, err
	}
	v.Email, v.CurrentGeneration, v.UserDisabled = deref(email), deref(gen), deref(disabled)
	v.FamilyRevoked, v.FamilyExpiresAt = deref(famRevoke), deref(famEnd)
	return v, nil
}

// deref returns *p, or the zero value for nil (a column of a LEFT JOIN that
// found no row).
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// nullTime is t, or NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// nullDigest is d, or NULL for the zero digest.
func nullDigest(d tokenstore.Digest) []byte {
	if d == (tokenstore.Digest{}) {
		return nil
	}
	return d[:]
}

const insertTokenSQL = `INSERT INTO tokens (digest, kind, client_id, user_id, family_id, scope,
	user_generation, issued_at, expires_at, revoked, used_at, successor, redirect_uri,
	code_challenge) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`

// tokenArgs returns t's values in the column order of insertTokenSQL.
func tokenArgs(t tokenstore.Token) []any {
	return []any{t.Digest[:], t.Kind, t.ClientID, t.UserID, t.FamilyID, t.Scope,
		t.UserGeneration, t.IssuedAt, t.ExpiresAt, t.Revoked, nullTime(t.UsedAt),
		nullDigest(t.Successor), t.RedirectURI, t.CodeChallenge}
}

// insertToken inserts one token.
func insertToken(ctx context.Context, q querier, t tokenstore.Token) error {
	_, err := q.Exec(ctx, insertTokenSQL, tokenArgs(t)...)
	return err
}

// insertTokens queues the inserts of family (when not nil) and tokens on one
// batch, sends it in one round trip and returns tokenstore.ErrExists when a
// digest or the family ID is in use.
func insertTokens(ctx context.Context, tx pgx.Tx, family *tokenstore.Family,
	tokens []tokenstore.Token) error {
	b := &pgx.Batch{}
	if f := family; f != nil {
		b.Queue(`INSERT INTO families (id, user_id, client_id, expires_at, revoked, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			f.ID, f.UserID, f.ClientID, f.ExpiresAt, f.Revoked, f.CreatedAt)
	}
	for _, t := range tokens {
		b.Queue(insertTokenSQL, tokenArgs(t)...)
	}
	if b.Len() == 0 {
		return nil
	}
	return existsErr(tx.SendBatch(ctx, b).Close())
}

// CreateTokens stores family (when not nil) and tokens in one transaction,
// all or nothing. It returns tokenstore.ErrExists when a digest or the
// family ID is in use, or a digest appears twice.
func (s *Store) CreateTokens(ctx context.Context, family *tokenstore.Family,
	tokens ...tokenstore.Token) error {
	if family == nil && len(tokens) == 1 {
		// Client-credentials issuance, the hot path: one INSERT in an
		// implicit transaction costs one round trip instead of five.
		return s.single(ctx, "create tokens", func(ctx context.Context) error {
			return existsErr(insertToken(ctx, s.pool, tokens[0]))
		})
	}
	return s.tx(ctx, "create tokens", func(ctx context.Context, tx pgx.Tx) error {
		return insertTokens(ctx, tx, family, tokens)
	})
}

// Token returns the token's view, read in one statement, or
// tokenstore.ErrNotFound.
func (s *Store) Token(ctx context.Context, d tokenstore.Digest) (tokenstore.TokenView, error) {
	var v tokenstore.TokenView
	err := s.single(ctx, "token", func(ctx context.Context) (err error) {
		v, err = scanView(s.pool.QueryRow(ctx, viewQuery, d[:]))
		return err
	})
	return v, err
}

// RevokeToken revokes the token and, for a refresh token or a code, its
// family. It returns the token as it was before, or tokenstore.ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, d tokenstore.Digest) (tokenstore.Token, error) {
	var old tokenstore.Token
	err := s.tx(ctx, "revoke token", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		old, err = scanToken(tx.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens t
			WHERE t.digest = $1 FOR UPDATE`, d[:]))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tokens SET revoked = true WHERE digest = $1`,
			d[:]); err != nil {
			return err
		}
		if old.Kind == tokenstore.KindAccess || old.FamilyID == "" {
			return nil
		}
		return revokeFamily(ctx, tx, old.FamilyID)
	})
	return old, err
}

// revokeFamily revokes every token of the family with one write: views
// read the family's flag.
func revokeFamily(ctx context.Context, tx pgx.Tx, id string) error {
	_, err := tx.Exec(ctx, `UPDATE families SET revoked = true WHERE id = $1`, id)
	return err
}

// deleteBatch is the most rows one DeleteExpired statement deletes: small
// enough that no statement holds many locks or runs long, which matters on
// CockroachDB where a large delete is one large transaction.
const deleteBatch = 500

// DeleteExpired deletes, in statements of at most deleteBatch rows, up to
// limit rows in all: first tokens whose expiry is earlier than before, then
// families that ended earlier than before and have no token left, then
// throttles whose lock ended more than tokenstore.ThrottleRetention before
// before. Each statement is its own transaction, bounded by the store's
// per-call timeout; ctx bounds the whole call. It returns how many rows it
// deleted, also on error.
func (s *Store) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	// The subqueries walk the expiry indexes; PostgreSQL has no
	// DELETE ... LIMIT, CockroachDB and PostgreSQL both have this form.
	const (
		tokens = `DELETE FROM tokens WHERE digest IN (SELECT digest FROM tokens
			WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)`
		families = `DELETE FROM families WHERE id IN (SELECT f.id FROM families f
			WHERE f.expires_at < $1
			AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.family_id = f.id)
			ORDER BY f.expires_at LIMIT $2)`
		throttles = `DELETE FROM throttles WHERE account_key IN (SELECT account_key
			FROM throttles WHERE locked_until < $1 ORDER BY locked_until LIMIT $2)`
	)
	deleted := 0
	for _, step := range []struct {
		stmt   string
		cutoff time.Time
	}{
		{tokens, before},
		{families, before},
		{throttles, before.Add(-tokenstore.ThrottleRetention)},
	} {
		for deleted < limit {
			want := min(deleteBatch, limit-deleted)
			n, err := s.deleteOnce(ctx, step.stmt, step.cutoff, want)
			deleted += n
			if err != nil {
				return deleted, err
			}
			if n < want {
				break
			}
		}
	}
	return deleted, nil
}

// deleteOnce runs one batch of DeleteExpired.
func (s *Store) deleteOnce(ctx context.Context, stmt string, before time.Time, n int) (int,
	error) {
	var deleted int64
	err := s.single(ctx, "delete expired", func(ctx context.Context) error {
		tag, err := s.pool.Exec(ctx, stmt, before, n)
		deleted = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(deleted), nil
}
