package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/tokenstore/sqlstore"
)

// migrate applies the SQL schema migrations. It is idempotent and safe to
// run from several nodes at once.
func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("authd migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("database-url", "", "postgres:// or postgresql:// URL")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("migrate needs --database-url or AUTHD_DATABASE_URL " +
			"(the embedded store needs no migration)")
	}
	if err := sqlstore.Migrate(ctx, *url); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "schema is up to date")
	return nil
}

// openSQL opens the SQL store and counts its transaction retries.
func openSQL(ctx context.Context, cfg serveConfig, reg prometheus.Registerer) (
	*sqlstore.Store, error) {
	retries := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "authd_store_retries_total",
		Help: "SQL transactions retried after a serialization conflict (SQLSTATE 40001).",
	})
	if err := reg.Register(retries); err != nil {
		return nil, err
	}
	st, err := sqlstore.Open(ctx, cfg.DatabaseURL, sqlstore.Options{
		MaxConns: int32(cfg.DBMaxConns), MinConns: int32(cfg.DBMinConns),
		Timeout: cfg.DBTimeout, MigrateOnOpen: cfg.Migrate,
		OnRetry: retries.Inc,
	})
	if err != nil {
		return nil, fmt.Errorf("open SQL store: %w", err)
	}
	return st, nil
}
