package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/tokenstore"
)

// ClientRequest is the body of POST /admin/clients.
type ClientRequest struct {
	Name         string   `json:"name"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
	RedirectURIs []string `json:"redirect_uris"`
	Public       bool     `json:"public"`
	FirstParty   bool     `json:"first_party"`
}

// ClientResponse describes a client. ClientSecret is set only in the answer
// to its creation: authd keeps a digest and cannot show it again.
type ClientResponse struct {
	ClientID     string    `json:"client_id"`
	ClientSecret string    `json:"client_secret,omitempty"`
	Name         string    `json:"name"`
	GrantTypes   []string  `json:"grant_types"`
	Scopes       []string  `json:"scopes"`
	RedirectURIs []string  `json:"redirect_uris"`
	Public       bool      `json:"public"`
	FirstParty   bool      `json:"first_party"`
	CreatedAt    time.Time `json:"created_at"`
}

func clientResponse(c tokenstore.Client) ClientResponse {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return ClientResponse{
		ClientID: c.ID, Name: c.Name, GrantTypes: nonNil(c.GrantTypes),
		Scopes: nonNil(c.Scopes), RedirectURIs: nonNil(c.RedirectURIs),
		Public: c.Public, FirstParty: c.FirstParty, CreatedAt: c.CreatedAt,
	}
}

func (s *Server) createClient(ctx *fasthttp.RequestCtx) error {
	var req ClientRequest
	if err := decodeJSON(ctx, &req); err != nil {
		return err
	}
	c, secret, err := s.NewClient(ctx, "", req)
	if err != nil {
		return err
	}
	resp := clientResponse(c)
	resp.ClientSecret = secret
	ctx.Response.Header.Set("Cache-Control", "no-store")
	return writeJSON(ctx, fasthttp.StatusCreated, resp)
}

// NewClient validates req and registers a client with the given id (a
// random one when empty). It returns the client and, for a confidential
// client, its secret: shown once, stored only as a keyed digest.
func (s *Server) NewClient(ctx context.Context, id string, req ClientRequest) (
	tokenstore.Client, string, error) {
	if err := checkClient(req); err != nil {
		return tokenstore.Client{}, "", err
	}
	if id == "" {
		id = randomString(16)
	}
	c := tokenstore.Client{
		ID: id, Name: req.Name, GrantTypes: req.GrantTypes, Scopes: req.Scopes,
		RedirectURIs: req.RedirectURIs, Public: req.Public, FirstParty: req.FirstParty,
		CreatedAt: s.now().UTC(),
	}
	var secret string
	if !req.Public {
		secret = "cs_" + randomString(32)
		c.SecretDigest = s.secretDigest(secret)
	}
	err := s.withStore(ctx, func(sc context.Context) error {
		return s.cfg.Store.CreateClient(sc, c)
	})
	if errors.Is(err, tokenstore.ErrExists) {
		return tokenstore.Client{}, "", errorf(fasthttp.StatusConflict, "client_exists",
			"a client with this id already exists")
	}
	if err != nil {
		return tokenstore.Client{}, "", err
	}
	s.clients.forget(id)
	return c, secret, nil
}

// checkClient validates a client registration.
func checkClient(req ClientRequest) error {
	bad := func(format string, args ...any) error {
		return errorf(fasthttp.StatusBadRequest, "invalid_client_metadata", format, args...)
	}
	if req.Name == "" || len(req.Name) > 200 || !validText(req.Name) {
		return bad("name is required: up to 200 printable characters")
	}
	if len(req.GrantTypes) == 0 {
		return bad("grant_types is required")
	}
	for _, g := range req.GrantTypes {
		if !slices.Contains(grantTypes, g) {
			return bad("unknown grant type %q", truncate(g, 40))
		}
	}
	if req.Public && slices.Contains(req.GrantTypes, grantClientCredentials) {
		return bad("a public client cannot use client_credentials")
	}
	if len(req.Scopes) > 100 {
		return bad("too many scopes")
	}
	if scopes, err := parseScope(strings.Join(req.Scopes, " ")); err != nil ||
		len(scopes) != len(req.Scopes) {
		return bad("scopes must be distinct RFC 6749 scope tokens")
	}
	if len(req.RedirectURIs) > 20 {
		return bad("too many redirect_uris")
	}
	for _, u := range req.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return bad("redirect_uri %q: %v", truncate(u, 80), err)
		}
	}
	return nil
}

// checkRedirectURI requires an absolute URI without a fragment (RFC 6749
// §3.1.2), on https or on plain http to a loopback host (RFC 8252 §7.3).
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !validText(raw) || len(raw) > 2000:
		return errors.New("not a valid URI")
	case u.Scheme == "" || u.Host == "" && u.Opaque == "":
		return errors.New("must be absolute")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("must not have a fragment")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return errors.New("plain http is allowed for loopback hosts only")
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1" ||
		strings.HasPrefix(host, "127.")
}

func (s *Server) listClients(ctx *fasthttp.RequestCtx) error {
	var cs []tokenstore.Client
	err := s.withStore(ctx, func(sc context.Context) (err error) {
		cs, err = s.cfg.Store.Clients(sc)
		return err
	})
	if err != nil {
		return err
	}
	out := make([]ClientResponse, 0, len(cs))
	for _, c := range cs {
		out = append(out, clientResponse(c))
	}
	return writeJSON(ctx, fasthttp.StatusOK, map[string]any{"clients": out})
}

// deleteClient removes a client; its tokens stop being active on every
// node before the call returns.
func (s *Server) deleteClient(ctx *fasthttp.RequestCtx) error {
	id, _ := ctx.UserValue("id").(string)
	err := s.withStore(ctx, func(sc context.Context) error {
		return s.cfg.Store.DeleteClient(sc, id)
	})
	if errors.Is(err, tokenstore.ErrNotFound) {
		return errorf(fasthttp.StatusNotFound, "not_found", "no such client")
	}
	if err != nil {
		return err
	}
	s.clients.forget(id)
	if err := s.cfg.Cache.Invalidate(ctx, tokencache.Invalidation{
		Kind: tokencache.InvalidateClient, ID: id,
	}); err != nil {
		return err
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// randomString returns n random bytes in base64url.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics if it cannot read)
	return base64.RawURLEncoding.EncodeToString(b)
}
