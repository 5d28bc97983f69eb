package storetest

import (
	"strings"
	"testing"

	"github.com/authd/authd/tokenstore"
)

func testUsers(t *testing.T, open Opener) {
	subtest(t, open, "CreateAndLookup", testCreateUser)
	subtest(t, open, "EmailStoredLowerCase", testUserEmailLowerCase)
	subtest(t, open, "EmailTaken", testUserEmailTaken)
	subtest(t, open, "IDExists", testUserIDExists)
	subtest(t, open, "NotFound", testUserNotFound)
	subtest(t, open, "SetPasswordHash", testSetPasswordHash)
	subtest(t, open, "RevokeUser", testRevokeUser)
	subtest(t, open, "SetDisabled", testSetDisabled)
}

func testCreateUser(t *testing.T, f *fixture) {
	u := f.newUser()
	u.Generation = 7
	u.Disabled = true
	if err := f.s.CreateUser(f.ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if d := diffUser(f.user(u.ID), u); d != "" {
		t.Errorf("UserByID: %s", d)
	}
	got, err := f.s.UserByEmail(f.ctx, u.Email)
	wantErr(t, "UserByEmail", err, nil)
	if d := diffUser(got, u); d != "" {
		t.Errorf("UserByEmail: %s", d)
	}
}

// The store lower-cases the email it is given, so the lower-cased form
// finds the user and a differently-cased duplicate is refused.
func testUserEmailLowerCase(t *testing.T, f *fixture) {
	u := f.newUser()
	lower := u.Email
	u.Email = strings.ToUpper(lower[:1]) + lower[1:5] + strings.ToUpper(lower[5:])
	wantErr(t, "CreateUser", f.s.CreateUser(f.ctx, u), nil)

	if got := f.user(u.ID); got.Email != lower {
		t.Errorf("stored Email = %q, want %q", got.Email, lower)
	}
	got, err := f.s.UserByEmail(f.ctx, lower)
	wantErr(t, "UserByEmail", err, nil)
	if got.ID != u.ID {
		t.Errorf("UserByEmail(%q).ID = %q, want %q", lower, got.ID, u.ID)
	}
}

func testUserEmailTaken(t *testing.T, f *fixture) {
	first := f.createUser()
	second := f.newUser()
	second.Email = strings.ToUpper(first.Email)

	wantErr(t, "CreateUser", f.s.CreateUser(f.ctx, second), tokenstore.ErrEmailTaken)
	_, err := f.s.UserByID(f.ctx, second.ID)
	wantErr(t, "UserByID of refused user", err, tokenstore.ErrNotFound)
	got, err := f.s.UserByEmail(f.ctx, first.Email)
	wantErr(t, "UserByEmail", err, nil)
	if d := diffUser(got, first); d != "" {
		t.Errorf("first user changed: %s", d)
	}
}

func testUserIDExists(t *testing.T, f *fixture) {
	first := f.createUser()
	second := f.newUser()
	second.ID = first.ID

	wantErr(t, "CreateUser", f.s.CreateUser(f.ctx, second), tokenstore.ErrExists)
	_, err := f.s.UserByEmail(f.ctx, second.Email)
	wantErr(t, "UserByEmail of refused user", err, tokenstore.ErrNotFound)
	if d := diffUser(f.user(first.ID), first); d != "" {
		t.Errorf("first user changed: %s", d)
	}
}

func testUserNotFound(t *testing.T, f *fixture) {
	f.createUser()
	id := newUUID()
	_, err := f.s.UserByID(f.ctx, id)
	wantErr(t, "UserByID", err, tokenstore.ErrNotFound)
	_, err = f.s.UserByEmail(f.ctx, "nobody@example.com")
	wantErr(t, "UserByEmail", err, tokenstore.ErrNotFound)
	_, err = f.s.SetPasswordHash(f.ctx, id, "a", "b", true)
	wantErr(t, "SetPasswordHash", err, tokenstore.ErrNotFound)
	_, err = f.s.RevokeUser(f.ctx, id)
	wantErr(t, "RevokeUser", err, tokenstore.ErrNotFound)
	_, err = f.s.SetDisabled(f.ctx, id, true)
	wantErr(t, "SetDisabled", err, tokenstore.ErrNotFound)
}

func testSetPasswordHash(t *testing.T, f *fixture) {
	tests := []struct {
		name       string
		staleOld   bool
		revoke     bool
		wantErr    error
		wantGen    uint64
		wantActive bool
	}{
		{name: "keep tokens", wantGen: 0, wantActive: true},
		{name: "revoke tokens", revoke: true, wantGen: 1, wantActive: false},
		{name: "stale hash", staleOld: true, revoke: true, wantErr: tokenstore.ErrConflict,
			wantGen: 0, wantActive: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := f.in(t)
			l := f.createLogin()
			old, next := l.user.PasswordHash, l.user.PasswordHash+"-new"
			if tt.staleOld {
				old += "-stale"
			}
			got, err := f.s.SetPasswordHash(f.ctx, l.user.ID, old, next, tt.revoke)
			wantErr(t, "SetPasswordHash", err, tt.wantErr)

			want := l.user
			want.Generation = tt.wantGen
			if tt.wantErr == nil {
				want.PasswordHash = next
				if d := diffUser(got, want); d != "" {
					t.Errorf("returned user: %s", d)
				}
			}
			if d := diffUser(f.user(l.user.ID), want); d != "" {
				t.Errorf("stored user: %s", d)
			}
			f.wantActive("access token", l.access.Digest, tt.wantActive)
			f.wantActive("refresh token", l.refresh.Digest, tt.wantActive)
		})
	}
}

func testRevokeUser(t *testing.T, f *fixture) {
	l := f.createLogin()
	other := f.createLoginOf(f.createUser(), l.client)

	got, err := f.s.RevokeUser(f.ctx, l.user.ID)
	wantErr(t, "RevokeUser", err, nil)
	if got.Generation != l.user.Generation+1 {
		t.Errorf("Generation = %d, want %d", got.Generation, l.user.Generation+1)
	}
	if f.user(l.user.ID).Generation != got.Generation {
		t.Errorf("stored Generation differs from returned")
	}
	v := f.view(l.access.Digest)
	if v.CurrentGeneration != got.Generation || v.Active(f.now) {
		t.Errorf("old token: CurrentGeneration %d, Active %v; want %d, false",
			v.CurrentGeneration, v.Active(f.now), got.Generation)
	}
	f.wantActive("old refresh token", l.refresh.Digest, false)
	f.wantActive("other user's token", other.access.Digest, true)

	// Tokens issued after the revocation are valid.
	again := f.createLoginOf(got, l.client)
	f.wantActive("token issued after revocation", again.access.Digest, true)
}

func testSetDisabled(t *testing.T, f *fixture) {
	l := f.createLogin()

	got, err := f.s.SetDisabled(f.ctx, l.user.ID, true)
	wantErr(t, "SetDisabled(true)", err, nil)
	if !got.Disabled || got.Generation != l.user.Generation+1 {
		t.Errorf("disabled user: Disabled %v Generation %d, want true %d",
			got.Disabled, got.Generation, l.user.Generation+1)
	}
	v := f.view(l.access.Digest)
	if !v.UserDisabled || v.Active(f.now) {
		t.Errorf("token of disabled user: UserDisabled %v Active %v", v.UserDisabled, v.Active(f.now))
	}

	got, err = f.s.SetDisabled(f.ctx, l.user.ID, false)
	wantErr(t, "SetDisabled(false)", err, nil)
	if got.Disabled || got.Generation != l.user.Generation+1 {
		t.Errorf("enabled user: Disabled %v Generation %d, want false %d",
			got.Disabled, got.Generation, l.user.Generation+1)
	}
	if d := diffUser(f.user(l.user.ID), got); d != "" {
		t.Errorf("stored user: %s", d)
	}
	v = f.view(l.access.Digest)
	if v.UserDisabled || v.Active(f.now) {
		t.Errorf("old token after enable: UserDisabled %v Active %v, want false false",
			v.UserDisabled, v.Active(f.now))
	}
	again := f.createLoginOf(got, l.client)
	f.wantActive("token issued after enable", again.access.Digest, true)
}
