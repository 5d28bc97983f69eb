package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/tokenstore"
)

// scopeIntrospect lets a client call /introspect. It is a capability of the
// client, never granted to user tokens.
const scopeIntrospect = "introspect"

// tokenResponse is the body of a successful token response (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// writeTokens answers with tokens. RFC 6749 §5.1: responses carrying tokens
// must not be cached.
func writeTokens(ctx *fasthttp.RequestCtx, r tokenResponse) error {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Response.Header.Set("Pragma", "no-cache")
	return writeJSON(ctx, fasthttp.StatusOK, r)
}

// userScopes are the scopes a client may request for a user's tokens.
func userScopes(c tokenstore.Client) []string {
	return slices.DeleteFunc(slices.Clone(c.Scopes), func(s string) bool {
		return s == scopeIntrospect
	})
}

// issueLogin starts a new refresh token family for u at client c (a
// password login, a code exchange, a password change) and stores its first
// refresh and access tokens.
func (s *Server) issueLogin(ctx context.Context, u tokenstore.User, c tokenstore.Client,
	scope string) (tokenResponse, error) {
	now := s.now()
	fam := &tokenstore.Family{
		ID: newFamilyID(), UserID: u.ID, ClientID: c.ID,
		ExpiresAt: now.Add(s.cfg.RefreshMaxAge), CreatedAt: now,
	}
	refresh, err := s.cfg.Keys.New(tokenstore.KindRefresh)
	if err != nil {
		return tokenResponse{}, err
	}
	access, err := s.cfg.Keys.New(tokenstore.KindAccess)
	if err != nil {
		return tokenResponse{}, err
	}
	rt := s.userToken(refresh, tokenstore.KindRefresh, u, c.ID, fam.ID, scope, now,
		minTime(now.Add(s.cfg.RefreshTTL), fam.ExpiresAt))
	at := s.userToken(access, tokenstore.KindAccess, u, c.ID, fam.ID, scope, now,
		now.Add(s.cfg.AccessTTL))

	sctx, cancel := s.storeContext(ctx)
	defer cancel()
	if err := s.cfg.Store.CreateTokens(sctx, fam, rt, at); err != nil {
		return tokenResponse{}, err
	}
	s.cfg.Cache.Put(cacheEntry(at, u.Email))
	return tokenResponse{
		AccessToken: access, TokenType: "Bearer", ExpiresIn: expiresIn(at, now),
		RefreshToken: refresh, Scope: scope,
	}, nil
}

func (s *Server) userToken(plain string, kind tokenstore.Kind, u tokenstore.User, clientID,
	familyID, scope string, now, exp time.Time) tokenstore.Token {
	return tokenstore.Token{
		Digest: tokenstore.DigestOf(plain), Kind: kind, ClientID: clientID, UserID: u.ID,
		FamilyID: familyID, Scope: scope, UserGeneration: u.Generation,
		IssuedAt: now, ExpiresAt: exp,
	}
}

// cacheEntry is what the token cache keeps of t.
func cacheEntry(t tokenstore.Token, email string) tokencache.Entry {
	return tokencache.Entry{
		Digest: t.Digest, Kind: t.Kind, UserID: t.UserID, Email: email,
		ClientID: t.ClientID, Scope: t.Scope, FamilyID: t.FamilyID,
		Generation: t.UserGeneration, IssuedAt: t.IssuedAt.Unix(), ExpiresAt: t.ExpiresAt.Unix(),
	}
}

// expiresIn is the token's remaining lifetime in whole seconds, rounded to
// the nearest so that stores keeping microseconds do not shave a second off.
func expiresIn(t tokenstore.Token, now time.Time) int64 {
	return max(int64(t.ExpiresAt.Sub(now).Round(time.Second)/time.Second), 0)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func newFamilyID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand panics if it cannot read)
	return hex.EncodeToString(b[:])
}

// storeContext bounds one store call of a request.
func (s *Server) storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.StoreTimeout)
}

func (s *Server) storeTimeout() time.Duration { return s.cfg.StoreTimeout }

// secondsCeil rounds d up to whole seconds, at least 1, for Retry-After.
func secondsCeil(d time.Duration) int {
	return max(int((d+time.Second-1)/time.Second), 1)
}
