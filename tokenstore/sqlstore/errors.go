package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/cockroachdb/cockroach-go/v2/crdb"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authd/authd/tokenstore"
)

// SQLSTATE codes the store acts on.
const (
	codeUniqueViolation = "23505"
	codeUndefinedTable  = "42P01"
	codeDuplicateTable  = "42P07"
	codeDuplicateObject = "42710"
	codeSerialization   = "40001"
)

// classify turns err, the result of the call named op made with the
// caller's ctx, into the store's error contract:
//
//   - nil stays nil; tokenstore sentinels and ErrClosed are wrapped with op;
//   - when the caller's ctx is done, the error wraps ctx.Err();
//   - failures to reach the database or to get an answer in time wrap
//     tokenstore.ErrUnavailable;
//   - anything else is wrapped with op.
//
// Every wrap uses %w, so the driver's *pgconn.PgError (and its SQLSTATE)
// stays reachable with errors.As.
func classify(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case isDomain(err):
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	case ctx.Err() != nil:
		return fmt.Errorf("sqlstore: %s: %w: %w", op, ctx.Err(), err)
	case unavailable(err):
		return fmt.Errorf("sqlstore: %s: %w: %w", op, tokenstore.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// isDomain reports whether err is one of the errors the store returns on
// purpose.
func isDomain(err error) bool {
	for _, target := range []error{
		tokenstore.ErrNotFound, tokenstore.ErrEmailTaken, tokenstore.ErrExists,
		tokenstore.ErrConflict, ErrClosed, ErrSchemaOutdated, ErrSchemaTooNew,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// unavailable reports whether err means the database could not be reached
// or did not answer in time, rather than that it refused the request. The
// caller has already ruled out its own ctx ending, so a deadline here is the
// store's per-call timeout.
func unavailable(err error) bool {
	var (
		ambiguous  *crdb.AmbiguousCommitError
		exhausted  *crdb.MaxRetriesExceededError
		restart    *crdb.TxnRestartError
		pgErr      *pgconn.PgError
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	switch {
	case errors.As(err, &ambiguous), errors.As(err, &exhausted), errors.As(err, &restart):
		// A commit of unknown outcome, or a conflict that kept coming back:
		// the caller can only answer 503 and let the client retry.
		return true
	case errors.As(err, &pgErr):
		return unavailableCode(pgErr.Code)
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err),
		errors.As(err, &connectErr), errors.As(err, &netErr),
		pgconn.SafeToRetry(err), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return false
}

// unavailableCode reports whether a server-reported SQLSTATE means the
// database is unavailable or overloaded rather than that the request is
// wrong.
func unavailableCode(code string) bool {
	switch code {
	case "57P01", // admin_shutdown: the server is going down
		"57P02",           // crash_shutdown
		"57P03",           // cannot_connect_now: starting up or shutting down
		"57014",           // query_canceled: statement_timeout fired
		"53300",           // too_many_connections
		"40003",           // statement_completion_unknown: CockroachDB's ambiguous result
		codeSerialization, // only seen here once the retries ran out
		"40P01":           // deadlock_detected: PostgreSQL aborted one side; retryable
		return true
	}
	return len(code) == 5 && code[:2] == "08" // connection_exception class
}

// pgCode returns err's SQLSTATE, or "" when err carries none.
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// existsErr maps a unique violation to tokenstore.ErrExists, keeping the
// driver error in the chain; other errors pass unchanged.
func existsErr(err error) error {
	if pgCode(err) == codeUniqueViolation {
		return fmt.Errorf("%w: %w", tokenstore.ErrExists, err)
	}
	return err
}
