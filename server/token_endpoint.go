package server

import (
	"slices"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/tokenstore"
)

// Grant types, as RFC 6749 names them.
const (
	grantPassword          = "password"
	grantRefreshToken      = "refresh_token"
	grantClientCredentials = "client_credentials"
	grantAuthorizationCode = "authorization_code"
)

// grantTypes are the grant types a client may be registered for.
var grantTypes = []string{
	grantPassword, grantRefreshToken, grantClientCredentials, grantAuthorizationCode,
}

// token is the token endpoint (RFC 6749 §3.2). It authenticates the client,
// checks that the client may use the grant, and hands over to the grant's
// flow.
func (s *Server) token(ctx *fasthttp.RequestCtx) error {
	f, err := parseForm(ctx)
	if err != nil {
		return err
	}
	grant := f.get("grant_type")
	var flow func(*fasthttp.RequestCtx, form, tokenstore.Client) error
	switch grant {
	case "":
		return invalidRequest("grant_type is required")
	case grantPassword:
		flow = s.passwordGrant
	case grantRefreshToken:
		flow = s.refreshGrant
	case grantClientCredentials:
		flow = s.clientCredentialsGrant
	default:
		return errorf(fasthttp.StatusBadRequest, "unsupported_grant_type",
			"grant type %q is not supported", truncate(grant, 40))
	}

	c, err := s.authenticateClient(ctx, f)
	if err != nil {
		return err
	}
	if !slices.Contains(c.GrantTypes, grant) {
		return errorf(fasthttp.StatusBadRequest, "unauthorized_client",
			"client is not allowed to use the %s grant", grant)
	}
	return flow(ctx, f, c)
}
