package sqlstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Schema version errors returned by Open and Migrate (wrapped, with the
// versions involved).
var (
	// ErrSchemaOutdated: the database schema is older than this build
	// needs. Run `authd migrate` (or open with Options.MigrateOnOpen).
	ErrSchemaOutdated = errors.New("database schema is out of date: run `authd migrate`")
	// ErrSchemaTooNew: the database was migrated by a newer authd. This
	// build cannot use it; run the newer authd.
	ErrSchemaTooNew = errors.New("database schema is newer than this authd knows: " +
		"upgrade authd")
)

// The migrations, one numbered file per schema version:
// migrations/0001_initial.sql is version 1, and so on without gaps. Each
// file holds statements separated by semicolons at line ends. A released
// file is never edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema version.
type migration struct {
	version    int
	name       string
	statements []string
}

// migrations is every migration in version order; loadMigrations checks
// the files at init, so a malformed set fails every test at once.
var migrations = mustLoadMigrations()

// SchemaVersion is the schema version this build needs and migrates to.
func SchemaVersion() int {
	return len(migrations)
}

// bootstrap creates the bookkeeping tables migrations rely on. Each
// statement is idempotent; concurrent runs may still collide on the catalog
// and are retried (see migrateDB).
var bootstrap = []string{
	// schema_lock holds one row that every migrating transaction locks
	// with SELECT ... FOR UPDATE first. Advisory locks would do on
	// PostgreSQL but CockroachDB has none; a row lock works on both.
	`CREATE TABLE IF NOT EXISTS schema_lock (id INT8 PRIMARY KEY)`,
	`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INT8 PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL
	)`,
	`INSERT INTO schema_lock (id) VALUES (1) ON CONFLICT (id) DO NOTHING`,
}

// Migrate brings the database at url to SchemaVersion, applying each
// pending migration in its own transaction together with its
// schema_migrations row. It is idempotent and safe to run from several
// nodes at once: migrating transactions serialize on a row lock, and each
// applies only the version after the one it finds. It returns an error
// matching ErrSchemaTooNew when the database is ahead of this build. ctx
// bounds the whole run.
func Migrate(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return classify(ctx, "migrate", err)
	}
	defer conn.Close(context.Background())
	return classify(ctx, "migrate", migrateDB(ctx, conn, func() {}))
}

// migrateDB migrates through db, calling retried on transaction retries.
func migrateDB(ctx context.Context, db interface {
	querier
	beginner
}, retried func()) error {
	if err := runBootstrap(ctx, db); err != nil {
		return err
	}
	for {
		applied, err := applyNext(ctx, db, retried)
		if err != nil || !applied {
			return err
		}
	}
}

// runBootstrap runs the bootstrap statements. Two PostgreSQL sessions
// running CREATE TABLE IF NOT EXISTS at once can both miss the table and
// then collide in the catalog (a unique violation on pg_type); CockroachDB
// may report a conflict instead. Both mean another node got there first,
// so the statement is tried again and then finds the table.
func runBootstrap(ctx context.Context, db querier) error {
	for _, stmt := range bootstrap {
		for attempt := 1; ; attempt++ {
			_, err := db.Exec(ctx, stmt)
			if err == nil {
				break
			}
			switch pgCode(err) {
			case codeUniqueViolation, codeDuplicateTable, codeDuplicateObject, codeSerialization:
				if attempt < 10 {
					continue
				}
			}
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
	return nil
}

// applyNext applies the migration after the database's current version, if
// any, and reports whether it applied one.
func applyNext(ctx context.Context, db beginner, retried func()) (bool, error) {
	applied := false
	err := runTx(ctx, db, retried, func(tx pgx.Tx) error {
		applied = false
		// Held until commit: a concurrent migrator waits here, then reads
		// the version this transaction wrote.
		_, err := tx.Exec(ctx, `SELECT id FROM schema_lock WHERE id = 1 FOR UPDATE`)
		if err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		v, err := currentVersion(ctx, tx)
		if err != nil || v == len(migrations) {
			return err
		}
		if v > len(migrations) {
			return fmt.Errorf("%w (database at version %d, this build knows %d)",
				ErrSchemaTooNew, v, len(migrations))
		}
		m := migrations[v]
		for _, stmt := range m.statements {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at)
			VALUES ($1, $2, $3)`, m.version, m.name, time.Now())
		applied = err == nil
		return err
	})
	return applied, err
}

// currentVersion returns the highest applied version, 0 for a database
// never migrated.
func currentVersion(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRow(ctx, `SELECT COALESCE(max(version), 0) FROM schema_migrations`).Scan(&v)
	if pgCode(err) == codeUndefinedTable {
		return 0, nil
	}
	return v, err
}

// checkVersion returns nil when the database is at SchemaVersion, and an
// error matching ErrSchemaOutdated or ErrSchemaTooNew otherwise.
func checkVersion(ctx context.Context, q querier) error {
	v, err := currentVersion(ctx, q)
	switch {
	case err != nil:
		return err
	case v < len(migrations):
		return fmt.Errorf("%w (database at version %d, this build needs %d)",
			ErrSchemaOutdated, v, len(migrations))
	case v > len(migrations):
		return fmt.Errorf("%w (database at version %d, this build knows %d)",
			ErrSchemaTooNew, v, len(migrations))
	}
	return nil
}

func mustLoadMigrations() []migration {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		panic("sqlstore: embedded migrations: " + err.Error())
	}
	return ms
}

// loadMigrations reads migrations/NNNN_name.sql from fsys, in version order,
// and checks that versions run 1, 2, 3... without gaps or duplicates.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	ms := make([]migration, len(names))
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".sql")
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v < 1 || v > len(names) || ms[v-1].version != 0 {
			return nil, fmt.Errorf("%s: want names 0001_x.sql, 0002_y.sql... without gaps", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms[v-1] = migration{version: v, name: base, statements: splitStatements(string(b))}
	}
	return ms, nil
}

// splitStatements splits a migration file into statements at semicolons
// that end a line, dropping "--" comments. It is meant for the migration
// files only: it knows nothing of quoting, so "--" and ";" must not appear
// inside string literals there.
func splitStatements(sql string) []string {
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		line, _, _ = strings.Cut(line, "--")
		line = strings.TrimRight(line, " \t\r")
		if line == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(line, ";") {
			stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		stmts = append(stmts, s)
	}
	return stmts
}
