// Package authapi speaks authd's HTTP API for the benchmark: the hot-path
// calls that workers repeat millions of times without allocating, and the
// slower setup calls (register, login, create clients) made before a run.
//
// Requests go only to the base URLs the caller names; no redirect is ever
// followed and no request is retried behind the caller's back.
package authapi

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// Target is one authd listener. It is safe for concurrent use.
type Target struct {
	url  string // as given, without a trailing slash
	host string // host:port, sent as the Host header
	hc   *fasthttp.HostClient
}

// NewTarget returns a Target for a base URL such as http://127.0.0.1:8080.
// The target keeps up to maxConns keep-alive connections, one per worker
// that can have a request in flight; a request that finds all of them busy
// waits for one rather than failing.
func NewTarget(base string, maxConns int) (*Target, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", base, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("target %q: scheme must be http or https", base)
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("target %q: want scheme://host:port and nothing more", base)
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	hc := &fasthttp.HostClient{
		Addr:                      addr,
		Name:                      "authd-bench",
		IsTLS:                     u.Scheme == "https",
		MaxConns:                  max(maxConns, 1),
		MaxConnWaitTimeout:        time.Minute,
		MaxIdleConnDuration:       time.Minute,
		MaxIdemponentCallAttempts: 1,
	}
	return &Target{url: u.Scheme + "://" + u.Host, host: u.Host, hc: hc}, nil
}

// URL returns the base URL of the target.
func (t *Target) URL() string { return t.url }

// Close closes the target's idle connections.
func (t *Target) Close() { t.hc.CloseIdleConnections() }
