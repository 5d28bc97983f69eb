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
	// The token is only checked and digested, never kept: a view of the
	// request's bytes spares copying it.
	tok := bytesString(f.peek("token"))
	if tok == "" {
		return invalidRequest("token is required")
	}
	sc := s.scratch.Get().(*scratch)
	defer s.scratch.Put(sc)
	text, active, err := s.lookup(ctx, tok, sc.text[:0], &sc.view)
	sc.text = text[:0] // keep a buffer the lookup had to grow
	if err != nil {
		return err
	}
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType("application/json")
	if !active {
		ctx.SetBodyString(`{"active":false}`)
		return nil
	}
	var body [512]byte
	ctx.SetBody(s.appendIntrospection(body[:0], &sc.view))
	return nil
}

// scratch is the memory one introspection answer is assembled in, reused
// through Server.scratch: on the stack, the view and its text would escape
// through the Cache interface and cost allocations on every request.
type scratch struct {
	view tokencache.View
	text []byte
}

func newScratch() any { return &scratch{text: make([]byte, 0, 256)} }

// lookup checks a token string and reports whether it is active; when it
// is, *v describes it, its text appended to dst. Access tokens are answered
// from the cache, which reads the store on a miss. Refresh tokens always
// come from the store: every rotation uses one up, and keeping them out of
// the cache spares each rotation an invalidation; resource servers
// introspect access tokens. Authorization codes are never active here: they
// are not bearer tokens.
func (s *Server) lookup(ctx context.Context, tok string, dst []byte, v *tokencache.View) (
	[]byte, bool, error) {
	kind, err := s.cfg.Keys.Check(tok)
	if err != nil || kind == tokenstore.KindCode {
		return dst, false, nil
	}
	d := tokenstore.DigestOf(tok)
	now := s.now()
	fill := func() (tokencache.Entry, bool, error) { return s.readToken(ctx, d, now) }
	if kind == tokenstore.KindAccess {
		return s.cfg.Cache.Lookup(ctx, d, now, dst, v, fill)
	}
	e, active, err := fill()
	if !active || err != nil {
		return dst, false, err
	}
	return tokencache.AppendEntryView(dst, v, &e), true, nil
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
func (s *Server) appendIntrospection(b []byte, v *tokencache.View) []byte {
	b = append(b, `{"active":true,"sub":`...)
	if len(v.UserID) > 0 {
		b = appendQuoted(b, bytesString(v.UserID))
	} else {
		b = appendQuoted(b, v.ClientID)
	}
	b = append(b, `,"client_id":`...)
	b = appendQuoted(b, v.ClientID)
	b = append(b, `,"scope":`...)
	b = appendQuoted(b, v.Scope)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, v.ExpiresAt, 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, v.IssuedAt, 10)
	if v.Kind == tokenstore.KindAccess {
		b = append(b, `,"token_type":"Bearer"`...)
	}
	if len(v.Email) > 0 {
		b = append(b, `,"username":`...)
		b = appendQuoted(b, bytesString(v.Email))
	}
	b = append(b, `,"iss":`...)
	b = appendQuoted(b, s.cfg.Issuer)
	return append(b, '}')
}
