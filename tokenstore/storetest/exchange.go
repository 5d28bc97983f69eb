package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/tokenstore"
)

// grace is the replay window the exchange tests use.
const grace = 5 * time.Second

func testExchange(t *testing.T, open Opener) {
	subtest(t, open, "Exchanged", testExchanged)
	subtest(t, open, "Replayed", testReplayed)
	subtest(t, open, "ReplayRevoked", testReplayRevoked)
	subtest(t, open, "Reused", testReused)
	subtest(t, open, "InactiveNotUsed", testExchangeInactive)
	subtest(t, open, "NotFound", testExchangeNotFound)
	subtest(t, open, "NewDigestInUse", testExchangeNewInUse)
	subtest(t, open, "ConcurrentReplay", func(t *testing.T, f *fixture) {
		testConcurrentExchange(t, f, grace, tokenstore.Replayed)
	})
	subtest(t, open, "ConcurrentReuse", func(t *testing.T, f *fixture) {
		testConcurrentExchange(t, f, 0, tokenstore.Reused)
	})
}

// successors returns what exchanging old issues: a refresh token and an
// access token of the same family, issued at now.
func (f *fixture) successors(old tokenstore.Token, now time.Time) []tokenstore.Token {
	next := []tokenstore.Token{
		{Kind: tokenstore.KindRefresh, ExpiresAt: now.Add(30 * 24 * time.Hour)},
		{Kind: tokenstore.KindAccess, ExpiresAt: now.Add(15 * time.Minute)},
	}
	for i := range next {
		next[i].Digest = newDigest()
		next[i].ClientID, next[i].UserID = old.ClientID, old.UserID
		next[i].FamilyID, next[i].UserGeneration = old.FamilyID, old.UserGeneration
		next[i].Scope, next[i].IssuedAt = old.Scope, now
	}
	return next
}

// exchange exchanges old for fresh successors at now and fails the test
// unless the outcome is want. It returns the result and the successors it
// asked for.
func (f *fixture) exchange(old tokenstore.Token, now time.Time, grace time.Duration,
	want int) (tokenstore.ExchangeResult, []tokenstore.Token) {
	f.t.Helper()
	next := f.successors(old, now)
	res, err := f.s.Exchange(f.ctx, tokenstore.ExchangeRequest{
		Old: old.Digest, Kind: old.Kind, Now: now, Grace: grace, New: next,
	})
	if err != nil {
		f.t.Fatalf("Exchange: %v", err)
	}
	if res.Outcome != want {
		f.t.Fatalf("Exchange outcome = %d, want %d", res.Outcome, want)
	}
	return res, next
}

// createCode stores an authorization code of a new family of u and c.
func (f *fixture) createCode(u tokenstore.User, c tokenstore.Client) tokenstore.Token {
	f.t.Helper()
	fam := f.newFamily(u, c)
	code := f.newToken(tokenstore.KindCode, c, u, &fam)
	f.createTokens(&fam, code)
	return code
}

func testExchanged(t *testing.T, f *fixture) {
	l := f.createLogin()
	tests := []struct {
		name string
		old  tokenstore.Token
	}{
		{"refresh token", l.refresh},
		{"authorization code", f.createCode(l.user, l.client)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := f.in(t)
			at := f.now.Add(time.Second)
			res, next := f.exchange(tt.old, at, grace, tokenstore.Exchanged)

			if d := diffToken(res.Old.Token, tt.old); d != "" {
				t.Errorf("result Old is not the token as found: %s", d)
			}
			if res.Old.Email != l.user.Email || !res.Old.Active(at) {
				t.Errorf("result Old view: Email %q Active %v, want %q true",
					res.Old.Email, res.Old.Active(at), l.user.Email)
			}
			wantTokens(t, "Successors", res.Successors, next)

			stored := f.view(tt.old.Digest)
			if !sameTime(stored.UsedAt, at) || stored.Successor != next[0].Digest {
				t.Errorf("old token after exchange: UsedAt %v Successor ok %v, want %v true",
					stored.UsedAt, stored.Successor == next[0].Digest, at)
			}
			f.wantActive("old token", tt.old.Digest, false)
			for _, n := range next {
				if d := diffToken(f.view(n.Digest).Token, n); d != "" {
					t.Errorf("stored %s: %s", n.Kind, d)
				}
				f.wantActive("new "+n.Kind.String(), n.Digest, true)
			}
		})
	}
}

// wantTokens fails the test unless got and want hold the same tokens in the
// same order.
func wantTokens(t *testing.T, what string, got, want []tokenstore.Token) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d tokens, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := diffToken(got[i], want[i]); d != "" {
			t.Errorf("%s[%d]: %s", what, i, d)
		}
	}
}

// A retry inside the grace window with the same successor writes nothing and
// returns the tokens stored by the first exchange, not the retry's.
func testReplayed(t *testing.T, f *fixture) {
	l := f.createLogin()
	used := f.now.Add(time.Second)
	_, first := f.exchange(l.refresh, used, grace, tokenstore.Exchanged)

	retry := f.successors(l.refresh, used.Add(grace/2))
	for i := range retry {
		retry[i].Digest = first[i].Digest
	}
	res, err := f.s.Exchange(f.ctx, tokenstore.ExchangeRequest{
		Old: l.refresh.Digest, Kind: tokenstore.KindRefresh, Now: used.Add(grace / 2),
		Grace: grace, New: retry,
	})
	wantErr(t, "Exchange", err, nil)
	if res.Outcome != tokenstore.Replayed {
		t.Fatalf("Outcome = %d, want Replayed", res.Outcome)
	}
	wantTokens(t, "Successors", res.Successors, first)
	if !sameTime(res.Old.UsedAt, used) || res.Old.Successor != first[0].Digest {
		t.Errorf("result Old: UsedAt %v, want %v and the first successor", res.Old.UsedAt, used)
	}

	if v := f.view(l.refresh.Digest); !sameTime(v.UsedAt, used) || v.FamilyRevoked {
		t.Errorf("old token after replay: UsedAt %v FamilyRevoked %v, want %v false",
			v.UsedAt, v.FamilyRevoked, used)
	}
	for _, n := range first {
		f.wantActive("successor after replay", n.Digest, true)
	}
}

// A retry inside the grace window of a token whose family was revoked since
// gets Outcome 0: the successors are not handed out again.
func testReplayRevoked(t *testing.T, f *fixture) {
	l := f.createLogin()
	used := f.now.Add(time.Second)
	_, first := f.exchange(l.refresh, used, grace, tokenstore.Exchanged)
	_, err := f.s.RevokeToken(f.ctx, first[0].Digest)
	wantErr(t, "RevokeToken", err, nil)

	res, err := f.s.Exchange(f.ctx, tokenstore.ExchangeRequest{
		Old: l.refresh.Digest, Kind: tokenstore.KindRefresh, Now: used.Add(grace / 2),
		Grace: grace, New: first,
	})
	wantErr(t, "Exchange", err, nil)
	if res.Outcome != 0 || res.Successors != nil {
		t.Fatalf("Outcome %d with %d successors, want 0 with none",
			res.Outcome, len(res.Successors))
	}
	if res.Old.Digest != l.refresh.Digest || !res.Old.FamilyRevoked {
		t.Errorf("result Old is not the revoked token's view")
	}
}

// Presenting a used token again outside the grace window, or for another
// successor, is theft: the whole family is revoked.
func testReused(t *testing.T, f *fixture) {
	tests := []struct {
		name  string
		grace time.Duration
		// after is how long after the exchange the token comes back.
		after time.Duration
		// sameNext presents the first exchange's successor again.
		sameNext bool
	}{
		{"after grace", grace, grace, true},
		{"long after grace", grace, time.Hour, true},
		{"other successor within grace", grace, time.Second, false},
		{"no grace", 0, 0, true},
		// A used token is a reuse whatever else happened to it since.
		{"after expiry", grace, 31 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := f.in(t)
			l := f.createLogin()
			other := f.createLoginOf(l.user, l.client)
			used := f.now.Add(time.Second)
			_, first := f.exchange(l.refresh, used, tt.grace, tokenstore.Exchanged)

			again := f.successors(l.refresh, used.Add(tt.after))
			if tt.sameNext {
				again[0].Digest = first[0].Digest
			}
			res, err := f.s.Exchange(f.ctx, tokenstore.ExchangeRequest{
				Old: l.refresh.Digest, Kind: tokenstore.KindRefresh, Now: used.Add(tt.after),
				Grace: tt.grace, New: again,
			})
			wantErr(t, "Exchange", err, nil)
			if res.Outcome != tokenstore.Reused || res.Successors != nil {
				t.Fatalf("Outcome %d with %d successors, want Reused with none",
					res.Outcome, len(res.Successors))
			}
			if res.Old.Digest != l.refresh.Digest || res.Old.UsedAt.IsZero() {
				t.Errorf("result Old is not the used token as found")
			}
			family := []tokenstore.Digest{l.refresh.Digest, l.access.Digest,
				first[0].Digest, first[1].Digest}
			for _, d := range family {
				if v := f.view(d); !v.FamilyRevoked || v.Active(f.now) {
					t.Errorf("family token after reuse: FamilyRevoked %v Active %v",
						v.FamilyRevoked, v.Active(f.now))
				}
			}
			_, err = f.s.Token(f.ctx, again[1].Digest)
			wantErr(t, "Token of a reuse's successor", err, tokenstore.ErrNotFound)
			f.wantActive("other family's token", other.refresh.Digest, true)
		})
	}
}

// An unused token that exists but is inactive gets Outcome 0 and its view,
// and nothing is written.
func testExchangeInactive(t *testing.T, f *fixture) {
	tests := []struct {
		name      string
		familyTTL time.Duration
		// act makes l.refresh inactive and returns when to present it.
		act func(f *fixture, l login) time.Time
	}{
		{name: "expired", act: func(f *fixture, l login) time.Time {
			return l.refresh.ExpiresAt
		}},
		{name: "family expired", familyTTL: time.Hour, act: func(f *fixture, l login) time.Time {
			return l.family.ExpiresAt.Add(time.Second)
		}},
		{name: "revoked", act: func(f *fixture, l login) time.Time {
			_, err := f.s.RevokeToken(f.ctx, l.refresh.Digest)
			wantErr(f.t, "RevokeToken", err, nil)
			return f.now
		}},
		{name: "user revoked", act: func(f *fixture, l login) time.Time {
			_, err := f.s.RevokeUser(f.ctx, l.user.ID)
			wantErr(f.t, "RevokeUser", err, nil)
			return f.now
		}},
		{name: "user disabled", act: func(f *fixture, l login) time.Time {
			_, err := f.s.SetDisabled(f.ctx, l.user.ID, true)
			wantErr(f.t, "SetDisabled", err, nil)
			return f.now
		}},
		{name: "client gone", act: func(f *fixture, l login) time.Time {
			wantErr(f.t, "DeleteClient", f.s.DeleteClient(f.ctx, l.client.ID), nil)
			return f.now
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := f.in(t)
			ttl := tt.familyTTL
			if ttl == 0 {
				ttl = 90 * 24 * time.Hour
			}
			l := f.createLoginUntil(f.createUser(), f.createClient(), f.now.Add(ttl))
			at := tt.act(f, l)
			before := f.view(l.refresh.Digest)

			next := f.successors(l.refresh, at)
			res, err := f.s.Exchange(f.ctx, tokenstore.ExchangeRequest{
				Old: l.refresh.Digest, Kind: tokenstore.KindRefresh, Now: at, Grace: grace,
				New: next,
			})
			wantErr(t, "Exchange", err, nil)
			if res.Outcome != 0 || res.Successors != nil {
				t.Fatalf("Outcome %d with %d successors, want 0 with none",
					res.Outcome, len(res.Successors))
			}
			if d := diffToken(res.Old.Token, before.Token); d != "" {
				t.Errorf("result Old: %s", d)
			}
			after := f.view(l.refresh.Digest)
			if d := diffToken(after.Token, before.Token); d != "" ||
				after.FamilyRevoked != before.FamilyRevoked {
				t.Errorf("old token changed: %s (FamilyRevoked %v, was %v)", d,
					after.FamilyRevoked, before.FamilyRevoked)
			}
			_, err = f.s.Token(f.ctx, next[0].Digest)
			wantErr(t, "Token of a refused successor", err, tokenstore.ErrNotFound)
		})
	}
}

func testExchangeNotFound(t *testing.T, f *fixture) {
	l := f.createLogin()
	tests := []struct {
		name string
		old  tokenstore.Digest
		kind tokenstore.Kind
	}{
		{"unknown digest", newDigest(), tokenstore.KindRefresh},
		{"access token", l.access.Digest, tokenstore.KindRefresh},
		{"refresh token as code", l.refresh.Digest, tokenstore.KindCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := f.in(t)
			next := f.successors(l.refresh, f.now)
			_, err := f.s.Exchange(f.ctx, tokenstore.ExchangeRequest{
				Old: tt.old, Kind: tt.kind, Now: f.now, Grace: grace, New: next,
			})
			wantErr(t, "Exchange", err, tokenstore.ErrNotFound)
			_, err = f.s.Token(f.ctx, next[0].Digest)
			wantErr(t, "Token of a refused successor", err, tokenstore.ErrNotFound)
		})
	}
	f.wantActive("refresh token", l.refresh.Digest, true)
	f.wantActive("access token", l.access.Digest, true)
}

func testExchangeNewInUse(t *testing.T, f *fixture) {
	l := f.createLogin()
	next := f.successors(l.refresh, f.now)
	next[1].Digest = l.access.Digest
	_, err := f.s.Exchange(f.ctx, tokenstore.ExchangeRequest{
		Old: l.refresh.Digest, Kind: tokenstore.KindRefresh, Now: f.now, Grace: grace,
		New: next,
	})
	wantErr(t, "Exchange", err, tokenstore.ErrExists)
	if v := f.view(l.refresh.Digest); !v.UsedAt.IsZero() || !v.Active(f.now) {
		t.Errorf("old token after refused exchange: UsedAt %v Active %v", v.UsedAt, v.Active(f.now))
	}
	_, err = f.s.Token(f.ctx, next[0].Digest)
	wantErr(t, "Token of a refused successor", err, tokenstore.ErrNotFound)
}

// Of many concurrent exchanges of one token for the same successor, exactly
// one wins; the others are replays inside the grace window and reuses
// without one.
func testConcurrentExchange(t *testing.T, f *fixture, grace time.Duration, rest int) {
	const n = 32
	l := f.createLogin()
	req := tokenstore.ExchangeRequest{
		Old: l.refresh.Digest, Kind: tokenstore.KindRefresh, Now: f.now, Grace: grace,
		New: f.successors(l.refresh, f.now),
	}
	results := make([]tokenstore.ExchangeResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = f.s.Exchange(f.ctx, req) })
	}
	wg.Wait()

	counts := map[int]int{}
	for i, res := range results {
		wantErr(t, "Exchange", errs[i], nil)
		counts[res.Outcome]++
		if res.Outcome != tokenstore.Reused {
			wantTokens(t, "Successors", res.Successors, req.New)
		}
	}
	if counts[tokenstore.Exchanged] != 1 || counts[rest] != n-1 {
		t.Fatalf("outcomes %v, want one Exchanged (%d) and %d of %d",
			counts, tokenstore.Exchanged, n-1, rest)
	}
	f.wantActive("successor", req.New[0].Digest, rest == tokenstore.Replayed)
}
