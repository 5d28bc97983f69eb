package server

import (
	"bytes"
	"context"
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/tokenstore"
)

// changePassword lets a logged-in user change their password. It revokes
// every token of the user on every node (one generation bump) and answers
// with a fresh token pair for the calling client, so the device that made
// the change stays logged in and every other one is logged out.
func (s *Server) changePassword(ctx *fasthttp.RequestCtx) error {
	e, err := s.bearerUser(ctx)
	if err != nil {
		return err
	}
	var req struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decodeJSON(ctx, &req); err != nil {
		return err
	}
	if req.Current == "" || req.New == "" {
		return invalidRequest("current_password and new_password are required")
	}
	if err := s.limitCredentials(ctx); err != nil {
		return err
	}
	if err := s.checkPassword(req.New, e.Email); err != nil {
		return err
	}
	u, err := s.verifyCurrent(ctx, e.UserID, req.Current)
	if err != nil {
		return err
	}
	cc, err := s.clients.get(ctx, e.ClientID, s.storeTimeout())
	if err != nil {
		return err
	}

	hash, err := s.cfg.Hasher.Hash(ctx, []byte(req.New))
	if err != nil {
		return hashError(err)
	}
	err = s.withStore(ctx, func(sc context.Context) (err error) {
		u, err = s.cfg.Store.SetPasswordHash(sc, u.ID, u.PasswordHash, hash, true)
		return err
	})
	if errors.Is(err, tokenstore.ErrConflict) {
		return errorf(fasthttp.StatusConflict, "conflict",
			"the password was changed by another request; log in again")
	}
	if err != nil {
		return err
	}
	if err := s.cfg.Cache.Invalidate(ctx, tokencache.Invalidation{
		Kind: tokencache.InvalidateUser, ID: u.ID, Generation: u.Generation,
	}); err != nil {
		return err
	}
	resp, err := s.issueLogin(ctx, u, cc.client, e.Scope)
	if err != nil {
		return err
	}
	return writeTokens(ctx, resp)
}

// verifyCurrent checks the user's current password under the same
// per-account backoff as a login. A wrong password is 403 and changes
// nothing.
func (s *Server) verifyCurrent(ctx context.Context, userID, pw string) (tokenstore.User, error) {
	var u tokenstore.User
	err := s.withStore(ctx, func(sc context.Context) (err error) {
		u, err = s.cfg.Store.UserByID(sc, userID)
		return err
	})
	if err != nil {
		return u, err
	}
	key := throttleKey(u.Email)
	if _, err := s.throttle(ctx, key); err != nil {
		return u, err
	}
	wrong := errorf(fasthttp.StatusForbidden, "wrong_password", "current password is wrong")
	if len(pw) > s.cfg.Policy.MaxLen {
		return u, wrong
	}
	ok, _, err := s.cfg.Hasher.Verify(ctx, []byte(pw), u.PasswordHash)
	if err != nil {
		return u, hashError(err)
	}
	if !ok {
		if err := s.loginFailed(ctx, key); !errors.Is(err, errBadLogin) {
			return u, err
		}
		return u, wrong
	}
	return u, nil
}

// bearerToken is what a password change needs of its bearer token.
type bearerToken struct {
	UserID, Email, ClientID, Scope string
}

// bearerUser authenticates a request by its bearer access token (RFC 6750
// §2.1). Only user tokens qualify.
func (s *Server) bearerUser(ctx *fasthttp.RequestCtx) (bearerToken, error) {
	invalid := &Error{
		Code: "invalid_token", Description: "a valid user access token is required",
		Status:    fasthttp.StatusUnauthorized,
		Challenge: `Bearer realm="authd", error="invalid_token"`,
	}
	auth := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
	const prefix = "bearer "
	if len(auth) <= len(prefix) || !bytes.EqualFold(auth[:len(prefix)], []byte(prefix)) {
		invalid.Challenge = `Bearer realm="authd"`
		return bearerToken{}, invalid
	}
	tok := string(bytes.TrimSpace(auth[len(prefix):]))
	var v tokencache.View
	_, active, err := s.lookup(ctx, tok, nil, &v)
	if err != nil {
		return bearerToken{}, err
	}
	if !active || v.Kind != tokenstore.KindAccess || len(v.UserID) == 0 {
		return bearerToken{}, invalid
	}
	return bearerToken{
		UserID: string(v.UserID), Email: string(v.Email), ClientID: v.ClientID, Scope: v.Scope,
	}, nil
}
