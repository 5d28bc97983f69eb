package server

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/tokenstore"
)

// introspect is RFC 7662 token introspection, the hot path of every
// resource server. The caller authenticates as a client holding the
// introspect scope. Anything that is not an active access or refresh token
// (malformed, forged, unknown, expired, revoked, an authorization code)
// gets the same {"active":false}.
func (s *Server) introspect(ctx *fasthttp.RequestCtx) error {
	f, c, err := s.clientForm(ctx)
	if err != nil {
		return err
	}
	if !hasScope(c.Scopes, scopeIntrospect) {
		return errorf(fasthttp.StatusForbidden, "unauthorized_client",
			"client is not allowed to introspect tokens")
	}
	tok := f.get("token")
	if tok == "" {
		return invalidRequest("token is required")
	}
	e, active, err := s.lookup(ctx, tok)
	if err != nil {
		return err
	}
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType("application/json")
	if !active {
		ctx.SetBodyString(`{"active":false}`)
		return nil
	}
	var buf [512]byte
	ctx.SetBody(s.appendIntrospection(buf[:0], e))
	return nil
}

// lookup checks a token string and returns its cache entry and whether it
// is active. Access tokens are answered from the cache, which reads the
// store on a miss. Refresh tokens always come from the store: every
// rotation uses one up, and keeping them out of the cache spares each
// rotation an invalidation; resource servers introspect access tokens.
// Authorization codes are never active here: they are not bearer tokens.
func (s *Server) lookup(ctx context.Context, tok string) (tokencache.Entry, bool, error) {
	kind, err := s.cfg.Keys.Check(tok)
	if err != nil || kind == tokenstore.KindCode {
		return tokencache.Entry{}, false, nil
	}
	d := tokenstore.DigestOf(tok)
	now := s.now()
	fill := func() (tokencache.Entry, bool, error) { return s.readToken(ctx, d, now) }
	if kind == tokenstore.KindRefresh {
		return fill()
	}
	return s.cfg.Cache.Lookup(ctx, d, now, fill)
}

// readToken reads a token from the store, within the store timeout.
func (s *Server) readToken(ctx context.Context, d tokenstore.Digest, now time.Time) (
	e tokencache.Entry, active bool, err error) {
	err = s.withStore(ctx, func(sc context.Context) (err error) {
		e, active, err = ReadToken(sc, s.cfg.Store, d, now)
		return err
	})
	return e, active, err
}

// ReadToken reads the token with digest d from st and returns what a cache
// keeps of it and whether it is active at now, as introspection judges it
// on a cache miss: an unknown token is inactive, and so is an
// authorization code (not a bearer token). Cluster nodes answering
// forwarded lookups use it too, so every node judges alike.
func ReadToken(ctx context.Context, st tokenstore.Store, d tokenstore.Digest, now time.Time) (
	tokencache.Entry, bool, error) {
	v, err := st.Token(ctx, d)
	if errors.Is(err, tokenstore.ErrNotFound) {
		return tokencache.Entry{}, false, nil
	}
	if err != nil {
		return tokencache.Entry{}, false, err
	}
	return cacheEntry(v.Token, v.Email), v.Active(now) && v.Kind != tokenstore.KindCode, nil
}

// appendIntrospection writes the RFC 7662 §2.2 answer for an active token.
// sub is the user id, or the client id for client-credentials tokens.
func (s *Server) appendIntrospection(b []byte, e tokencache.Entry) []byte {
	b = append(b, `{"active":true,"sub":`...)
	if e.UserID != "" {
		b = appendQuoted(b, e.UserID)
	} else {
		b = appendQuoted(b, e.ClientID)
	}
	b = append(b, `,"client_id":`...)
	b = appendQuoted(b, e.ClientID)
	b = append(b, `,"scope":`...)
	b = appendQuoted(b, e.Scope)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, e.ExpiresAt, 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, e.IssuedAt, 10)
	if e.Kind == tokenstore.KindAccess {
		b = append(b, `,"token_type":"Bearer"`...)
	}
	if e.Email != "" {
		b = append(b, `,"username":`...)
		b = appendQuoted(b, e.Email)
	}
	b = append(b, `,"iss":`...)
	b = appendQuoted(b, s.cfg.Issuer)
	return append(b, '}')
}
