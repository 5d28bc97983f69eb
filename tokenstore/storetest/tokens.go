package storetest

import (
	"testing"
	"time"

	"github.com/authd/authd/tokenstore"
)

func testTokens(t *testing.T, open Opener) {
	subtest(t, open, "WithFamily", testTokensWithFamily)
	subtest(t, open, "WithoutFamily", testTokensWithoutFamily)
	subtest(t, open, "Atomic", testCreateTokensAtomic)
	subtest(t, open, "NotFound", testTokenNotFound)
	subtest(t, open, "Inactive", testTokenInactive)
}

func testTokensWithFamily(t *testing.T, f *fixture) {
	u := f.newUser()
	u.Generation = 2
	wantErr(t, "CreateUser", f.s.CreateUser(f.ctx, u), nil)
	c := f.createClient()
	fam := f.newFamily(u, c)
	tokens := []tokenstore.Token{
		f.newToken(tokenstore.KindRefresh, c, u, &fam),
		f.newToken(tokenstore.KindAccess, c, u, &fam),
		f.newToken(tokenstore.KindCode, c, u, &fam),
	}
	f.createTokens(&fam, tokens...)

	for _, want := range tokens {
		v := f.view(want.Digest)
		if d := diffToken(v.Token, want); d != "" {
			t.Errorf("%s: %s", want.Kind, d)
		}
		switch {
		case v.Email != u.Email || v.CurrentGeneration != 2 || v.UserDisabled:
			t.Errorf("%s: user state {%q %d %v}, want {%q 2 false}", want.Kind,
				v.Email, v.CurrentGeneration, v.UserDisabled, u.Email)
		case v.FamilyRevoked || !sameTime(v.FamilyExpiresAt, fam.ExpiresAt):
			t.Errorf("%s: family state {%v %v}, want {false %v}", want.Kind,
				v.FamilyRevoked, v.FamilyExpiresAt, fam.ExpiresAt)
		case v.ClientGone:
			t.Errorf("%s: ClientGone", want.Kind)
		case !v.Active(f.now):
			t.Errorf("%s: not active", want.Kind)
		}
	}
}

func testTokensWithoutFamily(t *testing.T, f *fixture) {
	c := f.createClient()
	want := f.newToken(tokenstore.KindAccess, c, tokenstore.User{}, nil)
	want.ExpiresAt = f.now.Add(time.Hour)
	want.Scope = ""
	f.createTokens(nil, want)

	v := f.view(want.Digest)
	if d := diffToken(v.Token, want); d != "" {
		t.Errorf("Token: %s", d)
	}
	if v.Email != "" || v.CurrentGeneration != 0 || v.UserDisabled {
		t.Errorf("user state of a client token: {%q %d %v}, want zero",
			v.Email, v.CurrentGeneration, v.UserDisabled)
	}
	if v.FamilyRevoked || !v.FamilyExpiresAt.IsZero() || v.ClientGone {
		t.Errorf("family or client state of a client token: {%v %v %v}, want zero",
			v.FamilyRevoked, v.FamilyExpiresAt, v.ClientGone)
	}
	if !v.Active(f.now) {
		t.Errorf("client token not active")
	}
}

// CreateTokens stores all or nothing: a refused batch leaves no token and no
// family behind.
func testCreateTokensAtomic(t *testing.T, f *fixture) {
	l := f.createLogin()
	tests := []struct {
		name string
		// batch returns the family and tokens to store, all new except
		// for the conflict the case is about.
		batch func(fam tokenstore.Family) (*tokenstore.Family, []tokenstore.Token)
	}{
		{"duplicate digest in batch", func(fam tokenstore.Family) (*tokenstore.Family,
			[]tokenstore.Token) {
			a := f.newToken(tokenstore.KindRefresh, l.client, l.user, &fam)
			b := f.newToken(tokenstore.KindAccess, l.client, l.user, &fam)
			dup := b
			dup.Kind = tokenstore.KindRefresh
			return &fam, []tokenstore.Token{a, b, dup}
		}},
		{"digest in use", func(fam tokenstore.Family) (*tokenstore.Family, []tokenstore.Token) {
			a := f.newToken(tokenstore.KindRefresh, l.client, l.user, &fam)
			used := f.newToken(tokenstore.KindAccess, l.client, l.user, &fam)
			used.Digest = l.access.Digest
			return &fam, []tokenstore.Token{a, used}
		}},
		{"family in use", func(fam tokenstore.Family) (*tokenstore.Family, []tokenstore.Token) {
			taken := l.family
			a := f.newToken(tokenstore.KindRefresh, l.client, l.user, &taken)
			return &taken, []tokenstore.Token{a}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := f.in(t)
			fresh := f.newFamily(l.user, l.client)
			fam, tokens := tt.batch(fresh)
			err := f.s.CreateTokens(f.ctx, fam, tokens...)
			wantErr(t, "CreateTokens", err, tokenstore.ErrExists)

			for _, tok := range tokens {
				if tok.Digest == l.access.Digest {
					continue
				}
				_, err := f.s.Token(f.ctx, tok.Digest)
				wantErr(t, "Token of refused batch", err, tokenstore.ErrNotFound)
			}
			// The family ID of a refused batch is still free.
			if fam.ID == fresh.ID {
				ok := f.newToken(tokenstore.KindRefresh, l.client, l.user, &fresh)
				f.createTokens(&fresh, ok)
			}
			if d := diffToken(f.view(l.access.Digest).Token, l.access); d != "" {
				t.Errorf("token in use changed: %s", d)
			}
		})
	}
}

func testTokenNotFound(t *testing.T, f *fixture) {
	f.createLogin()
	_, err := f.s.Token(f.ctx, newDigest())
	wantErr(t, "Token", err, tokenstore.ErrNotFound)
}

// Each reason a token stops being active shows in its view, and Active
// reports it.
func testTokenInactive(t *testing.T, f *fixture) {
	tests := []struct {
		name string
		// familyTTL is how long after f.now the login's family ends.
		familyTTL time.Duration
		// refresh checks the login's refresh token instead of its access
		// token.
		refresh bool
		// act makes the checked token inactive and returns the time to
		// check it at.
		act func(f *fixture, l login) time.Time
		// shows reports whether the view shows the reason.
		shows func(v tokenstore.TokenView, l login) bool
	}{
		{name: "expired", act: func(f *fixture, l login) time.Time {
			return l.access.ExpiresAt
		}, shows: func(v tokenstore.TokenView, l login) bool {
			return sameTime(v.ExpiresAt, l.access.ExpiresAt)
		}},
		{name: "family expired", familyTTL: 10 * time.Minute,
			act: func(f *fixture, l login) time.Time {
				return l.family.ExpiresAt
			}, shows: func(v tokenstore.TokenView, l login) bool {
				return sameTime(v.FamilyExpiresAt, l.family.ExpiresAt)
			}},
		{name: "revoked", act: func(f *fixture, l login) time.Time {
			_, err := f.s.RevokeToken(f.ctx, l.access.Digest)
			wantErr(f.t, "RevokeToken", err, nil)
			return f.now
		}, shows: func(v tokenstore.TokenView, l login) bool { return v.Revoked }},
		{name: "family revoked", act: func(f *fixture, l login) time.Time {
			_, err := f.s.RevokeToken(f.ctx, l.refresh.Digest)
			wantErr(f.t, "RevokeToken", err, nil)
			return f.now
		}, shows: func(v tokenstore.TokenView, l login) bool { return v.FamilyRevoked }},
		{name: "user revoked", act: func(f *fixture, l login) time.Time {
			_, err := f.s.RevokeUser(f.ctx, l.user.ID)
			wantErr(f.t, "RevokeUser", err, nil)
			return f.now
		}, shows: func(v tokenstore.TokenView, l login) bool {
			return v.CurrentGeneration == v.UserGeneration+1
		}},
		{name: "user disabled", act: func(f *fixture, l login) time.Time {
			_, err := f.s.SetDisabled(f.ctx, l.user.ID, true)
			wantErr(f.t, "SetDisabled", err, nil)
			return f.now
		}, shows: func(v tokenstore.TokenView, l login) bool { return v.UserDisabled }},
		{name: "client gone", act: func(f *fixture, l login) time.Time {
			wantErr(f.t, "DeleteClient", f.s.DeleteClient(f.ctx, l.client.ID), nil)
			return f.now
		}, shows: func(v tokenstore.TokenView, l login) bool { return v.ClientGone }},
		{name: "used", refresh: true, act: func(f *fixture, l login) time.Time {
			f.exchange(l.refresh, f.now, 0, tokenstore.Exchanged)
			return f.now
		}, shows: func(v tokenstore.TokenView, l login) bool { return !v.UsedAt.IsZero() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := f.in(t)
			ttl := tt.familyTTL
			if ttl == 0 {
				ttl = 90 * 24 * time.Hour
			}
			l := f.createLoginUntil(f.createUser(), f.createClient(), f.now.Add(ttl))
			checked := l.access.Digest
			if tt.refresh {
				checked = l.refresh.Digest
			}
			f.wantActive("before", checked, true)

			at := tt.act(f, l)
			v := f.view(checked)
			if !tt.shows(v, l) {
				t.Errorf("view does not show the reason: %+v", v)
			}
			if v.Active(at) {
				t.Errorf("Active(%v) = true, want false", at)
			}
		})
	}
}
