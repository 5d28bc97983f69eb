package sqlstore

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cockroachdb/cockroach-go/v2/crdb/crdbpgxv5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authd/authd/tokenstore"
	"github.com/authd/authd/tokenstore/pgtest"
)

// openInternal opens a migrated store on a fresh database for the rest of t.
func openInternal(t *testing.T, opts Options) *Store {
	t.Helper()
	opts.MigrateOnOpen, opts.MaxConns = true, 2
	s, err := Open(t.Context(), pgtest.URL(t), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// serializationFailure is what CockroachDB returns for a transaction that
// must be retried.
var serializationFailure = &pgconn.PgError{Severity: "ERROR", Code: codeSerialization,
	Message: "restart transaction"}

func TestTxRetriesSerializationFailure(t *testing.T) {
	var hook atomic.Int32
	s := openInternal(t, Options{OnRetry: func() { hook.Add(1) }})

	attempts := 0
	err := s.tx(t.Context(), "test", func(ctx context.Context, tx pgx.Tx) error {
		attempts++
		// Every attempt writes the same row: a retry that did not roll the
		// previous attempt back would hit a unique violation.
		if _, err := tx.Exec(ctx, `INSERT INTO secrets (name, value, created_at)
			VALUES ('k', 'v', $1)`, time.Now()); err != nil {
			return err
		}
		if attempts < 3 {
			return fmt.Errorf("insert secret: %w", serializationFailure)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("tx: %v", err)
	}
	if attempts != 3 || s.Retries() != 2 || hook.Load() != 2 {
		t.Errorf("attempts %d, Retries %d, OnRetry calls %d; want 3, 2, 2",
			attempts, s.Retries(), hook.Load())
	}
	got, err := s.Secret(t.Context(), "k", nil)
	if err != nil || string(got) != "v" {
		t.Errorf("Secret after retried tx = %q, %v; want the one row written", got, err)
	}
}

// The pitfall the tx doc warns about: an error that flattens the SQLSTATE
// into text is not recognised as retryable, and the call fails.
func TestTxFlattenedErrorIsNotRetried(t *testing.T) {
	s := openInternal(t, Options{})
	attempts := 0
	err := s.tx(t.Context(), "test", func(ctx context.Context, tx pgx.Tx) error {
		attempts++
		return fmt.Errorf("insert secret: %v", serializationFailure)
	})
	if err == nil || attempts != 1 || s.Retries() != 0 {
		t.Errorf("err %v after %d attempts, %d retries; want an error after 1 attempt",
			err, attempts, s.Retries())
	}
}

// fakeBeginner begins fakeTx transactions whose every statement succeeds
// and whose Commit fails with commitErr.
type fakeBeginner struct{ commitErr error }

func (f fakeBeginner) BeginTx(context.Context, pgx.TxOptions) (pgx.Tx, error) {
	return &fakeTx{commitErr: f.commitErr}, nil
}

func (f fakeBeginner) Begin(ctx context.Context) (pgx.Tx, error) {
	return f.BeginTx(ctx, pgx.TxOptions{})
}

type fakeTx struct {
	pgx.Tx
	commitErr error
}

func (f *fakeTx) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, nil
}
func (f *fakeTx) Commit(context.Context) error   { return f.commitErr }
func (f *fakeTx) Rollback(context.Context) error { return nil }

func TestRunTxReportsCommitError(t *testing.T) {
	lost := errors.New("connection lost during COMMIT")
	noop := func(pgx.Tx) error { return nil }

	// What runTx guards against: ExecuteTx alone swallows the error.
	if err := crdbpgx.ExecuteTx(t.Context(), fakeBeginner{lost}, pgx.TxOptions{},
		noop); err != nil {
		t.Logf("ExecuteTx now reports commit errors itself: %v", err)
	}
	if err := runTx(t.Context(), fakeBeginner{lost}, func() {}, noop); !errors.Is(err, lost) {
		t.Errorf("runTx = %v, want the commit error", err)
	}
	if err := runTx(t.Context(), fakeBeginner{}, func() {}, noop); err != nil {
		t.Errorf("runTx with a good commit = %v", err)
	}
}

func TestTimeoutsMapToUnavailable(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"client timeout", Options{Timeout: 200 * time.Millisecond, StatementTimeout: -1}},
		{"statement timeout", Options{Timeout: 10 * time.Second,
			StatementTimeout: 200 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openInternal(t, tt.opts)
			// pg_sleep is PostgreSQL's; this test stands for any statement
			// the database does not finish in time.
			err := s.single(t.Context(), "sleep", func(ctx context.Context) error {
				_, err := s.pool.Exec(ctx, `SELECT pg_sleep(30)`)
				return err
			})
			if !errors.Is(err, tokenstore.ErrUnavailable) {
				t.Errorf("slow statement: %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestStatementTimeoutApplied(t *testing.T) {
	s := openInternal(t, Options{StatementTimeout: 1500 * time.Millisecond})
	var got string
	if err := s.pool.QueryRow(t.Context(), `SHOW statement_timeout`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	// PostgreSQL shows "1500ms"; CockroachDB shows the milliseconds alone.
	if got != "1500ms" && got != "1500" {
		t.Errorf("statement_timeout = %q, want 1500ms", got)
	}
}

func TestClassify(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name            string
		ctx             context.Context
		give            error
		wantUnavailable bool
		wantIs          error
		wantCode        string
	}{
		{name: "domain", ctx: live, give: tokenstore.ErrNotFound, wantIs: tokenstore.ErrNotFound},
		{name: "shutdown", ctx: live, give: &pgconn.PgError{Code: "57P01"},
			wantUnavailable: true, wantCode: "57P01"},
		{name: "connection class", ctx: live, give: &pgconn.PgError{Code: "08006"},
			wantUnavailable: true, wantCode: "08006"},
		{name: "statement timeout", ctx: live, give: &pgconn.PgError{Code: "57014"},
			wantUnavailable: true, wantCode: "57014"},
		{name: "retries exhausted", ctx: live, give: serializationFailure,
			wantUnavailable: true, wantCode: codeSerialization},
		{name: "unique violation", ctx: live, give: &pgconn.PgError{Code: "23505"},
			wantCode: "23505"},
		{name: "syntax error", ctx: live, give: &pgconn.PgError{Code: "42601"},
			wantCode: "42601"},
		{name: "own timeout", ctx: live, give: fmt.Errorf("x: %w", context.DeadlineExceeded),
			wantUnavailable: true},
		{name: "network", ctx: live, give: &net.OpError{Op: "read", Err: io.ErrUnexpectedEOF},
			wantUnavailable: true},
		{name: "eof", ctx: live, give: io.EOF, wantUnavailable: true},
		{name: "caller cancelled", ctx: cancelled, give: io.EOF, wantIs: context.Canceled},
		{name: "bug", ctx: live, give: errors.New("cannot scan")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.ctx, "op", tt.give)
			if errors.Is(got, tokenstore.ErrUnavailable) != tt.wantUnavailable {
				t.Errorf("classify(%v) = %v, want unavailable %v", tt.give, got, tt.wantUnavailable)
			}
			if tt.wantIs != nil && !errors.Is(got, tt.wantIs) {
				t.Errorf("classify(%v) = %v, want it to match %v", tt.give, got, tt.wantIs)
			}
			if code := pgCode(got); code != tt.wantCode {
				t.Errorf("SQLSTATE behind %v = %q, want %q", got, code, tt.wantCode)
			}
		})
	}
	if classify(live, "op", nil) != nil {
		t.Error("classify(nil) != nil")
	}
}

func TestPoolConfig(t *testing.T) {
	const base = "postgresql://u@127.0.0.1:5432/authd?sslmode=disable"
	tests := []struct {
		name        string
		url         string
		opts        Options
		wantMax     int32
		wantMin     int32
		wantTimeout string // statement_timeout; "" for unset
	}{
		{name: "defaults", url: base, wantMax: -1, wantTimeout: "5000"},
		{name: "options", url: base, opts: Options{MaxConns: 3, MinConns: 5,
			Timeout: 2 * time.Second, StatementTimeout: time.Second},
			wantMax: 3, wantMin: 3, wantTimeout: "1000"},
		{name: "url pool size", url: base + "&pool_max_conns=7&pool_min_conns=2",
			wantMax: 7, wantMin: 2, wantTimeout: "5000"},
		{name: "url statement timeout", url: base + "&statement_timeout=250",
			wantMax: -1, wantTimeout: "250"},
		{name: "server's statement timeout", url: base, opts: Options{StatementTimeout: -1},
			wantMax: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := poolConfig(tt.url, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantMax == -1 && cfg.MaxConns < minMaxConns || tt.wantMax > 0 &&
				cfg.MaxConns != tt.wantMax {
				t.Errorf("MaxConns = %d, want %d (-1: default)", cfg.MaxConns, tt.wantMax)
			}
			if cfg.MinConns != tt.wantMin {
				t.Errorf("MinConns = %d, want %d", cfg.MinConns, tt.wantMin)
			}
			if got := cfg.ConnConfig.RuntimeParams["statement_timeout"]; got != tt.wantTimeout {
				t.Errorf("statement_timeout = %q, want %q", got, tt.wantTimeout)
			}
			if cfg.ConnConfig.ConnectTimeout != tt.opts.timeout() {
				t.Errorf("ConnectTimeout = %v, want %v", cfg.ConnConfig.ConnectTimeout,
					tt.opts.timeout())
			}
		})
	}
}

func TestLoadMigrations(t *testing.T) {
	file := func(sql string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(sql)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []string // names in order
		wantErr bool
	}{
		{name: "ordered", files: fstest.MapFS{
			"migrations/0002_more.sql":  file("SELECT 2;"),
			"migrations/0001_first.sql": file("SELECT 1;"),
		}, want: []string{"0001_first", "0002_more"}},
		{name: "gap", files: fstest.MapFS{
			"migrations/0001_a.sql": file("SELECT 1;"),
			"migrations/0003_c.sql": file("SELECT 3;"),
		}, wantErr: true},
		{name: "duplicate", files: fstest.MapFS{
			"migrations/0001_a.sql": file("SELECT 1;"),
			"migrations/0001_b.sql": file("SELECT 1;"),
		}, wantErr: true},
		{name: "unnumbered", files: fstest.MapFS{
			"migrations/init.sql": file("SELECT 1;"),
		}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := loadMigrations(tt.files)
			if (err != nil) != tt.wantErr {
				t.Fatalf("loadMigrations: %v, want error %v", err, tt.wantErr)
			}
			var got []string
			for i, m := range ms {
				got = append(got, m.name)
				if m.version != i+1 {
					t.Errorf("%s has version %d, want %d", m.name, m.version, i+1)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("migrations %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		give string
		want []string
	}{
		{give: "", want: nil},
		{give: "-- only a comment;\n", want: nil},
		{give: "CREATE TABLE a (\n\tx INT8 -- why;\n);\nCREATE INDEX i ON a (x);\n",
			want: []string{"CREATE TABLE a (\n\tx INT8\n)", "CREATE INDEX i ON a (x)"}},
		{give: "SELECT 1;\n-- trailing\nSELECT 2", want: []string{"SELECT 1", "SELECT 2"}},
	}
	for _, tt := range tests {
		got := splitStatements(tt.give)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("splitStatements(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

// The embedded migrations keep to SQL both CockroachDB and PostgreSQL
// accept the same way; each pattern names a construct one of them lacks or
// reads differently (see deploy/cockroachdb.md).
func TestMigrationsPortable(t *testing.T) {
	forbidden := []struct {
		what    string
		re      *regexp.Regexp
		example string // a statement the pattern must catch
	}{
		{"sequences", regexp.MustCompile(`(?i)\b(SERIAL|BIGSERIAL|SEQUENCE|nextval)\b`),
			"CREATE TABLE t (id SERIAL PRIMARY KEY)"},
		{"advisory locks", regexp.MustCompile(`(?i)advisory`), "SELECT pg_advisory_lock(1)"},
		{"INT, 4 bytes on PostgreSQL", regexp.MustCompile(`(?i)\b(INT|INTEGER)\b`),
			"CREATE TABLE t (n INT NOT NULL)"},
		{"CockroachDB-only types", regexp.MustCompile(`(?i)\b(STRING|BYTES)\b`),
			"CREATE TABLE t (s STRING)"},
		{"TIMESTAMP without time zone", regexp.MustCompile(`(?i)\bTIMESTAMP\b`),
			"CREATE TABLE t (at TIMESTAMP)"},
		{"JSON", regexp.MustCompile(`(?i)\bJSONB?\b`), "CREATE TABLE t (j JSONB)"},
		{"hash-sharded indexes", regexp.MustCompile(`(?i)USING\s+HASH`),
			"CREATE INDEX IF NOT EXISTS i ON t (at) USING HASH"},
		{"primary-key changes",
			regexp.MustCompile(`(?i)(ALTER|ADD)\s+PRIMARY\s+KEY|DROP\s+CONSTRAINT`),
			"ALTER TABLE t ALTER PRIMARY KEY USING COLUMNS (id)"},
		{"non-idempotent CREATE", regexp.MustCompile(
			`(?i)CREATE\s+(UNIQUE\s+)?(TABLE|INDEX)\s+([^I]|I[^F])`), "CREATE TABLE t (id INT8)"},
	}
	for _, f := range forbidden {
		if !f.re.MatchString(f.example) {
			t.Errorf("pattern for %s misses %q", f.what, f.example)
		}
	}
	for _, m := range migrations {
		for _, stmt := range m.statements {
			for _, f := range forbidden {
				if loc := f.re.FindStringIndex(stmt); loc != nil {
					t.Errorf("%s uses %s: %q", m.name, f.what,
						stmt[loc[0]:min(loc[1]+20, len(stmt))])
				}
			}
		}
	}
}

// exchangeStepwise decides alone whenever exchangeAtOnce declines; the
// conformance suite reaches only its used and inactive branches that way,
// so its exchanging branch and the reuse of a token without a family are
// driven here directly.
func TestExchangeStepwise(t *testing.T) {
	s := openInternal(t, Options{})
	ctx, now := t.Context(), time.Now()
	c := tokenstore.Client{ID: "c", Name: "c", CreatedAt: now}
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	token := func() tokenstore.Token {
		var d tokenstore.Digest
		copy(d[:], randomBytes(len(d)))
		return tokenstore.Token{Digest: d, Kind: tokenstore.KindRefresh, ClientID: c.ID,
			IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	old := token()
	if err := s.CreateTokens(ctx, nil, old); err != nil {
		t.Fatal(err)
	}
	exchange := func(next tokenstore.Token) tokenstore.ExchangeResult {
		t.Helper()
		var res tokenstore.ExchangeResult
		err := runTx(ctx, s.pool, s.retried, func(tx pgx.Tx) (err error) {
			res, err = exchangeStepwise(ctx, tx, tokenstore.ExchangeRequest{Old: old.Digest,
				Kind: old.Kind, Now: now, New: []tokenstore.Token{next}})
			return err
		})
		if err != nil {
			t.Fatalf("exchangeStepwise: %v", err)
		}
		return res
	}

	first := token()
	if res := exchange(first); res.Outcome != tokenstore.Exchanged {
		t.Fatalf("first exchange: outcome %d, want Exchanged", res.Outcome)
	}
	if res := exchange(token()); res.Outcome != tokenstore.Reused {
		t.Fatalf("second exchange: outcome %d, want Reused", res.Outcome)
	}
	for _, d := range []tokenstore.Digest{old.Digest, first.Digest} {
		if v, err := s.Token(ctx, d); err != nil || !v.Revoked {
			t.Errorf("token of a reused chain without family: Revoked %v (%v), want true",
				v.Revoked, err)
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return b
}
