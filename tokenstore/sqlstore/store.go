// Package sqlstore is authd's production tokenstore.Store: CockroachDB in a
// cluster, PostgreSQL accepted too, through jackc/pgx/v5.
//
// Every call of several statements runs them in one transaction through
// cockroach-go's crdbpgxv5.ExecuteTx, which retries it on serialization
// conflicts (SQLSTATE 40001) instead of failing; a call of one statement
// (a token lookup, a client-credentials token issuance) runs it as an
// implicit transaction, retried the same way. Retries and Options.OnRetry
// count the retries. Each call is bounded by Options.Timeout: when the
// database is gone or does not answer, calls fail with an error matching
// tokenstore.ErrUnavailable instead of hanging.
//
// The schema is versioned by the numbered SQL files embedded in the binary.
// Migrate applies the pending ones; Open refuses a database whose schema is
// older (ErrSchemaOutdated: run `authd migrate`) or newer (ErrSchemaTooNew)
// than this build, unless Options.MigrateOnOpen is set.
//
// Only SQL that both CockroachDB and PostgreSQL accept is used; the features
// avoided and the statements that behave differently on the two are listed
// in deploy/cockroachdb.md.
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authd/authd/tokenstore"
)

// Default option values; see Options.
const (
	DefaultTimeout = 5 * time.Second
	minMaxConns    = 8
)

// Options tune a Store. The zero value is valid and gives the defaults.
type Options struct {
	// MaxConns caps the connection pool, and with it the number of calls
	// that reach the database at once; further calls queue for a
	// connection within their Timeout. Zero means the URL's pool_max_conns
	// if it has one, else 4 per CPU and at least 8.
	MaxConns int32
	// MinConns connections are kept open even when idle, so a quiet node
	// answers its first requests without connecting. Zero keeps none open
	// (or the URL's pool_min_conns). It is capped at MaxConns.
	MinConns int32
	// Timeout bounds each call: waiting for a connection, every statement,
	// every retry and the commit. A call that runs out of it returns an
	// error matching tokenstore.ErrUnavailable. DeleteExpired applies it to
	// each batch. Zero means DefaultTimeout.
	Timeout time.Duration
	// StatementTimeout is the server's statement_timeout for the store's
	// sessions, so the database abandons a statement the store has given
	// up on. Zero means Timeout; negative leaves the server's setting (or
	// the URL's statement_timeout parameter) alone.
	StatementTimeout time.Duration
	// OnRetry, when set, is called once each time a transaction is retried
	// after a serialization conflict, for a metric. It is called from the
	// goroutines making Store calls, concurrently, and must not block.
	OnRetry func()
	// MigrateOnOpen makes Open apply pending migrations (as Migrate does)
	// instead of refusing an outdated schema. Convenient for a single node
	// or a test; a cluster should run `authd migrate` once per upgrade.
	MigrateOnOpen bool
}

// timeout returns the effective per-call timeout.
func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

// Store is a tokenstore.Store on CockroachDB or PostgreSQL. It is safe for
// concurrent use. Create it with Open; the zero value is not usable.
type Store struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	onRetry func()
	retries atomic.Uint64
	closed  atomic.Bool
}

var _ tokenstore.Store = (*Store)(nil)

// Open connects to the database at url (postgres:// or postgresql://, or a
// pgx keyword/value string) and checks its schema version. It returns an
// error matching ErrSchemaOutdated (the message says to run
// `authd migrate`) or ErrSchemaTooNew when the schema does not match this
// build, and one matching tokenstore.ErrUnavailable when the database cannot
// be reached within opts.Timeout. With opts.MigrateOnOpen it migrates first.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := poolConfig(url, opts)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	s := &Store{pool: pool, timeout: opts.timeout(), onRetry: opts.OnRetry}
	if err := s.prepareSchema(ctx, opts.MigrateOnOpen); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// prepareSchema migrates (when asked) and checks the schema version.
func (s *Store) prepareSchema(ctx context.Context, migrate bool) error {
	if migrate {
		// Not bounded by the per-call timeout: a migration may rewrite a
		// large table. ctx bounds it.
		if err := migrateDB(ctx, s.pool, s.retried); err != nil {
			return classify(ctx, "migrate", err)
		}
	}
	return s.op(ctx, "check schema", func(ctx context.Context) error {
		return checkVersion(ctx, s.pool)
	})
}

// poolConfig turns url and opts into a pool configuration.
func poolConfig(url string, opts Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts the password from the URL it quotes.
		return nil, fmt.Errorf("sqlstore: database url: %w", err)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(url, "pool_max_conns"):
		cfg.MaxConns = max(minMaxConns, 4*int32(runtime.GOMAXPROCS(0)))
	}
	if opts.MinConns > 0 {
		cfg.MinConns = opts.MinConns
	}
	cfg.MinConns = min(cfg.MinConns, cfg.MaxConns)

	timeout := opts.timeout()
	if cfg.ConnConfig.ConnectTimeout <= 0 || cfg.ConnConfig.ConnectTimeout > timeout {
		cfg.ConnConfig.ConnectTimeout = timeout
	}
	params := cfg.ConnConfig.RuntimeParams
	if _, ok := params["application_name"]; !ok {
		params["application_name"] = "authd"
	}
	// A startup parameter rather than a SET after connecting: it costs no
	// round trip and survives reconnects. Both databases read an integer
	// statement_timeout as milliseconds.
	st := opts.StatementTimeout
	if st == 0 {
		st = timeout
	}
	if _, inURL := params["statement_timeout"]; st > 0 && (opts.StatementTimeout > 0 || !inURL) {
		params["statement_timeout"] = strconv.FormatInt(st.Milliseconds(), 10)
	}
	return cfg, nil
}

// Retries returns how many times transactions have been retried after a
// serialization conflict since Open.
func (s *Store) Retries() uint64 {
	return s.retries.Load()
}

// retried counts one retry.
func (s *Store) retried() {
	s.retries.Add(1)
	if s.onRetry != nil {
		s.onRetry()
	}
}

// Ping reports whether the database answers within the store's timeout; the
// error matches tokenstore.ErrUnavailable when it does not.
func (s *Store) Ping(ctx context.Context) error {
	return s.op(ctx, "ping", s.pool.Ping)
}

// Close closes every connection. Calls after Close fail with ErrClosed;
// Close itself may be called more than once.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	return nil
}

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("sqlstore: store closed")
