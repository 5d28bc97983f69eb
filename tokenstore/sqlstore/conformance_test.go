package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/authd/authd/tokenstore"
	"github.com/authd/authd/tokenstore/pgtest"
	"github.com/authd/authd/tokenstore/sqlstore"
	"github.com/authd/authd/tokenstore/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) tokenstore.Store {
		return openStore(t, pgtest.URL(t), sqlstore.Options{MigrateOnOpen: true})
	})
}

// openStore opens a store on url for the rest of t. The pool is kept small
// because parallel tests share one server's connection limit.
func openStore(t testing.TB, url string, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	if opts.MaxConns == 0 {
		opts.MaxConns = 4
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := sqlstore.Open(ctx, url, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
