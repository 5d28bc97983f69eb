package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authd/authd/tokenstore"
)

const userColumns = `id, email, password_hash, disabled, generation, created_at`

// scanUser reads one row of userColumns.
func scanUser(row pgx.Row) (tokenstore.User, error) {
	var u tokenstore.User
	err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Disabled, &u.Generation, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, tokenstore.ErrNotFound
	}
	return u, err
}

// CreateUser stores u with its email lower-cased. It returns
// tokenstore.ErrExists when the ID is in use and tokenstore.ErrEmailTaken
// when the email is.
func (s *Store) CreateUser(ctx context.Context, u tokenstore.User) error {
	return s.tx(ctx, "create user", func(ctx context.Context, tx pgx.Tx) error {
		// DO NOTHING without a conflict target covers both unique keys; a
		// second statement then says which one was taken. (A plain INSERT
		// would say it only through the violated constraint's name, which
		// the two databases do not report alike in every version.)
		tag, err := tx.Exec(ctx, `INSERT INTO users (`+userColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
			u.ID, strings.ToLower(u.Email), u.PasswordHash, u.Disabled, u.Generation,
			u.CreatedAt)
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		var idTaken bool
		err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`,
			u.ID).Scan(&idTaken)
		switch {
		case err != nil:
			return err
		case idTaken:
			return tokenstore.ErrExists
		}
		return tokenstore.ErrEmailTaken
	})
}

// UserByID returns the user, or tokenstore.ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (tokenstore.User, error) {
	return s.readUser(ctx, "user by id", `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
}

// UserByEmail returns the user with that email (compared lower-cased), or
// tokenstore.ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (tokenstore.User, error) {
	return s.readUser(ctx, "user by email",
		`SELECT `+userColumns+` FROM users WHERE email = $1`, strings.ToLower(email))
}

// readUser runs a one-row user query.
func (s *Store) readUser(ctx context.Context, op, query string, arg string) (tokenstore.User,
	error) {
	var u tokenstore.User
	err := s.single(ctx, op, func(ctx context.Context) (err error) {
		u, err = scanUser(s.pool.QueryRow(ctx, query, arg))
		return err
	})
	return u, err
}

// SetPasswordHash replaces the hash if it is still oldHash (else
// tokenstore.ErrConflict), bumping Generation in the same statement when
// revoke is set.
func (s *Store) SetPasswordHash(ctx context.Context, id, oldHash, newHash string,
	revoke bool) (tokenstore.User, error) {
	return s.updateUserIf(ctx, "set password hash", id, `UPDATE users
		SET password_hash = $3, generation = generation + $4
		WHERE id = $1 AND password_hash = $2 RETURNING `+userColumns,
		id, oldHash, newHash, increment(revoke))
}

// RevokeUser bumps the user's Generation: one write ends every token issued
// so far.
func (s *Store) RevokeUser(ctx context.Context, id string) (tokenstore.User, error) {
	return s.updateUserOnce(ctx, "revoke user",
		`UPDATE users SET generation = generation + 1 WHERE id = $1 RETURNING `+userColumns, id)
}

// SetDisabled sets the Disabled flag; disabling also bumps Generation.
func (s *Store) SetDisabled(ctx context.Context, id string, disabled bool) (tokenstore.User,
	error) {
	return s.updateUserOnce(ctx, "set disabled", `UPDATE users
		SET disabled = $2, generation = generation + $3 WHERE id = $1 RETURNING `+userColumns,
		id, disabled, increment(disabled))
}

// updateUserOnce runs an unconditional UPDATE ... RETURNING of one user;
// no row means tokenstore.ErrNotFound.
func (s *Store) updateUserOnce(ctx context.Context, op, query string, args ...any) (
	tokenstore.User, error) {
	var u tokenstore.User
	err := s.single(ctx, op, func(ctx context.Context) (err error) {
		u, err = scanUser(s.pool.QueryRow(ctx, query, args...))
		return err
	})
	return u, err
}

// updateUserIf runs a conditional UPDATE ... RETURNING of user id. When it
// matches no row, the user is missing (tokenstore.ErrNotFound) or the
// condition failed (tokenstore.ErrConflict).
func (s *Store) updateUserIf(ctx context.Context, op, id, query string, args ...any) (
	tokenstore.User, error) {
	var u tokenstore.User
	err := s.tx(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, query, args...))
		if !errors.Is(err, tokenstore.ErrNotFound) {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`,
			id).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return tokenstore.ErrConflict
		}
		return tokenstore.ErrNotFound
	})
	return u, err
}

// increment is 1 when b is set.
func increment(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Throttle returns the key's backoff state; the zero Throttle for a key
// never seen.
func (s *Store) Throttle(ctx context.Context, key string) (tokenstore.Throttle, error) {
	var th tokenstore.Throttle
	err := s.single(ctx, "throttle", func(ctx context.Context) error {
		err := s.pool.QueryRow(ctx, `SELECT failures, locked_until FROM throttles
			WHERE account_key = $1`, key).Scan(&th.Failures, &th.LockedUntil)
		if errors.Is(err, pgx.ErrNoRows) {
			th, err = tokenstore.Throttle{}, nil
		}
		return err
	})
	return th, err
}

// LoginFailed counts a failure and locks the key until now+lock(failures).
// The count is an atomic increment, so concurrent failures on several nodes
// are all counted; lock may run more than once if the transaction retries.
func (s *Store) LoginFailed(ctx context.Context, key string, now time.Time,
	lock func(failures int) time.Duration) (tokenstore.Throttle, error) {
	var th tokenstore.Throttle
	err := s.tx(ctx, "login failed", func(ctx context.Context, tx pgx.Tx) error {
		// The upsert takes the row lock that the second statement keeps,
		// so no other failure lands between the two.
		if err := tx.QueryRow(ctx, `INSERT INTO throttles (account_key, failures, locked_until)
			VALUES ($1, 1, $2)
			ON CONFLICT (account_key) DO UPDATE SET failures = throttles.failures + 1
			RETURNING failures`, key, now).Scan(&th.Failures); err != nil {
			return err
		}
		th.LockedUntil = now.Add(lock(th.Failures))
		_, err := tx.Exec(ctx, `UPDATE throttles SET locked_until = $2 WHERE account_key = $1`,
			key, th.LockedUntil)
		return err
	})
	if err != nil {
		return tokenstore.Throttle{}, err
	}
	return th, nil
}

// LoginSucceeded forgets the key's failures.
func (s *Store) LoginSucceeded(ctx context.Context, key string) error {
	return s.single(ctx, "login succeeded", func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, `DELETE FROM throttles WHERE account_key = $1`, key)
		return err
	})
}
