// Package server is authd's HTTP API: the public OAuth 2.0 and account
// endpoints and the admin endpoints, on valyala/fasthttp.
//
// Every handler returns an error; one adapter (handle) turns it into the
// status, the JSON error body and the log line, recovers panics and records
// metrics, so no endpoint can skip those phases.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/fasthttp/router"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/server/password"
	"github.com/authd/authd/server/ratelimit"
	"github.com/authd/authd/server/token"
	"github.com/authd/authd/tokenstore"
)

// Cache is the token cache the server answers introspection from: one
// node's tokencache.Cache, or a cluster that shards it over many nodes.
type Cache interface {
	// Lookup reports whether the token with digest d is active at now,
	// answering from the cache or through fill, with concurrent misses for
	// one digest sharing one fill. When it is active, *v describes it, its
	// text appended to dst (see tokencache.View); the extended buffer is
	// returned either way.
	Lookup(ctx context.Context, d tokenstore.Digest, now time.Time, dst []byte,
		v *tokencache.View, fill func() (tokencache.Entry, bool, error)) (
		buf []byte, active bool, err error)
	// Put caches a freshly issued token.
	Put(e tokencache.Entry)
	// Invalidate applies a revocation to every cache that may hold an
	// affected token and returns once all of them enforce it, or an error
	// when that cannot be confirmed (the caller answers 503: the store
	// already holds the revocation, so a retry is safe).
	Invalidate(ctx context.Context, inv tokencache.Invalidation) error
}

// Config configures a Server. Store, Cache, Keys, Hasher and AdminKey are
// required; zero durations and limits take the defaults named below.
type Config struct {
	// Issuer is the public base URL, as RFC 8414 metadata and introspection
	// (iss) report it. Default http://localhost:8080.
	Issuer string

	Store  tokenstore.Store
	Cache  Cache
	Keys   *token.Keys
	Hasher *password.Hasher
	Policy password.Policy
	// ClientSecretKey keys the digest of client secrets at rest.
	ClientSecretKey []byte
	// AdminKey is the bearer key of the admin listener.
	AdminKey string

	// Token lifetimes. Defaults: access 15m; refresh 720h idle and 2160h
	// absolute; authorization code 60s; client-credentials access 1h.
	AccessTTL       time.Duration
	RefreshTTL      time.Duration
	RefreshMaxAge   time.Duration
	CodeTTL         time.Duration
	ClientAccessTTL time.Duration
	// RefreshGrace is how long after a rotation the old refresh token still
	// gets the same successor again instead of counting as theft. Zero
	// disables the window; negative values are treated as zero.
	RefreshGrace time.Duration

	// CredentialRate and CredentialBurst bound credential checks (password
	// grant, registration, password change) per client IP. Defaults 10/s
	// and 20. A negative rate turns the limit off.
	CredentialRate  float64
	CredentialBurst int
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For header names the client (see clientIP). Empty: the
	// TCP peer is the client.
	TrustedProxies []netip.Prefix
	// LockAfter failed logins of one account start a backoff doubling from
	// LockBase up to LockMax. Defaults 5, 1s, 15m.
	LockAfter int
	LockBase  time.Duration
	LockMax   time.Duration

	// MaxBodySize bounds request bodies in bytes. Default 64 KiB.
	MaxBodySize int
	// StoreTimeout bounds each store call of a request. Default 5s.
	StoreTimeout time.Duration
	// Ready, when set, is consulted by /readyz besides the store.
	Ready func(ctx context.Context) error

	Logger   *slog.Logger
	Registry prometheus.Registerer
	// Now, when set, replaces time.Now (tests).
	Now func() time.Time
}

// Server serves the public and admin listeners. Create it with New; it is
// safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	limiter *ratelimit.Limiter
	clients *clientCache
	// secretPads keys the digest of client secrets.
	secretPads *hmacPads
	// scratch holds *scratch values for introspection answers.
	scratch sync.Pool
	metrics *metrics
	now     func() time.Time

	publicHTTP *fasthttp.Server
	adminHTTP  *fasthttp.Server
}

// New checks cfg, fills in defaults and builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Cache == nil || cfg.Keys == nil || cfg.Hasher == nil {
		return nil, errors.New("server: Store, Cache, Keys and Hasher are required")
	}
	if len(cfg.AdminKey) < 16 {
		return nil, errors.New("server: admin key must be at least 16 characters")
	}
	if len(cfg.ClientSecretKey) < 32 {
		return nil, errors.New("server: client secret key must be at least 32 bytes")
	}
	setDefaults(&cfg)

	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if cfg.CredentialRate > 0 {
		s.limiter = ratelimit.New(cfg.CredentialRate, cfg.CredentialBurst, 100_000)
	}
	s.clients = newClientCache(cfg.Store)
	s.secretPads = newHMACPads(cfg.ClientSecretKey)
	s.scratch.New = newScratch
	m, err := newMetrics(cfg.Registry, cfg.Hasher)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.publicHTTP = s.newHTTPServer("authd", s.publicRoutes())
	s.adminHTTP = s.newHTTPServer("authd-admin", s.adminRoutes())
	return s, nil
}

func setDefaults(cfg *Config) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "http://localhost:8080"
	}
	def(&cfg.AccessTTL, 15*time.Minute)
	def(&cfg.RefreshTTL, 720*time.Hour)
	def(&cfg.RefreshMaxAge, 2160*time.Hour)
	def(&cfg.CodeTTL, 60*time.Second)
	def(&cfg.ClientAccessTTL, time.Hour)
	def(&cfg.LockBase, time.Second)
	def(&cfg.LockMax, 15*time.Minute)
	def(&cfg.StoreTimeout, 5*time.Second)
	cfg.RefreshGrace = max(cfg.RefreshGrace, 0)
	if cfg.CredentialRate == 0 {
		cfg.CredentialRate = 10
	}
	if cfg.CredentialBurst <= 0 {
		cfg.CredentialBurst = 20
	}
	if cfg.LockAfter <= 0 {
		cfg.LockAfter = 5
	}
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = 64 << 10
	}
	if cfg.Policy.MinLen == 0 && cfg.Policy.MaxLen == 0 {
		cfg.Policy = password.DefaultPolicy
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
}

func (s *Server) newHTTPServer(name string, r *router.Router) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:            r.Handler,
		Name:               name,
		MaxRequestBodySize: s.cfg.MaxBodySize,
		// ReadBufferSize bounds the request line plus headers: larger
		// requests get 431 before any handler runs.
		ReadBufferSize:        8 << 10,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           2 * time.Minute,
		NoDefaultServerHeader: true,
		CloseOnShutdown:       true,
		Logger:                fasthttpLogger{s.log},
		ErrorHandler:          s.transportError,
	}
}

// Serve answers the public API on public and the admin API on admin until
// Shutdown. It returns the first listener error other than a clean close.
func (s *Server) Serve(public, admin net.Listener) error {
	errc := make(chan error, 2)
	go func() { errc <- s.publicHTTP.Serve(public) }()
	go func() { errc <- s.adminHTTP.Serve(admin) }()
	var first error
	for range 2 {
		if err := <-errc; err != nil && first == nil {
			first = fmt.Errorf("serve: %w", err)
		}
	}
	return first
}

// Shutdown stops accepting connections, waits for in-flight requests to
// finish (or ctx to end) and makes Serve return.
func (s *Server) Shutdown(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, srv := range []*fasthttp.Server{s.publicHTTP, s.adminHTTP} {
		wg.Go(func() { errs[i] = srv.ShutdownWithContext(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// PublicHandler and AdminHandler expose the routers for in-process tests.
func (s *Server) PublicHandler() fasthttp.RequestHandler { return s.publicHTTP.Handler }

// AdminHandler returns the admin listener's handler.
func (s *Server) AdminHandler() fasthttp.RequestHandler { return s.adminHTTP.Handler }

// transportError answers requests fasthttp rejects before routing: bodies
// over the limit, oversized headers, malformed HTTP.
func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	status := fasthttp.StatusBadRequest
	desc := "malformed HTTP request"
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status, desc = fasthttp.StatusRequestEntityTooLarge, "request body too large"
	case errors.As(err, &small):
		status, desc = fasthttp.StatusRequestHeaderFieldsTooLarge, "request headers too large"
	}
	s.log.Debug("rejected request", "status", status, "err", err)
	writeError(ctx, &Error{Code: "invalid_request", Description: desc, Status: status})
	ctx.SetConnectionClose()
}

// fasthttpLogger routes fasthttp's own messages to slog at debug: they are
// about clients' broken connections, not about authd.
type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Debug("http", "msg", fmt.Sprintf(format, args...))
}
