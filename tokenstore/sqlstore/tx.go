package sqlstore

import (
	"context"

	"github.com/cockroachdb/cockroach-go/v2/crdb"
	"github.com/cockroachdb/cockroach-go/v2/crdb/crdbpgxv5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what reads and single statements need: a pool, a connection or
// a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// beginner starts transactions: a pool or a connection.
type beginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// op runs fn with the store's per-call timeout and turns its error into the
// store's error contract (see classify).
func (s *Store) op(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	opCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return classify(ctx, name, fn(opCtx))
}

// tx runs fn in one transaction, retried on serialization conflicts, within
// the store's per-call timeout. fn may run more than once: it must not keep
// state across attempts except through what it returns last, and it must
// return database errors wrapped with %w, never flattened: the retry loop
// finds SQLSTATE 40001 with errors.As, and an error that hides it turns a
// harmless retry into a failed call.
func (s *Store) tx(ctx context.Context, name string,
	fn func(ctx context.Context, tx pgx.Tx) error) error {
	return s.op(ctx, name, func(ctx context.Context) error {
		return runTx(ctx, s.pool, s.retried, func(tx pgx.Tx) error { return fn(ctx, tx) })
	})
}

// single runs fn, which issues exactly one statement outside any explicit
// transaction, within the store's per-call timeout. One statement is its own
// (implicit) transaction: atomic, and durable when it returns. That costs
// one round trip where an explicit transaction through ExecuteTx costs five
// (BEGIN, SAVEPOINT, the statement, RELEASE, COMMIT), which halves the
// latency of a token issuance. CockroachDB retries a conflicting implicit
// transaction itself while its result is still buffered; a 40001 that
// still reaches the client is retried here, with the same rule as in tx:
// fn must wrap errors with %w.
func (s *Store) single(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	return s.op(ctx, name, func(ctx context.Context) error {
		attempts := 0
		return crdb.ExecuteCtx(ctx, func(ctx context.Context, _ ...any) error {
			if attempts++; attempts > 1 {
				s.retried()
			}
			return fn(ctx)
		})
	})
}

// runTx runs fn in a transaction on db with crdbpgxv5.ExecuteTx, calling
// retried before every attempt but the first.
//
// ExecuteTx wraps fn in SAVEPOINT cockroach_restart ... RELEASE SAVEPOINT.
// On CockroachDB the RELEASE is the commit. On PostgreSQL it is not: the
// real COMMIT comes after it, and ExecuteTx ignores that COMMIT's error. A
// connection lost at that moment would then report success for a write
// that never became durable, so the transaction handed to ExecuteTx records
// its commit error and runTx returns it.
//
// The isolation level is the database default: SERIALIZABLE on
// CockroachDB, READ COMMITTED on PostgreSQL. Every transaction here is
// correct under both, because its decisions rest on row locks taken by
// conditional writes rather than on earlier reads. (PostgreSQL's
// SERIALIZABLE would not do: ROLLBACK TO SAVEPOINT keeps the transaction's
// snapshot, so a retry there fails again.)
func runTx(ctx context.Context, db beginner, retried func(), fn func(pgx.Tx) error) error {
	var commitErr error
	attempts := 0
	err := crdbpgx.ExecuteTx(ctx, commitRecorder{db, &commitErr}, pgx.TxOptions{},
		func(tx pgx.Tx) error {
			if attempts++; attempts > 1 {
				retried()
			}
			return fn(tx)
		})
	if err != nil {
		return err
	}
	return commitErr
}

// commitRecorder begins transactions whose Commit error lands in *err.
type commitRecorder struct {
	db  beginner
	err *error
}

func (c commitRecorder) Begin(ctx context.Context) (pgx.Tx, error) {
	return c.BeginTx(ctx, pgx.TxOptions{})
}

func (c commitRecorder) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	tx, err := c.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return recordingTx{Tx: tx, err: c.err}, nil
}

// recordingTx is a pgx.Tx that records the error of its Commit.
type recordingTx struct {
	pgx.Tx
	err *error
}

func (t recordingTx) Commit(ctx context.Context) error {
	err := t.Tx.Commit(ctx)
	*t.err = err
	return err
}
