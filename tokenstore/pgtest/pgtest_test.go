package pgtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// connect opens a connection to url for the rest of t.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// databaseExists reports whether the server at srv has a database name.
func databaseExists(t *testing.T, srv, name string) bool {
	t.Helper()
	var n int
	err := connect(t, srv).QueryRow(t.Context(),
		"SELECT count(*) FROM pg_catalog.pg_database WHERE datname = $1", name).Scan(&n)
	if err != nil {
		t.Fatalf("look database up: %v", err)
	}
	return n == 1
}

func TestURLGivesFreshDatabaseDroppedAtCleanup(t *testing.T) {
	var name string
	t.Run("use", func(t *testing.T) {
		a, b := URL(t), URL(t)
		if a == b {
			t.Fatalf("two calls gave the same database %s", a)
		}
		conn := connect(t, a)
		var tables int
		err := conn.QueryRow(t.Context(), "SELECT count(*) FROM information_schema.tables "+
			"WHERE table_schema = 'public'").Scan(&tables)
		if err != nil || tables != 0 {
			t.Fatalf("new database has %d tables (err %v), want 0", tables, err)
		}
		if _, err := conn.Exec(t.Context(), "CREATE TABLE t (id INT8 PRIMARY KEY)"); err != nil {
			t.Fatalf("create table: %v", err)
		}
		if err := conn.QueryRow(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatalf("current_database: %v", err)
		}
		// The connection stays open: cleanup must drop the database anyway.
	})
	if t.Skipped() || name == "" {
		return
	}
	srv, _ := sharedServer()
	if databaseExists(t, srv, name) {
		t.Errorf("database %s still exists after its test finished", name)
	}
}

func TestClusterStopStart(t *testing.T) {
	c := NewCluster(t)
	url := c.URL(t)
	conn := connect(t, url)
	if _, err := conn.Exec(t.Context(), "CREATE TABLE t (id INT8 PRIMARY KEY)"); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if _, err := conn.Exec(t.Context(), "INSERT INTO t VALUES (42)"); err != nil {
		t.Fatalf("insert: %v", err)
	}

	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := probe(ctx, url); err == nil {
		t.Fatal("stopped server still answers")
	}

	if err := c.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	var id int64
	if err := connect(t, url).QueryRow(t.Context(), "SELECT id FROM t").Scan(&id); err != nil {
		t.Fatalf("read after restart: %v", err)
	}
	if id != 42 {
		t.Errorf("read %d after restart, want 42", id)
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		give    string
		want    string
		wantErr bool
	}{
		{
			give: "postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable",
			want: "postgresql://postgres@127.0.0.1:5432/db1?sslmode=disable",
		},
		{
			give: "postgres://root@db:26257?sslmode=verify-full&sslrootcert=/ca.crt",
			want: "postgres://root@db:26257/db1?sslmode=verify-full&sslrootcert=/ca.crt",
		},
		{give: "host=127.0.0.1 user=postgres", wantErr: true},
		{give: "mysql://root@db/x", wantErr: true},
	}
	for _, tt := range tests {
		got, err := withDatabase(tt.give, "db1")
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q, error %v",
				tt.give, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestLastLines(t *testing.T) {
	tests := []struct {
		give string
		n    int
		want string
	}{
		{give: "", n: 2, want: ""},
		{give: "a\nb\nc\n", n: 2, want: "b\nc"},
		{give: "a\nb", n: 5, want: "a\nb"},
	}
	for _, tt := range tests {
		if got := lastLines([]byte(tt.give), tt.n); got != tt.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tt.give, tt.n, got, tt.want)
		}
	}
}

func TestUnavailableMessageNamesTheWaysOut(t *testing.T) {
	if Required() {
		t.Skip("message of the skip path; the required path fails instead")
	}
	var msg string
	rec := &recorder{TB: t, skip: func(s string) { msg = s }}
	func() {
		defer func() { _ = recover() }()
		unavailable(rec, errTest)
	}()
	for _, want := range []string{EnvURL, "127.0.0.1:5432", "initdb", errTest.Error()} {
		if !strings.Contains(msg, want) {
			t.Errorf("skip message %q does not mention %q", msg, want)
		}
	}
}

var errTest = errString("no server here")

type errString string

func (e errString) Error() string { return string(e) }

// recorder captures Skipf instead of skipping the real test.
type recorder struct {
	testing.TB
	skip func(string)
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skip(fmt.Sprintf(format, args...))
	panic("skipped")
}

func (r *recorder) Helper() {}

func TestResolveServerOrder(t *testing.T) {
	const configured = "postgresql://someone@192.0.2.1:26257/defaultdb"
	srv, c, err := resolveServer(configured, localURL)
	if srv != configured || c != nil || err != nil {
		t.Errorf("with %s set: %q, %v, %v; want it as is", EnvURL, srv, c, err)
	}

	// Nothing listens on a port freePort just released: the local server
	// is missing, so a private one must start.
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("postgresql://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	srv, c, err = resolveServer("", dead)
	if err != nil {
		unavailable(t, err)
	}
	if c == nil {
		t.Fatalf("no private server started; got %q", srv)
	}
	defer c.destroy()
	if srv != c.serverURL() {
		t.Errorf("server %q, want the private one %q", srv, c.serverURL())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := probe(ctx, srv); err != nil {
		t.Errorf("private server does not answer: %v", err)
	}
}
