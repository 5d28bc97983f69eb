package server

import (
	"github.com/valyala/fasthttp"

	"github.com/authd/authd/tokenstore"
)

// passwordGrant is the resource owner password credentials grant (RFC 6749
// §4.3), offered to first-party clients only: a third-party app must never
// see a user's password.
func (s *Server) passwordGrant(ctx *fasthttp.RequestCtx, f form, c tokenstore.Client) error {
	if !c.FirstParty {
		return errorf(fasthttp.StatusBadRequest, "unauthorized_client",
			"the password grant is for first-party clients only")
	}
	email, pw := f.get("username"), f.get("password")
	if email == "" || pw == "" {
		return invalidRequest("username and password are required")
	}
	scope, err := grantScope(f.get("scope"), userScopes(c))
	if err != nil {
		return err
	}
	if err := s.limitCredentials(ctx); err != nil {
		return err
	}
	u, err := s.checkLogin(ctx, email, pw)
	if err != nil {
		return err
	}
	resp, err := s.issueLogin(ctx, u, c, scope)
	if err != nil {
		return err
	}
	return writeTokens(ctx, resp)
}
