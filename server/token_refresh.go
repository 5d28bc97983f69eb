package server

import (
	"context"
	"errors"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/tokenstore"
)

// Labels that derive a refresh token's successors from it.
const (
	deriveRefresh = "authd rotate refresh"
	deriveAccess  = "authd rotate access"
)

// refreshGrant rotates a refresh token (RFC 6749 §6): the old one is used up
// and a new refresh and access token are issued in one conditional write, so
// of any number of concurrent refreshes with one token exactly one mints a
// successor.
//
// The successors are derived from the old token under the server key, not
// drawn at random, so every request presenting the same old token names the
// same successor. Inside the grace window a repeat (a response lost on the
// way, a second browser tab) gets that same token pair again and nothing
// else happens. After the window, presenting a used refresh token means two
// parties hold it: the whole family is revoked (RFC 6819 §5.2.2.3).
func (s *Server) refreshGrant(ctx *fasthttp.RequestCtx, f form, c tokenstore.Client) error {
	old := f.get("refresh_token")
	if old == "" {
		return invalidRequest("refresh_token is required")
	}
	if kind, err := s.cfg.Keys.Check(old); err != nil || kind != tokenstore.KindRefresh {
		return invalidGrant("refresh token is invalid")
	}
	d := tokenstore.DigestOf(old)

	var view tokenstore.TokenView
	err := s.withStore(ctx, func(sc context.Context) (err error) {
		view, err = s.cfg.Store.Token(sc, d)
		return err
	})
	if errors.Is(err, tokenstore.ErrNotFound) {
		return invalidGrant("refresh token is invalid")
	}
	if err != nil {
		return err
	}
	// RFC 6749 §6: the token is bound to the client it was issued to.
	// Checked before the exchange so a stranger cannot use it up.
	if view.ClientID != c.ID {
		return invalidGrant("refresh token was issued to another client")
	}
	scope, err := narrowScope(f.get("scope"), view.Scope)
	if err != nil {
		return err
	}
	return s.rotate(ctx, old, view, scope)
}

func (s *Server) rotate(ctx *fasthttp.RequestCtx, old string, view tokenstore.TokenView,
	scope string) error {
	now := s.now()
	refresh := s.cfg.Keys.Derive(tokenstore.KindRefresh, old, deriveRefresh)
	access := s.cfg.Keys.Derive(tokenstore.KindAccess, old, deriveAccess)
	u := tokenstore.User{ID: view.UserID, Generation: view.UserGeneration}
	exp := now.Add(s.cfg.RefreshTTL)
	if !view.FamilyExpiresAt.IsZero() {
		exp = minTime(exp, view.FamilyExpiresAt)
	}
	rt := s.userToken(refresh, tokenstore.KindRefresh, u, view.ClientID, view.FamilyID,
		view.Scope, now, exp)
	at := s.userToken(access, tokenstore.KindAccess, u, view.ClientID, view.FamilyID,
		scope, now, now.Add(s.cfg.AccessTTL))

	var res tokenstore.ExchangeResult
	err := s.withStore(ctx, func(sc context.Context) (err error) {
		res, err = s.cfg.Store.Exchange(sc, tokenstore.ExchangeRequest{
			Old: view.Digest, Kind: tokenstore.KindRefresh, Now: now,
			Grace: s.cfg.RefreshGrace, New: []tokenstore.Token{rt, at},
		})
		return err
	})
	if errors.Is(err, tokenstore.ErrNotFound) {
		return invalidGrant("refresh token is invalid")
	}
	if err != nil {
		return err
	}

	switch res.Outcome {
	case tokenstore.Exchanged, tokenstore.Replayed:
		if len(res.Successors) == 2 {
			rt, at = res.Successors[0], res.Successors[1]
		}
		s.cfg.Cache.Put(cacheEntry(at, view.Email))
		return writeTokens(ctx, tokenResponse{
			AccessToken: access, TokenType: "Bearer", ExpiresIn: expiresIn(at, now),
			RefreshToken: refresh, Scope: at.Scope,
		})
	case tokenstore.Reused:
		s.log.Warn("refresh token reuse; family revoked",
			"client_id", view.ClientID, "user_id", view.UserID, "family", view.FamilyID)
		if err := s.cfg.Cache.Invalidate(ctx, tokencache.Invalidation{
			Kind: tokencache.InvalidateFamily, ID: view.FamilyID,
		}); err != nil {
			return err
		}
		return invalidGrant("refresh token was already used; the session is revoked")
	}
	return invalidGrant("refresh token is expired or revoked")
}

// narrowScope checks a scope parameter of a refresh request: RFC 6749 §6
// allows asking for a subset of the original scope, nothing more. Empty
// keeps the original.
func narrowScope(requested, original string) (string, error) {
	if requested == "" {
		return original, nil
	}
	return grantScope(requested, strings.Fields(original))
}
