// Package storetest is the conformance suite for tokenstore.Store. Every
// backend runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) tokenstore.Store { ... })
//	}
//
// The suite pins the rules stated in the doc comments of package tokenstore,
// plus the few choices those comments leave open that callers rely on; each
// such choice is named in the subtest that pins it.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authd/authd/tokenstore"
)

// Opener returns a fresh, empty store for one subtest. It registers its own
// cleanup with t.Cleanup; that cleanup must accept a store the suite has
// already closed. Opener is called from parallel subtests, so every call must
// return a store independent of all others (a new file, a new database or
// schema), never a shared one that is emptied between subtests.
type Opener func(t *testing.T) tokenstore.Store

// Run runs the whole suite against stores made by open. Subtests run in
// parallel with each other, each on its own store.
func Run(t *testing.T, open func(t *testing.T) tokenstore.Store) {
	groups := []struct {
		name string
		run  func(t *testing.T, open Opener)
	}{
		{"Users", testUsers},
		{"Throttle", testThrottle},
		{"Clients", testClients},
		{"Tokens", testTokens},
		{"Exchange", testExchange},
		{"RevokeToken", testRevokeToken},
		{"DeleteExpired", testDeleteExpired},
		{"Secret", testSecret},
		{"Lifecycle", testLifecycle},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, open) })
	}
}

// subtest runs fn as a parallel subtest of t on a fresh store wrapped in a
// fixture.
func subtest(t *testing.T, open Opener, name string, fn func(t *testing.T, f *fixture)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		fn(t, &fixture{t: t, s: open(t), ctx: t.Context(), now: now()})
	})
}

// fixture is one subtest's store with helpers that build and store valid
// records; every helper fails the test on an unexpected error.
type fixture struct {
	t   *testing.T
	s   tokenstore.Store
	ctx context.Context
	// now is the subtest's reference time: records are issued at it.
	now time.Time
}

// in returns a copy of f for the sub-subtest t, sharing f's store.
func (f *fixture) in(t *testing.T) *fixture {
	c := *f
	c.t = t
	return &c
}

// now returns the current time with a nanosecond part that a store keeping
// only microseconds cannot keep, so that every round trip checks the
// truncation rule.
func now() time.Time {
	return time.Now().Truncate(time.Microsecond).Add(789 * time.Nanosecond)
}

// randomHex returns n random bytes in lowercase hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newDigest returns a random digest.
func newDigest() tokenstore.Digest {
	var d tokenstore.Digest
	_, _ = rand.Read(d[:])
	return d
}

// newUUID returns a random UUID in canonical form (version 4).
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newUser returns an unsaved user with a random ID and email.
func (f *fixture) newUser() tokenstore.User {
	return tokenstore.User{
		ID:           newUUID(),
		Email:        "user-" + randomHex(6) + "@example.com",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$" + randomHex(16) + "$" + randomHex(32),
		CreatedAt:    f.now,
	}
}

// newClient returns an unsaved confidential client with a random ID.
func (f *fixture) newClient() tokenstore.Client {
	return tokenstore.Client{
		ID:           randomHex(8),
		SecretDigest: []byte(randomHex(16)),
		Name:         "client " + randomHex(4),
		GrantTypes:   []string{"password", "refresh_token", "client_credentials"},
		Scopes:       []string{"openid", "profile", "introspect"},
		RedirectURIs: []string{"https://app.example.com/callback"},
		FirstParty:   true,
		CreatedAt:    f.now,
	}
}

// newFamily returns an unsaved family of u and c that ends in 90 days.
func (f *fixture) newFamily(u tokenstore.User, c tokenstore.Client) tokenstore.Family {
	return tokenstore.Family{
		ID:        randomHex(16),
		UserID:    u.ID,
		ClientID:  c.ID,
		ExpiresAt: f.now.Add(90 * 24 * time.Hour),
		CreatedAt: f.now,
	}
}

// newToken returns an unsaved token of kind with a random digest, issued to
// c at f.now. With u and fam it belongs to that user and family; pass the
// zero User and a nil family for a client-credentials token.
func (f *fixture) newToken(kind tokenstore.Kind, c tokenstore.Client, u tokenstore.User,
	fam *tokenstore.Family) tokenstore.Token {
	tok := tokenstore.Token{
		Digest:         newDigest(),
		Kind:           kind,
		ClientID:       c.ID,
		UserID:         u.ID,
		UserGeneration: u.Generation,
		Scope:          "openid profile",
		IssuedAt:       f.now,
		ExpiresAt:      f.now.Add(15 * time.Minute),
	}
	if fam != nil {
		tok.FamilyID = fam.ID
	}
	switch kind {
	case tokenstore.KindRefresh:
		tok.ExpiresAt = f.now.Add(30 * 24 * time.Hour)
	case tokenstore.KindCode:
		tok.ExpiresAt = f.now.Add(time.Minute)
		tok.RedirectURI = "https://app.example.com/callback"
		tok.CodeChallenge = randomHex(21)
	}
	return tok
}

// createUser stores a new user and returns it.
func (f *fixture) createUser() tokenstore.User {
	f.t.Helper()
	u := f.newUser()
	if err := f.s.CreateUser(f.ctx, u); err != nil {
		f.t.Fatalf("CreateUser: %v", err)
	}
	return u
}

// createClient stores a new client and returns it.
func (f *fixture) createClient() tokenstore.Client {
	f.t.Helper()
	c := f.newClient()
	if err := f.s.CreateClient(f.ctx, c); err != nil {
		f.t.Fatalf("CreateClient: %v", err)
	}
	return c
}

// login is what a password grant stores: a family with one refresh token and
// one access token.
type login struct {
	user    tokenstore.User
	client  tokenstore.Client
	family  tokenstore.Family
	refresh tokenstore.Token
	access  tokenstore.Token
}

// createLogin stores a new user, client, family, refresh and access token.
func (f *fixture) createLogin() login {
	f.t.Helper()
	u, c := f.createUser(), f.createClient()
	return f.createLoginOf(u, c)
}

// createLoginOf stores a new family of u and c with a refresh and an access
// token.
func (f *fixture) createLoginOf(u tokenstore.User, c tokenstore.Client) login {
	f.t.Helper()
	return f.createLoginUntil(u, c, f.newFamily(u, c).ExpiresAt)
}

// createLoginUntil is createLoginOf with a family that ends at end.
func (f *fixture) createLoginUntil(u tokenstore.User, c tokenstore.Client, end time.Time) login {
	f.t.Helper()
	fam := f.newFamily(u, c)
	fam.ExpiresAt = end
	l := login{
		user: u, client: c, family: fam,
		refresh: f.newToken(tokenstore.KindRefresh, c, u, &fam),
		access:  f.newToken(tokenstore.KindAccess, c, u, &fam),
	}
	if err := f.s.CreateTokens(f.ctx, &fam, l.refresh, l.access); err != nil {
		f.t.Fatalf("CreateTokens: %v", err)
	}
	return l
}

// createTokens stores tokens (and fam when not nil).
func (f *fixture) createTokens(fam *tokenstore.Family, tokens ...tokenstore.Token) {
	f.t.Helper()
	if err := f.s.CreateTokens(f.ctx, fam, tokens...); err != nil {
		f.t.Fatalf("CreateTokens: %v", err)
	}
}

// view returns the stored view of d.
func (f *fixture) view(d tokenstore.Digest) tokenstore.TokenView {
	f.t.Helper()
	v, err := f.s.Token(f.ctx, d)
	if err != nil {
		f.t.Fatalf("Token: %v", err)
	}
	return v
}

// user returns the stored user id.
func (f *fixture) user(id string) tokenstore.User {
	f.t.Helper()
	u, err := f.s.UserByID(f.ctx, id)
	if err != nil {
		f.t.Fatalf("UserByID: %v", err)
	}
	return u
}

// wantActive fails the test unless the stored token d is active at f.now
// exactly when want is.
func (f *fixture) wantActive(name string, d tokenstore.Digest, want bool) {
	f.t.Helper()
	if got := f.view(d).Active(f.now); got != want {
		f.t.Errorf("%s: Active = %v, want %v", name, got, want)
	}
}

// wantErr fails the test unless err matches target (nil: no error).
func wantErr(t *testing.T, op string, err, target error) {
	t.Helper()
	switch {
	case target == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", op, err)
	case target != nil && !errors.Is(err, target):
		t.Fatalf("%s: error %v, want %v", op, err, target)
	}
}

// sameTime reports whether a and b name the same instant at microsecond
// precision, the precision every store must keep.
func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

// sameStrings compares string slices, taking nil and empty as equal.
func sameStrings(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b))
}

// diffUser returns a description of the first field where got differs from
// want, or "".
func diffUser(got, want tokenstore.User) string {
	switch {
	case got.ID != want.ID:
		return "ID " + got.ID + ", want " + want.ID
	case got.Email != want.Email:
		return "Email " + got.Email + ", want " + want.Email
	case got.PasswordHash != want.PasswordHash:
		return "PasswordHash differs"
	case got.Disabled != want.Disabled:
		return "Disabled differs"
	case got.Generation != want.Generation:
		return "Generation differs"
	case !sameTime(got.CreatedAt, want.CreatedAt):
		return "CreatedAt " + got.CreatedAt.String() + ", want " + want.CreatedAt.String()
	}
	return ""
}

// diffClient is diffUser for clients.
func diffClient(got, want tokenstore.Client) string {
	switch {
	case got.ID != want.ID:
		return "ID " + got.ID + ", want " + want.ID
	case !bytes.Equal(got.SecretDigest, want.SecretDigest):
		return "SecretDigest differs"
	case got.Name != want.Name:
		return "Name " + got.Name + ", want " + want.Name
	case !sameStrings(got.GrantTypes, want.GrantTypes):
		return "GrantTypes differ"
	case !sameStrings(got.Scopes, want.Scopes):
		return "Scopes differ"
	case !sameStrings(got.RedirectURIs, want.RedirectURIs):
		return "RedirectURIs differ"
	case got.Public != want.Public || got.FirstParty != want.FirstParty:
		return "Public or FirstParty differs"
	case !sameTime(got.CreatedAt, want.CreatedAt):
		return "CreatedAt " + got.CreatedAt.String() + ", want " + want.CreatedAt.String()
	}
	return ""
}

// diffToken is diffUser for tokens.
func diffToken(got, want tokenstore.Token) string {
	switch {
	case got.Digest != want.Digest:
		return "Digest differs"
	case got.Kind != want.Kind:
		return "Kind " + got.Kind.String() + ", want " + want.Kind.String()
	case got.ClientID != want.ClientID || got.UserID != want.UserID:
		return "ClientID or UserID differs"
	case got.FamilyID != want.FamilyID:
		return "FamilyID " + got.FamilyID + ", want " + want.FamilyID
	case got.Scope != want.Scope:
		return "Scope " + got.Scope + ", want " + want.Scope
	case got.UserGeneration != want.UserGeneration:
		return "UserGeneration differs"
	case !sameTime(got.IssuedAt, want.IssuedAt) || !sameTime(got.ExpiresAt, want.ExpiresAt):
		return "IssuedAt or ExpiresAt differs"
	case got.Revoked != want.Revoked:
		return "Revoked differs"
	case !sameTime(got.UsedAt, want.UsedAt) || got.Successor != want.Successor:
		return "UsedAt or Successor differs"
	case got.RedirectURI != want.RedirectURI || got.CodeChallenge != want.CodeChallenge:
		return "RedirectURI or CodeChallenge differs"
	}
	return ""
}
