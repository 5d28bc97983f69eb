package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/tokenstore"
)

// clientForm parses a form request and authenticates its client: the
// shared first phase of introspection and revocation.
func (s *Server) clientForm(ctx *fasthttp.RequestCtx) (form, tokenstore.Client, error) {
	f, err := parseForm(ctx)
	if err != nil {
		return form{}, tokenstore.Client{}, err
	}
	c, err := s.authenticateClient(ctx, f)
	return f, c, err
}

// authenticateClient authenticates the client of an OAuth request (RFC 6749
// §2.3): HTTP Basic (client_secret_basic), client_id and client_secret in
// the form (client_secret_post), or client_id alone for a public client.
// A request may use only one method. Every failure is the same 401
// invalid_client, so the answer does not say whether the client exists.
func (s *Server) authenticateClient(ctx *fasthttp.RequestCtx, f form) (tokenstore.Client, error) {
	id, secret, basic, err := clientCredentials(ctx, f)
	if err != nil {
		return tokenstore.Client{}, err
	}
	if id == "" {
		return tokenstore.Client{}, invalidClient("client authentication required")
	}
	e, err := s.clients.get(ctx, id, s.storeTimeout())
	if errors.Is(err, tokenstore.ErrNotFound) {
		s.secretMatches(secret, nil) // spend the same time as for a real client
		return tokenstore.Client{}, invalidClient("client authentication failed")
	}
	if err != nil {
		return tokenstore.Client{}, err
	}
	c := e.client
	switch {
	case c.Public && (secret != "" || basic):
		return tokenstore.Client{}, invalidClient("public clients authenticate with client_id alone")
	case c.Public:
		return c, nil
	case secret == "":
		return tokenstore.Client{}, invalidClient("client authentication failed")
	case e.verified != nil && subtle.ConstantTimeCompare([]byte(secret), e.verified) == 1:
		// The secret that verified last time: no need to digest it again.
		return c, nil
	case !s.secretMatches(secret, c.SecretDigest):
		return tokenstore.Client{}, invalidClient("client authentication failed")
	}
	s.clients.verified(id, secret)
	return c, nil
}

// clientCredentials extracts the client id and secret from the request and
// reports whether they came from an Authorization: Basic header.
func clientCredentials(ctx *fasthttp.RequestCtx, f form) (
	id, secret string, basic bool, err error) {
	auth := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
	if len(auth) == 0 {
		if f.has("client_secret") && !f.has("client_id") {
			return "", "", false, invalidClient("client_secret without client_id")
		}
		return f.get("client_id"), f.get("client_secret"), false, nil
	}
	if f.has("client_secret") {
		return "", "", false, invalidRequest("use only one client authentication method")
	}
	id, secret, ok := parseBasic(auth)
	if !ok {
		return "", "", false, invalidClient("malformed Basic authorization")
	}
	if f.has("client_id") && f.get("client_id") != id {
		return "", "", false, invalidRequest("client_id does not match the authenticated client")
	}
	return id, secret, true, nil
}

// parseBasic decodes an Authorization: Basic header. RFC 6749 §2.3.1: the id
// and secret are form-urlencoded before being joined with a colon.
func parseBasic(h []byte) (id, secret string, ok bool) {
	const prefix = "basic "
	if len(h) < len(prefix) || !bytes.EqualFold(h[:len(prefix)], []byte(prefix)) {
		return "", "", false
	}
	enc := bytes.TrimSpace(h[len(prefix):])
	var buf [256]byte
	if base64.StdEncoding.DecodedLen(len(enc)) > len(buf) {
		return "", "", false
	}
	n, err := base64.StdEncoding.Decode(buf[:], enc)
	if err != nil {
		return "", "", false
	}
	rawID, rawSecret, found := bytes.Cut(buf[:n], []byte{':'})
	if !found {
		return "", "", false
	}
	id, err1 := formUnescape(rawID)
	secret, err2 := formUnescape(rawSecret)
	if err1 != nil || err2 != nil || id == "" || !validText(id) || !validText(secret) {
		return "", "", false
	}
	return id, secret, true
}

// formUnescape decodes form-urlencoding, copying only when there is
// something to decode.
func formUnescape(b []byte) (string, error) {
	if bytes.IndexByte(b, '%') < 0 && bytes.IndexByte(b, '+') < 0 {
		return string(b), nil
	}
	return url.QueryUnescape(string(b))
}

// secretDigest is the keyed digest stored for a client secret:
// HMAC-SHA-256 under the client secret key.
func (s *Server) secretDigest(secret string) []byte {
	d := s.secretPads.sum(secret)
	return d[:]
}

// secretMatches compares in constant time. want is nil for unknown clients.
func (s *Server) secretMatches(secret string, want []byte) bool {
	got := s.secretPads.sum(secret)
	return want != nil && hmac.Equal(got[:], want)
}

// maxInlineSecret is the longest secret hmacPads digests without
// allocating; generated secrets are 46 bytes.
const maxInlineSecret = 128

// hmacPads is an HMAC-SHA-256 key expanded into its inner and outer pads
// (RFC 2104), so that authenticating the caller of every introspection
// costs two SHA-256 sums over stack buffers and no allocation.
type hmacPads struct {
	key          []byte
	inner, outer [sha256.BlockSize]byte
}

func newHMACPads(key []byte) *hmacPads {
	p := &hmacPads{key: key}
	if len(key) > sha256.BlockSize {
		k := sha256.Sum256(key)
		key = k[:]
	}
	for i := range sha256.BlockSize {
		var b byte
		if i < len(key) {
			b = key[i]
		}
		p.inner[i], p.outer[i] = b^0x36, b^0x5c
	}
	return p
}

func (p *hmacPads) sum(msg string) [sha256.Size]byte {
	if len(msg) > maxInlineSecret {
		m := hmac.New(sha256.New, p.key)
		m.Write([]byte(msg))
		var out [sha256.Size]byte
		copy(out[:], m.Sum(nil))
		return out
	}
	var in [sha256.BlockSize + maxInlineSecret]byte
	copy(in[:], p.inner[:])
	n := copy(in[sha256.BlockSize:], msg)
	inner := sha256.Sum256(in[:sha256.BlockSize+n])
	var out [sha256.BlockSize + sha256.Size]byte
	copy(out[:], p.outer[:])
	copy(out[sha256.BlockSize:], inner[:])
	return sha256.Sum256(out[:])
}

// clientCacheTTL bounds how long a node trusts its copy of a client. A
// client deleted through another node keeps authenticating here for at most
// this long; its tokens stop at once (the token cache is invalidated
// cluster-wide and the store answers ClientGone).
const clientCacheTTL = 5 * time.Second

// clientCache keeps recently used clients so that authenticating the caller
// of every introspection costs no store read. Safe for concurrent use.
type clientCache struct {
	store tokenstore.Store

	mu sync.RWMutex
	// entries maps client id to its cached copy; guarded by mu.
	entries map[string]cachedClient
}

type cachedClient struct {
	client  tokenstore.Client
	fetched time.Time
	// verified is the last secret that matched the client's digest. A
	// resource server introspects with the same secret thousands of times
	// a second; comparing it in constant time against this copy saves
	// computing the keyed digest each time. It lives only in memory, like
	// the request that carried it.
	verified []byte
}

func newClientCache(st tokenstore.Store) *clientCache {
	return &clientCache{store: st, entries: map[string]cachedClient{}}
}

// get returns the cached copy of client id, reading the store when it has
// none or the copy is older than clientCacheTTL.
func (c *clientCache) get(ctx context.Context, id string, timeout time.Duration) (
	cachedClient, error) {
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if ok && time.Since(e.fetched) < clientCacheTTL {
		return e, nil
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl, err := c.store.Client(sctx, id)
	if ok && errors.Is(err, tokenstore.ErrUnavailable) {
		// While the store is down, a known client keeps authenticating so
		// that cached introspection goes on answering. Nothing can delete
		// the client meanwhile: deletion goes through the store.
		return e, nil
	}
	if err != nil {
		return cachedClient{}, err
	}
	fresh := cachedClient{client: cl, fetched: time.Now()}
	if ok && bytes.Equal(e.client.SecretDigest, cl.SecretDigest) {
		fresh.verified = e.verified
	}
	e = fresh
	c.mu.Lock()
	if len(c.entries) > 10_000 {
		clear(c.entries) // a bound, not a policy: clients are few
	}
	c.entries[id] = e
	c.mu.Unlock()
	return e, nil
}

// verified remembers secret as the one that last matched client id.
func (c *clientCache) verified(id, secret string) {
	c.mu.Lock()
	if e, ok := c.entries[id]; ok {
		e.verified = []byte(secret)
		c.entries[id] = e
	}
	c.mu.Unlock()
}

func (c *clientCache) forget(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}
