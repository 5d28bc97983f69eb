package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/server"
	"github.com/authd/authd/server/password"
	"github.com/authd/authd/server/token"
	"github.com/authd/authd/tokenstore"
	"github.com/authd/authd/tokenstore/boltstore"
)

// serve runs a node until ctx ends, then drains in-flight requests and
// exits.
func serve(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseServeConfig(args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(
		collectors.ProcessCollectorOpts{}))

	raw, storeKind, err := openStore(ctx, cfg, reg)
	if err != nil {
		return err
	}
	defer raw.Close()
	st, err := newTimedStore(raw, reg)
	if err != nil {
		return err
	}

	cache := tokencache.New(tokencache.Config{MaxBytes: int64(cfg.CacheMB) << 20})
	if err := registerCacheMetrics(reg, cache); err != nil {
		return err
	}
	node, err := startCluster(ctx, cfg, st, cache, reg, log)
	if err != nil {
		return err
	}
	defer node.Close()

	srv, err := newServer(ctx, cfg, st, node, reg, log)
	if err != nil {
		return err
	}
	if err := ensureDefaultClient(ctx, srv, st, cfg.DefaultClient, log); err != nil {
		return err
	}
	pub, adm, err := listen(cfg)
	if err != nil {
		return err
	}

	var wg sync.WaitGroup
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	wg.Go(func() { sweep(sweepCtx, st, cfg.SweepEvery, log) })
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(pub, adm) }()
	log.Info("authd started", "version", version, "addr", pub.Addr().String(),
		"admin_addr", adm.Addr().String(), "store", storeKind, "issuer", cfg.Issuer)

	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down", "timeout", cfg.ShutdownWait)
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownWait)
		err = srv.Shutdown(sctx)
		if errors.Is(err, context.DeadlineExceeded) {
			// Stopping was asked for; connections still open now are cut
			// when the process exits.
			log.Warn("shutdown timeout: closing the remaining connections")
			err = nil
		}
		if lerr := node.Leave(sctx); err == nil {
			err = lerr
		}
		cancel()
		if serr := <-errc; err == nil {
			err = serr
		}
	}
	stopSweep()
	wg.Wait()
	log.Info("authd stopped")
	return err
}

func newLogger(cfg serveConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens the SQL store when a database URL is configured and the
// embedded store in the data directory otherwise.
func openStore(ctx context.Context, cfg serveConfig, reg prometheus.Registerer) (
	tokenstore.Store, string, error) {
	if cfg.DatabaseURL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, "", fmt.Errorf("data directory: %w", err)
		}
		st, err := boltstore.Open(filepath.Join(cfg.DataDir, "authd.db"), boltstore.Options{})
		if err != nil {
			return nil, "", fmt.Errorf("open embedded store: %w", err)
		}
		return st, "embedded", nil
	}
	st, err := openSQL(ctx, cfg, reg)
	if err != nil {
		return nil, "", err
	}
	return st, "sql", nil
}

func newServer(ctx context.Context, cfg serveConfig, st tokenstore.Store, node clusterNode,
	reg *prometheus.Registry, log *slog.Logger) (*server.Server, error) {
	keys, err := tokenKeys(ctx, cfg, st)
	if err != nil {
		return nil, err
	}
	secretKey, err := st.Secret(ctx, "client-secret-key", randomBytes(32))
	if err != nil {
		return nil, fmt.Errorf("client secret key: %w", err)
	}
	adminKey, err := loadAdminKey(cfg, log)
	if err != nil {
		return nil, err
	}
	conc := cfg.HashConcurrency
	if conc <= 0 {
		conc = runtime.GOMAXPROCS(0)
	}
	queue := cfg.HashQueue
	if queue <= 0 {
		queue = 4 * conc
	}
	proxies, err := cfg.proxies()
	if err != nil {
		return nil, err
	}
	hasher := password.New(cfg.hashParams(), conc, queue)
	return server.New(server.Config{
		Issuer: cfg.Issuer, Store: st, Cache: node, Ready: node.Ready, Keys: keys,
		Hasher: hasher, ClientSecretKey: secretKey, AdminKey: adminKey,
		Policy:    password.Policy{MinLen: cfg.PasswordMinLen, MaxLen: cfg.PasswordMaxLen},
		AccessTTL: cfg.AccessTTL, RefreshTTL: cfg.RefreshTTL, RefreshMaxAge: cfg.RefreshMaxAge,
		RefreshGrace: cfg.RefreshGrace, ClientAccessTTL: cfg.ClientAccessTTL,
		CredentialRate: cfg.LoginRate, CredentialBurst: cfg.LoginBurst, LockAfter: cfg.LockAfter,
		MaxBodySize: cfg.MaxBodyBytes, StoreTimeout: cfg.DBTimeout, TrustedProxies: proxies,
		Logger: log, Registry: reg,
	})
}

// tokenKeys returns the configured token keys, or the one stored in the
// store (generated on first start), so every node sharing the store agrees.
func tokenKeys(ctx context.Context, cfg serveConfig, st tokenstore.Store) (*token.Keys, error) {
	if cfg.TokenKeys == "" {
		k, err := st.Secret(ctx, "token-key", randomBytes(32))
		if err != nil {
			return nil, fmt.Errorf("token key: %w", err)
		}
		return token.NewKeys(k)
	}
	var secrets [][]byte
	for i, s := range strings.Split(cfg.TokenKeys, ",") {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("--token-keys: key %d is not base64", i)
		}
		secrets = append(secrets, k)
	}
	return token.NewKeys(secrets...)
}

// loadAdminKey returns the configured admin key, or the one in the data
// directory, generating it there (mode 0600) on first start. The key itself
// is never logged; the file's path is.
func loadAdminKey(cfg serveConfig, log *slog.Logger) (string, error) {
	if cfg.AdminKey != "" {
		return cfg.AdminKey, nil
	}
	path := filepath.Join(cfg.DataDir, "admin.key")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("admin key: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	}
	key := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("admin key: %w", err)
	}
	_, err = f.WriteString(key + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("admin key: %w", err)
	}
	log.Info("generated admin key", "path", path)
	return key, nil
}

// ensureDefaultClient creates the public first-party client a newcomer
// logs in with, when the store has no client at all.
func ensureDefaultClient(ctx context.Context, srv *server.Server, st tokenstore.Store, id string,
	log *slog.Logger) error {
	if id == "" {
		return nil
	}
	cs, err := st.Clients(ctx)
	if err != nil {
		return fmt.Errorf("list clients: %w", err)
	}
	if len(cs) > 0 {
		return nil
	}
	_, _, err = srv.NewClient(ctx, id, server.ClientRequest{
		Name: "Dashboard", Public: true, FirstParty: true,
		GrantTypes: []string{"password", "refresh_token", "authorization_code"},
	})
	var e *server.Error
	if errors.As(err, &e) && e.Code == "client_exists" {
		return nil // another node sharing the store created it first
	}
	if err != nil {
		return fmt.Errorf("create default client: %w", err)
	}
	log.Info("created default client", "client_id", id)
	return nil
}

// listen opens both listeners, wrapped in TLS when a certificate is set.
func listen(cfg serveConfig) (pub, adm net.Listener, err error) {
	pub, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen --addr: %w", err)
	}
	adm, err = net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		pub.Close()
		return nil, nil, fmt.Errorf("listen --admin-addr: %w", err)
	}
	if cfg.TLSCert == "" {
		return pub, adm, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		pub.Close()
		adm.Close()
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return tls.NewListener(pub, tc), tls.NewListener(adm, tc), nil
}

// sweep deletes expired tokens every interval in bounded batches, so no
// transaction grows large and requests never wait behind it.
func sweep(ctx context.Context, st tokenstore.Store, every time.Duration, log *slog.Logger) {
	const batch = 500
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		total := 0
		for ctx.Err() == nil {
			n, err := st.DeleteExpired(ctx, time.Now(), batch)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("sweep expired tokens", "err", err)
				}
				break
			}
			total += n
			if n < batch {
				break
			}
		}
		if total > 0 {
			log.Debug("swept expired tokens", "deleted", total)
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics if it cannot read)
	return b
}
