package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/authd/authd/server/password"
)

// serveConfig is the configuration of authd serve. Every field has a flag
// and an AUTHD_* environment twin (see envName).
type serveConfig struct {
	Addr          string
	AdminAddr     string
	AdminKey      string
	DataDir       string
	DatabaseURL   string
	Issuer        string
	DefaultClient string

	ClusterBind      string
	ClusterJoin      string
	ClusterKey       string
	ClusterName      string
	ClusterAdvertise string
	ClusterPeerAddr  string
	ClusterLease     time.Duration

	AccessTTL       time.Duration
	RefreshTTL      time.Duration
	RefreshMaxAge   time.Duration
	RefreshGrace    time.Duration
	ClientAccessTTL time.Duration

	TokenKeys string
	TLSCert   string
	TLSKey    string

	LoginRate       float64
	LoginBurst      int
	LockAfter       int
	HashConcurrency int
	HashQueue       int
	PasswordMinLen  int
	PasswordMaxLen  int
	MaxBodyBytes    int
	CacheMB         int

	// PasswordHashMemory is argon2id's memory cost in KiB. Lowering it is
	// for tests that log in thousands of times; production keeps OWASP's.
	PasswordHashMemory uint

	DBMaxConns   int
	DBMinConns   int
	DBTimeout    time.Duration
	Migrate      bool
	SweepEvery   time.Duration
	ShutdownWait time.Duration

	TrustedProxies string

	LogFormat string
	LogLevel  string
}

func parseServeConfig(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("authd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", ":8080", "public listener address")
	fs.StringVar(&c.AdminAddr, "admin-addr", "127.0.0.1:8081", "admin listener address")
	fs.StringVar(&c.AdminKey, "admin-key", "",
		"admin API bearer key (default: generated into <data-dir>/admin.key)")
	fs.StringVar(&c.DataDir, "data-dir", "./authd-data",
		"directory of the embedded store and generated keys")
	fs.StringVar(&c.DatabaseURL, "database-url", "",
		"postgres:// or postgresql:// URL of CockroachDB or PostgreSQL (default: embedded store)")
	fs.StringVar(&c.Issuer, "issuer", "http://localhost:8080", "public base URL of this service")
	fs.StringVar(&c.DefaultClient, "default-client", "dashboard",
		"id of the public first-party client created on an empty store (empty: none)")
	fs.StringVar(&c.ClusterBind, "cluster-bind", "", "gossip address to bind (empty: single node)")
	fs.StringVar(&c.ClusterJoin, "cluster-join", "", "comma-separated seed addresses or DNS names")
	fs.StringVar(&c.ClusterKey, "cluster-key", "",
		"base64 key (16, 24 or 32 bytes) encrypting gossip and authenticating peer traffic")
	fs.StringVar(&c.ClusterName, "cluster-name", "",
		"unique node name, stable across restarts (default: hostname:gossip-port)")
	fs.StringVar(&c.ClusterAdvertise, "cluster-advertise", "",
		"gossip address other nodes reach this one at, when it differs from --cluster-bind")
	fs.StringVar(&c.ClusterPeerAddr, "cluster-peer-addr", "",
		"peer listener for forwarded lookups and revocations (default: gossip host, port+1)")
	fs.DurationVar(&c.ClusterLease, "cluster-lease", time.Second,
		"how long a node cut off from its peers keeps answering from its cache")
	fs.DurationVar(&c.AccessTTL, "access-ttl", 15*time.Minute, "access token lifetime")
	fs.DurationVar(&c.RefreshTTL, "refresh-ttl", 720*time.Hour, "refresh token idle lifetime")
	fs.DurationVar(&c.RefreshMaxAge, "refresh-max-age", 2160*time.Hour,
		"absolute lifetime of a login's refresh tokens")
	fs.DurationVar(&c.RefreshGrace, "refresh-grace", 5*time.Second,
		"window in which a rotated refresh token gets the same successor again (0: off)")
	fs.DurationVar(&c.ClientAccessTTL, "client-access-ttl", time.Hour,
		"client-credentials access token lifetime")
	fs.StringVar(&c.TokenKeys, "token-keys", "",
		"comma-separated base64 token keys, newest first (default: generated into the store)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM certificate: serve both listeners over TLS")
	fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.Float64Var(&c.LoginRate, "login-rate", 10,
		"per-IP credential checks per second (password grant, registration, password change); "+
			"negative: unlimited")
	fs.IntVar(&c.LoginBurst, "login-burst", 20, "per-IP burst of credential checks")
	fs.IntVar(&c.LockAfter, "lock-after", 5, "failed logins of one account before backoff starts")
	fs.IntVar(&c.HashConcurrency, "hash-concurrency", 0,
		"password hashes run at once (default: number of CPUs)")
	fs.IntVar(&c.HashQueue, "hash-queue", 0,
		"password hashes that may wait for a slot before requests get 503 (default: 4x concurrency)")
	fs.IntVar(&c.PasswordMinLen, "password-min-len", 12, "minimum password length in bytes")
	fs.IntVar(&c.PasswordMaxLen, "password-max-len", 1024, "maximum password length in bytes")
	fs.UintVar(&c.PasswordHashMemory, "password-hash-memory", uint(password.DefaultParams.Memory),
		"argon2id memory cost of new password hashes in KiB (lower only for tests)")
	fs.IntVar(&c.MaxBodyBytes, "max-body-bytes", 64<<10, "largest request body accepted")
	fs.IntVar(&c.CacheMB, "cache-mb", 128, "memory for cached tokens, in MiB")
	fs.IntVar(&c.DBMaxConns, "db-max-conns", 0,
		"SQL connection pool size (default: 4 per CPU, at least 8)")
	fs.IntVar(&c.DBMinConns, "db-min-conns", 0,
		"SQL connections kept open while idle, so a quiet node answers at once")
	fs.DurationVar(&c.DBTimeout, "db-timeout", 5*time.Second, "bound on each store operation")
	fs.BoolVar(&c.Migrate, "migrate", false, "apply pending SQL migrations at start")
	fs.DurationVar(&c.SweepEvery, "sweep-every", time.Minute, "how often expired tokens are deleted")
	fs.DurationVar(&c.ShutdownWait, "shutdown-timeout", 10*time.Second,
		"how long SIGTERM waits for in-flight requests")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", "",
		"comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	if err := parseWithEnv(fs, args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, c.check()
}

// check rejects configurations that cannot work, with a message that says
// what to change.
func (c serveConfig) check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") &&
		!strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("--database-url must start with postgres:// or postgresql://")
	}
	if c.ClusterBind != "" && c.DatabaseURL == "" {
		bad("--cluster-bind needs the SQL store: a cluster shares one database, " +
			"and the embedded store belongs to one node; set --database-url")
	}
	if c.ClusterBind != "" && c.ClusterKey == "" {
		bad("--cluster-bind needs --cluster-key: peers must authenticate each other")
	}
	if c.ClusterLease < 10*time.Millisecond || c.ClusterLease > time.Minute {
		bad("--cluster-lease must be between 10ms and 1m")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("--tls-cert and --tls-key go together")
	}
	if c.AccessTTL <= 0 || c.RefreshTTL <= 0 || c.RefreshMaxAge <= 0 || c.ClientAccessTTL <= 0 {
		bad("token lifetimes must be positive")
	}
	if c.RefreshGrace < 0 || c.RefreshGrace > time.Minute {
		bad("--refresh-grace must be between 0 and 1m")
	}
	if c.PasswordMinLen < 8 || c.PasswordMaxLen < c.PasswordMinLen || c.PasswordMaxLen > 4096 {
		bad("password lengths: need 8 <= min <= max <= 4096")
	}
	if c.PasswordHashMemory < 8 || c.PasswordHashMemory > password.MaxMemory {
		bad("--password-hash-memory must be between 8 and %d KiB", password.MaxMemory)
	}
	if c.CacheMB < 1 {
		bad("--cache-mb must be at least 1")
	}
	if _, err := c.proxies(); err != nil {
		bad("--trusted-proxies: %v", err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("--log-format must be text or json")
	}
	return errors.Join(errs...)
}

// hashParams are the argon2id parameters of new password hashes.
func (c serveConfig) hashParams() password.Params {
	p := password.DefaultParams
	p.Memory = uint32(c.PasswordHashMemory)
	return p
}

// proxies parses --trusted-proxies.
func (c serveConfig) proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(c.TrustedProxies, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
