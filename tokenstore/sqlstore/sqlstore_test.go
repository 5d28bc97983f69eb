package sqlstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authd/authd/tokenstore"
	"github.com/authd/authd/tokenstore/pgtest"
	"github.com/authd/authd/tokenstore/sqlstore"
)

// appliedVersions returns the versions recorded in schema_migrations.
func appliedVersions(t *testing.T, url string) []int {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return versions
}

// wantAllVersions fails t unless url's schema records each version once.
func wantAllVersions(t *testing.T, url string) {
	t.Helper()
	got := appliedVersions(t, url)
	if len(got) != sqlstore.SchemaVersion() {
		t.Fatalf("schema_migrations holds %v, want versions 1 to %d", got, sqlstore.SchemaVersion())
	}
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("schema_migrations holds %v, want versions 1 to %d", got,
				sqlstore.SchemaVersion())
		}
	}
}

func TestMigrateTwice(t *testing.T) {
	url := pgtest.URL(t)
	for i := range 2 {
		if err := sqlstore.Migrate(t.Context(), url); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}
	wantAllVersions(t, url)
	s := openStore(t, url, sqlstore.Options{})
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping after Migrate: %v", err)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	url := pgtest.URL(t)
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = sqlstore.Migrate(t.Context(), url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate #%d: %v", i, err)
		}
	}
	wantAllVersions(t, url)
	openStore(t, url, sqlstore.Options{})
}

func TestOpenUnmigrated(t *testing.T) {
	url := pgtest.URL(t)
	s, err := sqlstore.Open(t.Context(), url, sqlstore.Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open of an unmigrated database succeeded")
	}
	if !errors.Is(err, sqlstore.ErrSchemaOutdated) ||
		!strings.Contains(err.Error(), "authd migrate") {
		t.Errorf("Open error = %q, want ErrSchemaOutdated saying to run authd migrate", err)
	}

	// MigrateOnOpen does what the message asks.
	openStore(t, url, sqlstore.Options{MigrateOnOpen: true})
	wantAllVersions(t, url)
}

func TestSchemaNewerThanBuild(t *testing.T) {
	url := pgtest.URL(t)
	if err := sqlstore.Migrate(t.Context(), url); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at)
		VALUES ($1, 'from_the_future', $2)`, sqlstore.SchemaVersion()+1, time.Now()); err != nil {
		t.Fatalf("record a future version: %v", err)
	}

	for _, opts := range []sqlstore.Options{{}, {MigrateOnOpen: true}} {
		s, err := sqlstore.Open(t.Context(), url, opts)
		if err == nil {
			s.Close()
		}
		if !errors.Is(err, sqlstore.ErrSchemaTooNew) {
			t.Errorf("Open(%+v) error = %v, want ErrSchemaTooNew", opts, err)
		}
	}
	if err := sqlstore.Migrate(t.Context(), url); !errors.Is(err, sqlstore.ErrSchemaTooNew) {
		t.Errorf("Migrate error = %v, want ErrSchemaTooNew", err)
	}
}

// login is a stored user, client, family and refresh token.
type login struct {
	user    tokenstore.User
	client  tokenstore.Client
	family  tokenstore.Family
	refresh tokenstore.Token
}

// createLogin stores a new login in s, issued at now.
func createLogin(t testing.TB, s tokenstore.Store, now time.Time) login {
	t.Helper()
	ctx := context.Background()
	l := login{
		user: tokenstore.User{ID: randomHex(16), Email: randomHex(6) + "@example.com",
			PasswordHash: "hash", CreatedAt: now},
		client: tokenstore.Client{ID: randomHex(8), Name: "bench", CreatedAt: now},
	}
	l.family = tokenstore.Family{ID: randomHex(16), UserID: l.user.ID, ClientID: l.client.ID,
		ExpiresAt: now.Add(24 * time.Hour), CreatedAt: now}
	l.refresh = newToken(tokenstore.KindRefresh, l, now)
	if err := s.CreateUser(ctx, l.user); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := s.CreateClient(ctx, l.client); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	if err := s.CreateTokens(ctx, &l.family, l.refresh); err != nil {
		t.Fatalf("CreateTokens: %v", err)
	}
	return l
}

// newToken returns an unsaved token of kind in l's family.
func newToken(kind tokenstore.Kind, l login, now time.Time) tokenstore.Token {
	var d tokenstore.Digest
	_, _ = rand.Read(d[:])
	return tokenstore.Token{
		Digest: d, Kind: kind, ClientID: l.client.ID, UserID: l.user.ID,
		FamilyID: l.family.ID, Scope: "openid", IssuedAt: now, ExpiresAt: now.Add(time.Hour),
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Two stores stand for two authd nodes: of 40 concurrent exchanges of one
// refresh token, each with its own successor, exactly one wins; the others
// are reuses, and only the winner's successor is stored.
func TestExchangeRaceAcrossStores(t *testing.T) {
	url := pgtest.URL(t)
	stores := []*sqlstore.Store{
		openStore(t, url, sqlstore.Options{MigrateOnOpen: true}),
		openStore(t, url, sqlstore.Options{}),
	}
	now := time.Now()
	l := createLogin(t, stores[0], now)

	const perStore = 20
	type result struct {
		res  tokenstore.ExchangeResult
		next tokenstore.Token
		err  error
	}
	results := make([]result, 2*perStore)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			r := &results[i]
			r.next = newToken(tokenstore.KindRefresh, l, now)
			r.res, r.err = stores[i%2].Exchange(t.Context(), tokenstore.ExchangeRequest{
				Old: l.refresh.Digest, Kind: tokenstore.KindRefresh, Now: now,
				New: []tokenstore.Token{r.next},
			})
		})
	}
	wg.Wait()

	var winners []tokenstore.Token
	for _, r := range results {
		switch {
		case r.err != nil:
			t.Fatalf("Exchange: %v", r.err)
		case r.res.Outcome == tokenstore.Exchanged:
			winners = append(winners, r.next)
		case r.res.Outcome != tokenstore.Reused:
			t.Errorf("Outcome %d, want Exchanged or Reused", r.res.Outcome)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d exchanges won, want exactly 1", len(winners))
	}
	for _, r := range results {
		_, err := stores[0].Token(t.Context(), r.next.Digest)
		if stored := err == nil; stored != (r.next.Digest == winners[0].Digest) {
			t.Errorf("successor stored = %v (err %v), want it stored only for the winner",
				stored, err)
		}
	}
	v, err := stores[1].Token(t.Context(), l.refresh.Digest)
	if err != nil || v.Successor != winners[0].Digest || !v.FamilyRevoked {
		t.Errorf("old token: successor is winner's %v, family revoked %v (err %v); want true true",
			v.Successor == winners[0].Digest, v.FamilyRevoked, err)
	}
}

// hangTimeout bounds the wait for a call that must fail fast: far above the
// store's timeout, it only turns a hang into a failure instead of a stuck
// test run.
const hangTimeout = 30 * time.Second

// noHang runs fn and fails t if it does not return within hangTimeout.
func noHang(t *testing.T, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangTimeout):
		t.Fatalf("%s did not return within %v", what, hangTimeout)
		return nil
	}
}

// While the database is down every call fails with ErrUnavailable instead
// of hanging; once it is back the same store works again.
func TestOutage(t *testing.T) {
	c := pgtest.NewCluster(t)
	s := openStore(t, c.URL(t), sqlstore.Options{MigrateOnOpen: true, Timeout: time.Second})
	now := time.Now()
	l := createLogin(t, s, now)

	calls := map[string]func(ctx context.Context) error{
		"Ping": s.Ping,
		"Token": func(ctx context.Context) error {
			_, err := s.Token(ctx, l.refresh.Digest)
			return err
		},
		"UserByID": func(ctx context.Context) error {
			_, err := s.UserByID(ctx, l.user.ID)
			return err
		},
		"CreateTokens": func(ctx context.Context) error {
			return s.CreateTokens(ctx, nil, newToken(tokenstore.KindAccess, l, now))
		},
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	for name, call := range calls {
		err := noHang(t, name, func() error { return call(t.Context()) })
		if !errors.Is(err, tokenstore.ErrUnavailable) {
			t.Errorf("%s with the database down: %v, want ErrUnavailable", name, err)
		}
	}

	if err := c.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	for name, call := range calls {
		// The pool drops the connections the restart broke as it finds
		// them; a bounded number of attempts gets a fresh one.
		var err error
		for range 5 {
			if err = noHang(t, name, func() error { return call(t.Context()) }); err == nil {
				break
			}
		}
		if err != nil {
			t.Errorf("%s after the database came back: %v", name, err)
		}
	}
}

// A server that accepts connections but never answers makes Open fail with
// ErrUnavailable once its timeout runs out.
func TestOpenUnresponsiveServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})

	url := "postgresql://authd@" + l.Addr().String() + "/authd?sslmode=disable"
	err = noHang(t, "Open", func() error {
		s, err := sqlstore.Open(t.Context(), url, sqlstore.Options{Timeout: 200 * time.Millisecond})
		if err == nil {
			s.Close()
		}
		return err
	})
	if !errors.Is(err, tokenstore.ErrUnavailable) {
		t.Errorf("Open of an unresponsive server: %v, want ErrUnavailable", err)
	}
}

func TestOpenBadURL(t *testing.T) {
	_, err := sqlstore.Open(t.Context(), "postgresql://u:secret-pw@[::1", sqlstore.Options{})
	if err == nil {
		t.Fatal("Open of a malformed URL succeeded")
	}
	if strings.Contains(err.Error(), "secret-pw") {
		t.Errorf("error reveals the password: %v", err)
	}
}
