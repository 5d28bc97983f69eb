package server

import (
	"context"
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/tokenstore"
)

// revoke is RFC 7009 token revocation. The owning client revokes an access
// token (that token alone) or a refresh token (its whole family, with every
// access token issued from it). Unknown and malformed tokens also get 200
// (RFC 7009 §2.2): the client's goal, a token nobody can use, is met. The
// answer comes only after every cache enforces the revocation.
func (s *Server) revoke(ctx *fasthttp.RequestCtx) error {
	f, c, err := s.clientForm(ctx)
	if err != nil {
		return err
	}
	tok := f.get("token")
	if tok == "" {
		return invalidRequest("token is required")
	}
	hint := f.get("token_type_hint")
	if hint != "" && hint != "access_token" && hint != "refresh_token" {
		return errorf(fasthttp.StatusBadRequest, "unsupported_token_type",
			"token_type_hint must be access_token or refresh_token")
	}
	kind, err := s.cfg.Keys.Check(tok)
	if err != nil || kind == tokenstore.KindCode {
		return nil
	}
	d := tokenstore.DigestOf(tok)

	var view tokenstore.TokenView
	err = s.withStore(ctx, func(sc context.Context) (err error) {
		view, err = s.cfg.Store.Token(sc, d)
		return err
	})
	if errors.Is(err, tokenstore.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// RFC 7009 §2.1: a client may only revoke its own tokens.
	if view.ClientID != c.ID {
		return errorf(fasthttp.StatusBadRequest, "unauthorized_client",
			"token was issued to another client")
	}
	return s.revokeToken(ctx, view.Token)
}

// revokeToken revokes t in the store, then in every cache.
func (s *Server) revokeToken(ctx context.Context, t tokenstore.Token) error {
	err := s.withStore(ctx, func(sc context.Context) error {
		_, err := s.cfg.Store.RevokeToken(sc, t.Digest)
		return err
	})
	if err != nil && !errors.Is(err, tokenstore.ErrNotFound) {
		return err
	}
	inv := tokencache.Invalidation{Kind: tokencache.InvalidateToken, Digest: t.Digest}
	if t.Kind != tokenstore.KindAccess && t.FamilyID != "" {
		inv = tokencache.Invalidation{Kind: tokencache.InvalidateFamily, ID: t.FamilyID}
	}
	return s.cfg.Cache.Invalidate(ctx, inv)
}
