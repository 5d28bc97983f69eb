package storetest

import (
	"testing"
	"time"

	"github.com/authd/authd/tokenstore"
)

func testDeleteExpired(t *testing.T, open Opener) {
	subtest(t, open, "Batches", testDeleteExpiredBatches)
	subtest(t, open, "NothingExpired", testDeleteNothingExpired)
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
