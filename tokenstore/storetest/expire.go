package storetest

import (
	"testing"
	"time"

	"github.com/authd/authd/tokenstore"
)

func testDeleteExpired(t *testing.T, open Opener) {
	subtest(t, open, "Batches", testDeleteExpiredBatches)
	subtest(t, open, "NothingExpired", testDeleteNothingExpired)
	subtest(t, open, "OldThrottles", testDeleteOldThrottles)
}

// expiring returns an unsaved token like tok that expires at end.
func expiring(tok tokenstore.Token, end time.Time) tokenstore.Token {
	tok.ExpiresAt = end
	return tok
}

// DeleteExpired removes tokens that expired before its cutoff and families
// past their end with no token left, in batches of at most limit rows, and
// nothing else.
func testDeleteExpiredBatches(t *testing.T, f *fixture) {
	const limit = 3
	u, c := f.createUser(), f.createClient()
	before := f.now.Add(time.Hour)
	var gone, kept []tokenstore.Digest
	// add stores a token on its own; with fam it joins that family, created
	// by an earlier CreateTokens with no tokens.
	add := func(fam *tokenstore.Family, end time.Time, list *[]tokenstore.Digest) {
		tok := expiring(f.newToken(tokenstore.KindAccess, c, u, fam), end)
		f.createTokens(nil, tok)
		*list = append(*list, tok.Digest)
	}

	// A family that ends before the cutoff, with all its tokens: all go.
	ended := f.newFamily(u, c)
	ended.ExpiresAt = f.now.Add(30 * time.Minute)
	f.createTokens(&ended)
	add(&ended, f.now.Add(15*time.Minute), &gone)
	add(&ended, f.now.Add(20*time.Minute), &gone)
	// A live family loses its expired token only.
	live := f.newFamily(u, c)
	f.createTokens(&live)
	add(&live, f.now.Add(15*time.Minute), &gone)
	add(&live, f.now.Add(30*24*time.Hour), &kept)
	// A live family stays even when all its tokens are gone.
	drained := f.newFamily(u, c)
	f.createTokens(&drained)
	add(&drained, f.now.Add(15*time.Minute), &gone)
	// An ended family stays while a token of it has not expired.
	outlived := f.newFamily(u, c)
	outlived.ExpiresAt = ended.ExpiresAt
	f.createTokens(&outlived)
	add(&outlived, before.Add(time.Hour), &kept)
	// Client tokens: those that expired strictly before the cutoff go.
	for range 5 {
		add(nil, f.now.Add(-time.Minute), &gone)
	}
	add(nil, before, &kept)
	add(nil, before.Add(time.Minute), &kept)

	total := deleteAll(t, f, before, limit)
	if want := len(gone) + 1; total != want {
		t.Errorf("deleted %d rows, want %d (%d tokens, 1 family)", total, want, len(gone))
	}
	for _, d := range gone {
		_, err := f.s.Token(f.ctx, d)
		wantErr(t, "Token of an expired token", err, tokenstore.ErrNotFound)
	}
	for _, d := range kept {
		f.view(d)
	}
	wantFamily(t, f, ended, false)
	wantFamily(t, f, live, true)
	wantFamily(t, f, drained, true)
	wantFamily(t, f, outlived, true)
}

// deleteAll calls DeleteExpired until it deletes nothing, checking that no
// call deletes more than limit rows, and returns the total.
func deleteAll(t *testing.T, f *fixture, before time.Time, limit int) int {
	t.Helper()
	total := 0
	for range 100 {
		n, err := f.s.DeleteExpired(f.ctx, before, limit)
		wantErr(t, "DeleteExpired", err, nil)
		if n > limit || n < 0 {
			t.Fatalf("DeleteExpired(limit %d) = %d", limit, n)
		}
		if n == 0 {
			return total
		}
		total += n
	}
	t.Fatalf("DeleteExpired did not finish after 100 calls (%d rows)", total)
	return total
}

// wantFamily fails the test unless fam's ID is still in use exactly when
// exists is, probing with CreateTokens.
func wantFamily(t *testing.T, f *fixture, fam tokenstore.Family, exists bool) {
	t.Helper()
	err := f.s.CreateTokens(f.ctx, &fam)
	switch {
	case exists:
		wantErr(t, "CreateTokens with a kept family's ID", err, tokenstore.ErrExists)
	default:
		wantErr(t, "CreateTokens with a deleted family's ID", err, nil)
	}
}

func testDeleteNothingExpired(t *testing.T, f *fixture) {
	l := f.createLogin()
	n, err := f.s.DeleteExpired(f.ctx, f.now, 1000)
	wantErr(t, "DeleteExpired", err, nil)
	if n != 0 {
		t.Errorf("DeleteExpired = %d, want 0", n)
	}
	f.wantActive("access token", l.access.Digest, true)
	f.wantActive("refresh token", l.refresh.Digest, true)
}

// DeleteExpired forgets an account key's failed logins once its lock ended
// more than ThrottleRetention before the cutoff, and not before.
func testDeleteOldThrottles(t *testing.T, f *fixture) {
	noLock := func(int) time.Duration { return 0 }
	locked := func(int) time.Duration { return time.Hour }
	if _, err := f.s.LoginFailed(f.ctx, "old", f.now, noLock); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.LoginFailed(f.ctx, "locked", f.now, locked); err != nil {
		t.Fatal(err)
	}

	// A day minus a minute after the first lock ended: both stay.
	deleteAll(t, f, f.now.Add(tokenstore.ThrottleRetention-time.Minute), 1)
	for _, key := range []string{"old", "locked"} {
		if th, _ := f.s.Throttle(f.ctx, key); th.Failures != 1 {
			t.Errorf("throttle %q forgotten too early: %+v", key, th)
		}
	}
	// A minute past a day after it: the first goes, the one locked an hour
	// longer stays.
	deleteAll(t, f, f.now.Add(tokenstore.ThrottleRetention+time.Minute), 1)
	if th, _ := f.s.Throttle(f.ctx, "old"); th.Failures != 0 {
		t.Errorf("old throttle kept: %+v", th)
	}
	if th, _ := f.s.Throttle(f.ctx, "locked"); th.Failures != 1 {
		t.Errorf("throttle locked until later forgotten: %+v", th)
	}
	// A key that failed again keeps counting from its new lock.
	if _, err := f.s.LoginFailed(f.ctx, "locked", f.now.Add(2*time.Hour), noLock); err != nil {
		t.Fatal(err)
	}
	deleteAll(t, f, f.now.Add(tokenstore.ThrottleRetention+90*time.Minute), 1)
	if th, _ := f.s.Throttle(f.ctx, "locked"); th.Failures != 2 {
		t.Errorf("throttle with a recent failure forgotten: %+v", th)
	}
}
