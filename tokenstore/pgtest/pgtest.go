// Package pgtest gives tests a throwaway PostgreSQL database, so that every
// test touching SQL runs isolated on any machine: a CI runner with a database
// service, a laptop with a local server, or a fresh machine with nothing but
// the PostgreSQL server binaries installed.
//
// URL finds a server in this order and creates a uniquely named, empty
// database on it for each call:
//
//  1. $AUTHD_TEST_DATABASE_URL, a server URL (PostgreSQL or CockroachDB);
//  2. a local server at 127.0.0.1:5432 that lets user postgres in without a
//     password;
//  3. a private server started with initdb and postgres in a temporary
//     directory on a free loopback port, once per test process (as user
//     postgres when the tests run as root).
//
// When none works the test is skipped with the reasons, unless
// $AUTHD_REQUIRE_POSTGRES=1 (CI sets it), in which case it fails. Each
// database is dropped at its test's cleanup; a test binary killed before
// its cleanups run leaves its authd_test_* databases on a shared server.
//
// A package whose tests may start the private server should stop it when
// they finish:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Without that the server still dies with the test process on Linux (it is
// started with a parent-death signal) but its temporary directory stays.
//
// Tests that need to take a database down and bring it back (outage tests)
// use NewCluster, which starts a server of their own.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables read by this package.
const (
	// EnvURL names a server URL to create test databases on, for example
	// postgresql://root@127.0.0.1:26257/defaultdb?sslmode=disable. Its user
	// must be allowed to create and drop databases.
	EnvURL = "AUTHD_TEST_DATABASE_URL"
	// EnvRequire set to 1 turns "no database available" from a skip into a
	// failure, so a CI run cannot pass by skipping every SQL test.
	EnvRequire = "AUTHD_REQUIRE_POSTGRES"
)

// localURL is the conventional local server: trust authentication for
// user postgres on loopback.
const localURL = "postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// adminTimeout bounds every administrative statement (CREATE and DROP
// DATABASE, probes) so a wedged server fails a test instead of hanging it.
const adminTimeout = 30 * time.Second

// URL returns the URL of a new, empty database for t, dropped when t and its
// subtests finish (after the cleanups registered later, such as closing the
// store, have run). It skips t when no server is available, or fails it when
// $AUTHD_REQUIRE_POSTGRES=1. It is safe for concurrent use by parallel tests.
func URL(t testing.TB) string {
	t.Helper()
	srv, err := sharedServer()
	if err != nil {
		unavailable(t, err)
	}
	return createDatabase(t, srv)
}

// Main runs m, stops the private server if this process started one, and
// exits with m's code. Call it from TestMain in packages that use URL.
func Main(m *testing.M) {
	code := m.Run()
	stopShared()
	os.Exit(code)
}

// Required reports whether $AUTHD_REQUIRE_POSTGRES asks for a failure
// instead of a skip when no database is available.
func Required() bool {
	return os.Getenv(EnvRequire) == "1"
}

// unavailable skips or fails t because no server could be found.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("pgtest: no PostgreSQL available and %s=1: %v", EnvRequire, err)
	}
	t.Skipf("pgtest: no PostgreSQL available, skipping (set %s to a server URL, "+
		"run a server on 127.0.0.1:5432 with trust auth for user postgres, or install "+
		"initdb and postgres): %v", EnvURL, err)
}

// shared is the server URL resolves to, found once per process.
var shared struct {
	once    sync.Once
	url     string
	err     error
	cluster *Cluster // the private server, when tier 3 was used
}

// sharedServer resolves the server once per process; see the package doc
// for the order.
func sharedServer() (string, error) {
	shared.once.Do(func() {
		shared.url, shared.cluster, shared.err = resolveServer(os.Getenv(EnvURL), localURL)
	})
	return shared.url, shared.err
}

// resolveServer returns the server to create databases on: configured if
// set, else local if it answers, else a private server it starts.
func resolveServer(configured, local string) (string, *Cluster, error) {
	if u := configured; u != "" {
		// An explicitly configured server is used as is: if it does not
		// work, the test fails when creating its database, which is more
		// useful than silently falling back to another server.
		return u, nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	localErr := probe(ctx, local)
	cancel()
	if localErr == nil {
		return local, nil, nil
	}
	c, err := startCluster()
	if err != nil {
		return "", nil, fmt.Errorf("local server: %v; private server: %w", localErr, err)
	}
	return c.serverURL(), c, nil
}

// stopShared stops and removes the process-wide private server, if any.
func stopShared() {
	if c := shared.cluster; c != nil {
		_ = c.destroy()
	}
}

// probe reports whether a server answers at url.
func probe(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// createDatabase creates a uniquely named database on the server at srv,
// registers its removal with t.Cleanup and returns its URL.
func createDatabase(t testing.TB, srv string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()

	conn, err := pgx.Connect(ctx, srv)
	if err != nil {
		t.Fatalf("pgtest: connect to test server: %v", err)
	}
	defer conn.Close(context.Background())
	name := "authd_test_" + randomHex(8)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(srv, name); err != nil {
			t.Logf("pgtest: database %s left behind: %v", name, err)
		}
	})
	u, err := withDatabase(srv, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// dropDatabase drops name, disconnecting any session still using it.
func dropDatabase(srv, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, srv)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())

	var version string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		return err
	}
	// PostgreSQL refuses to drop a database with open sessions unless told
	// to end them (WITH (FORCE), PostgreSQL 13 and later); CockroachDB has
	// no FORCE but drops the database with its tables given CASCADE.
	stmt := "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"
	if strings.Contains(version, "CockroachDB") {
		stmt = "DROP DATABASE IF EXISTS " + name + " CASCADE"
	}
	_, err = conn.Exec(ctx, stmt)
	return err
}

// withDatabase returns the server URL srv with its database replaced by
// name. srv must be in URL form (postgres:// or postgresql://).
func withDatabase(srv, name string) (string, error) {
	u, err := url.Parse(srv)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("test server must be a postgres:// or postgresql:// URL")
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// randomHex returns n random bytes in lowercase hex; database names made of
// it need no quoting.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
