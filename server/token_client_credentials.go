package server

import (
	"github.com/valyala/fasthttp"

	"github.com/authd/authd/tokenstore"
)

// clientCredentialsGrant issues an access token to a confidential client for
// itself (RFC 6749 §4.4). No refresh token: the client can always ask again
// (RFC 6749 §4.4.3).
func (s *Server) clientCredentialsGrant(ctx *fasthttp.RequestCtx, f form,
	c tokenstore.Client) error {
	if c.Public {
		return errorf(fasthttp.StatusBadRequest, "unauthorized_client",
			"public clients cannot use the client_credentials grant")
	}
	scope, err := grantScope(f.get("scope"), userScopes(c))
	if err != nil {
		return err
	}
	plain, err := s.cfg.Keys.New(tokenstore.KindAccess)
	if err != nil {
		return err
	}
	now := s.now()
	at := tokenstore.Token{
		Digest: tokenstore.DigestOf(plain), Kind: tokenstore.KindAccess, ClientID: c.ID,
		Scope: scope, IssuedAt: now, ExpiresAt: now.Add(s.cfg.ClientAccessTTL),
	}
	sctx, cancel := s.storeContext(ctx)
	defer cancel()
	if err := s.cfg.Store.CreateTokens(sctx, nil, at); err != nil {
		return err
	}
	s.cfg.Cache.Put(cacheEntry(at, ""))
	return writeTokens(ctx, tokenResponse{
		AccessToken: plain, TokenType: "Bearer", ExpiresIn: expiresIn(at, now), Scope: scope,
	})
}
