package storetest

import (
	"testing"

	"github.com/authd/authd/tokenstore"
)

func testRevokeToken(t *testing.T, open Opener) {
	subtest(t, open, "Scope", testRevokeScope)
	subtest(t, open, "Twice", testRevokeTwice)
	subtest(t, open, "NotFound", testRevokeNotFound)
}

// Revoking an access token ends only that token; revoking a refresh token or
// a code ends its whole family and nothing else.
func testRevokeScope(t *testing.T, f *fixture) {
	tests := []struct {
		name string
		// pick returns the token to revoke from l and a code of l's user.
		pick func(l login, code tokenstore.Token) tokenstore.Token
		// familyEnds reports whether l's family ends with it.
		familyEnds bool
	}{
		{"access token", func(l login, _ tokenstore.Token) tokenstore.Token { return l.access },
			false},
		{"refresh token", func(l login, _ tokenstore.Token) tokenstore.Token { return l.refresh },
			true},
		{"authorization code", func(_ login, c tokenstore.Token) tokenstore.Token { return c },
			false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := f.in(t)
			l := f.createLogin()
			other := f.createLoginOf(l.user, l.client)
			codeFamily := f.newFamily(l.user, l.client)
			code := f.newToken(tokenstore.KindCode, l.client, l.user, &codeFamily)
			sibling := f.newToken(tokenstore.KindAccess, l.client, l.user, &codeFamily)
			f.createTokens(&codeFamily, code, sibling)
			cc := f.newToken(tokenstore.KindAccess, l.client, tokenstore.User{}, nil)
			f.createTokens(nil, cc)

			target := tt.pick(l, code)
			got, err := f.s.RevokeToken(f.ctx, target.Digest)
			wantErr(t, "RevokeToken", err, nil)
			if d := diffToken(got, target); d != "" {
				t.Errorf("returned token is not the token as it was: %s", d)
			}
			f.wantActive("revoked token", target.Digest, false)

			f.wantActive("family's access token", l.access.Digest, target != l.access &&
				!tt.familyEnds)
			f.wantActive("family's refresh token", l.refresh.Digest, !tt.familyEnds)
			f.wantActive("code's family token", sibling.Digest, target != code)
			f.wantActive("other family's token", other.refresh.Digest, true)
			f.wantActive("client token", cc.Digest, true)
		})
	}
}

func testRevokeTwice(t *testing.T, f *fixture) {
	l := f.createLogin()
	cc := f.newToken(tokenstore.KindAccess, l.client, tokenstore.User{}, nil)
	f.createTokens(nil, cc)
	for _, d := range []tokenstore.Digest{l.refresh.Digest, cc.Digest} {
		_, err := f.s.RevokeToken(f.ctx, d)
		wantErr(t, "RevokeToken", err, nil)
		got, err := f.s.RevokeToken(f.ctx, d)
		wantErr(t, "second RevokeToken", err, nil)
		if !got.Revoked {
			t.Errorf("second RevokeToken returned an unrevoked token")
		}
		f.wantActive("revoked token", d, false)
	}
}

func testRevokeNotFound(t *testing.T, f *fixture) {
	f.createLogin()
	_, err := f.s.RevokeToken(f.ctx, newDigest())
	wantErr(t, "RevokeToken", err, tokenstore.ErrNotFound)
}
