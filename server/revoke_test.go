package server_test

import (
	"net/http"
	"net/url"
	"testing"
)

func TestRevokeAccessToken(t *testing.T) {
	e := newEnv(t)
	e.register("lea@example.com", goodPassword)
	intro := e.introspector()
	tk := e.login("lea@example.com", goodPassword)
	if !e.active(intro, tk.Access) { // now cached
		t.Fatal("access token not active")
	}

	r := e.postForm("/revoke", url.Values{"token": {tk.Access}, "client_id": {"dashboard"},
		"token_type_hint": {"access_token"}}, "")
	if r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if e.active(intro, tk.Access) {
		t.Error("revoked access token still active (served from the cache?)")
	}
	// Revoking an access token leaves the login's refresh token alone.
	if r := e.refresh(tk.Refresh); r.status != http.StatusOK {
		t.Errorf("refresh after revoking only the access token: %d %s", r.status, r.body)
	}
}

func TestRevokeRefreshTokenRevokesFamily(t *testing.T) {
	e := newEnv(t)
	e.register("max@example.com", goodPassword)
	intro := e.introspector()
	tk := e.login("max@example.com", goodPassword)
	next := decodeTokens(t, e.refresh(tk.Refresh))
	other := e.login("max@example.com", goodPassword) // another device, another family
	for _, a := range []string{tk.Access, next.Access, other.Access} {
		e.active(intro, a)
	}

	r := e.postForm("/revoke", url.Values{"token": {next.Refresh}, "client_id": {"dashboard"}}, "")
	if r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	for name, tok := range map[string]string{
		"first access": tk.Access, "second access": next.Access, "refresh": next.Refresh,
	} {
		if e.active(intro, tok) {
			t.Errorf("%s still active after its family was revoked", name)
		}
	}
	if r := e.refresh(next.Refresh); r.status != 400 {
		t.Errorf("refresh with a revoked token: %d %s", r.status, r.body)
	}
	if !e.active(intro, other.Access) {
		t.Error("revoking one login's family logged out another device")
	}
}

func TestRevokeRules(t *testing.T) {
	e := newEnv(t)
	e.register("ned@example.com", goodPassword)
	intro := e.introspector()
	svc := e.newClient([]string{"client_credentials"}, nil)
	tk := e.login("ned@example.com", goodPassword)

	tests := []struct {
		name       string
		form       url.Values
		auth       string
		wantStatus int
	}{
		{"unknown token", url.Values{"token": {"at_unknown"}, "client_id": {"dashboard"}}, "", 200},
		{"another client's token", url.Values{"token": {tk.Access}}, svc.basic(), 400},
		{"no client", url.Values{"token": {tk.Access}}, "", 401},
		{"no token", url.Values{"client_id": {"dashboard"}}, "", 400},
		{"bad hint", url.Values{"token": {tk.Access}, "client_id": {"dashboard"},
			"token_type_hint": {"id_token"}}, "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.postForm("/revoke", tt.form, tt.auth); r.status != tt.wantStatus {
				t.Errorf("got %d %s, want %d", r.status, r.body, tt.wantStatus)
			}
		})
	}
	if !e.active(intro, tk.Access) {
		t.Error("a refused revocation revoked the token")
	}
	cc := decodeTokens(t, e.postForm("/token", url.Values{"grant_type": {"client_credentials"}},
		svc.basic()))
	if r := e.postForm("/revoke", url.Values{"token": {cc.Access}}, svc.basic()); r.status != 200 {
		t.Fatalf("revoke own client token: %d %s", r.status, r.body)
	}
	if e.active(intro, cc.Access) {
		t.Error("revoked client-credentials token still active")
	}
}
