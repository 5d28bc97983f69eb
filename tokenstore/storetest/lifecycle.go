package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/authd/authd/tokenstore"
)

func testLifecycle(t *testing.T, open Opener) {
	subtest(t, open, "TimesRoundTrip", testTimesRoundTrip)
	subtest(t, open, "CancelledContext", testCancelledContext)
	subtest(t, open, "Close", testClose)
}

// Times come back as the same instant at microsecond precision at least,
// whatever their location.
func testTimesRoundTrip(t *testing.T, f *fixture) {
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)
	at := time.Date(2031, 7, 4, 23, 59, 58, 123456789, zone)
	end := time.Date(2101, 1, 2, 3, 4, 5, 999999999, zone)

	u := f.newUser()
	u.CreatedAt = at
	wantErr(t, "CreateUser", f.s.CreateUser(f.ctx, u), nil)
	if got := f.user(u.ID); !sameTime(got.CreatedAt, at) {
		t.Errorf("User.CreatedAt = %v, want %v", got.CreatedAt, at)
	}
	c := f.newClient()
	c.CreatedAt = at
	wantErr(t, "CreateClient", f.s.CreateClient(f.ctx, c), nil)
	if got, err := f.s.Client(f.ctx, c.ID); err != nil || !sameTime(got.CreatedAt, at) {
		t.Errorf("Client.CreatedAt = %v (%v), want %v", got.CreatedAt, err, at)
	}

	fam := f.newFamily(u, c)
	fam.ExpiresAt = end
	tok := f.newToken(tokenstore.KindRefresh, c, u, &fam)
	tok.IssuedAt, tok.ExpiresAt = at, end
	f.createTokens(&fam, tok)
	v := f.view(tok.Digest)
	if !sameTime(v.IssuedAt, at) || !sameTime(v.ExpiresAt, end) ||
		!sameTime(v.FamilyExpiresAt, end) {
		t.Errorf("token times {%v %v %v}, want {%v %v %v}", v.IssuedAt, v.ExpiresAt,
			v.FamilyExpiresAt, at, end, end)
	}

	f.exchange(tok, at, grace, tokenstore.Exchanged)
	if v := f.view(tok.Digest); !sameTime(v.UsedAt, at) {
		t.Errorf("UsedAt = %v, want %v", v.UsedAt, at)
	}

	got, err := f.s.LoginFailed(f.ctx, "k", at, func(int) time.Duration { return time.Second })
	wantErr(t, "LoginFailed", err, nil)
	stored, err := f.s.Throttle(f.ctx, "k")
	wantErr(t, "Throttle", err, nil)
	if want := at.Add(time.Second); !sameTime(got.LockedUntil, want) ||
		!sameTime(stored.LockedUntil, want) {
		t.Errorf("LockedUntil = %v and stored %v, want %v", got.LockedUntil,
			stored.LockedUntil, want)
	}
}

// A call with a cancelled context returns ctx.Err() and writes nothing.
func testCancelledContext(t *testing.T, f *fixture) {
	l := f.createLogin()
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()

	_, err := f.s.UserByID(ctx, l.user.ID)
	wantErr(t, "UserByID", err, context.Canceled)
	_, err = f.s.Token(ctx, l.access.Digest)
	wantErr(t, "Token", err, context.Canceled)

	u := f.newUser()
	wantErr(t, "CreateUser", f.s.CreateUser(ctx, u), context.Canceled)
	_, err = f.s.UserByID(f.ctx, u.ID)
	wantErr(t, "UserByID of a cancelled CreateUser", err, tokenstore.ErrNotFound)

	tok := f.newToken(tokenstore.KindAccess, l.client, l.user, &l.family)
	wantErr(t, "CreateTokens", f.s.CreateTokens(ctx, nil, tok), context.Canceled)
	_, err = f.s.Token(f.ctx, tok.Digest)
	wantErr(t, "Token of a cancelled CreateTokens", err, tokenstore.ErrNotFound)

	_, err = f.s.Exchange(ctx, tokenstore.ExchangeRequest{
		Old: l.refresh.Digest, Kind: tokenstore.KindRefresh, Now: f.now, Grace: grace,
		New: f.successors(l.refresh, f.now),
	})
	wantErr(t, "Exchange", err, context.Canceled)
	f.wantActive("refresh token after a cancelled Exchange", l.refresh.Digest, true)
}

// After Close every call fails.
func testClose(t *testing.T, f *fixture) {
	l := f.createLogin()
	wantErr(t, "Ping", f.s.Ping(f.ctx), nil)
	wantErr(t, "Close", f.s.Close(), nil)

	if f.s.Ping(f.ctx) == nil {
		t.Errorf("Ping after Close succeeded")
	}
	if _, err := f.s.UserByID(f.ctx, l.user.ID); err == nil {
		t.Errorf("UserByID after Close succeeded")
	}
	if _, err := f.s.Token(f.ctx, l.access.Digest); err == nil {
		t.Errorf("Token after Close succeeded")
	}
	tok := f.newToken(tokenstore.KindAccess, l.client, l.user, &l.family)
	if err := f.s.CreateTokens(f.ctx, nil, tok); err == nil {
		t.Errorf("CreateTokens after Close succeeded")
	}
	if _, err := f.s.RevokeToken(f.ctx, l.access.Digest); err == nil {
		t.Errorf("RevokeToken after Close succeeded")
	}
}
