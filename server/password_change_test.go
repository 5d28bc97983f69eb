package server_test

import (
	"net/http"
	"testing"
)

func TestPasswordChangeLogsOutOtherDevices(t *testing.T) {
	e := newEnv(t)
	e.register("ola@example.com", goodPassword)
	intro := e.introspector()
	laptop := e.login("ola@example.com", goodPassword)
	phone := e.login("ola@example.com", goodPassword)
	e.active(intro, phone.Access) // cached on this node

	const newPassword = "a different and long passphrase"
	r := e.postJSON("/password", map[string]string{
		"current_password": goodPassword, "new_password": newPassword,
	}, laptop.Access)
	if r.status != http.StatusOK {
		t.Fatalf("password change: %d %s", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Error("token response without Cache-Control: no-store")
	}
	fresh := decodeTokens(t, r)

	for name, tok := range map[string]string{
		"laptop access": laptop.Access, "laptop refresh": laptop.Refresh,
		"phone access": phone.Access, "phone refresh": phone.Refresh,
	} {
		if e.active(intro, tok) {
			t.Errorf("%s still active after the password change", name)
		}
	}
	if r := e.refresh(phone.Refresh); r.status != 400 {
		t.Errorf("phone refresh after password change: %d %s", r.status, r.body)
	}
	if !e.active(intro, fresh.Access) || !e.active(intro, fresh.Refresh) {
		t.Error("the fresh token pair is not active")
	}
	if r := e.refresh(fresh.Refresh); r.status != http.StatusOK {
		t.Errorf("refresh of the fresh pair: %d %s", r.status, r.body)
	}

	bad := e.postForm("/token", map[string][]string{"grant_type": {"password"},
		"client_id": {"dashboard"}, "username": {"ola@example.com"}, "password": {goodPassword}}, "")
	if bad.status != 400 {
		t.Errorf("login with the old password: %d %s", bad.status, bad.body)
	}
	e.login("ola@example.com", newPassword)
}

func TestPasswordChangeRefusals(t *testing.T) {
	e := newEnv(t)
	e.register("pia@example.com", goodPassword)
	intro := e.introspector()
	tk := e.login("pia@example.com", goodPassword)
	cc := decodeTokens(t, e.postForm("/token", map[string][]string{
		"grant_type": {"client_credentials"}}, intro.basic()))

	tests := []struct {
		name       string
		bearer     string
		body       map[string]string
		wantStatus int
		wantCode   string
	}{
		{"wrong current password", tk.Access, map[string]string{
			"current_password": "not my password", "new_password": "another long passphrase"},
			403, "wrong_password"},
		{"weak new password", tk.Access, map[string]string{
			"current_password": goodPassword, "new_password": "password1234"}, 400, "weak_password"},
		{"missing field", tk.Access, map[string]string{"current_password": goodPassword},
			400, "invalid_request"},
		{"no token", "", map[string]string{
			"current_password": goodPassword, "new_password": "another long passphrase"},
			401, "invalid_token"},
		{"refresh token as bearer", tk.Refresh, map[string]string{
			"current_password": goodPassword, "new_password": "another long passphrase"},
			401, "invalid_token"},
		{"client token as bearer", cc.Access, map[string]string{
			"current_password": goodPassword, "new_password": "another long passphrase"},
			401, "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postJSON("/password", tt.body, tt.bearer)
			if r.status != tt.wantStatus || r.errorCode(t) != tt.wantCode {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.wantStatus, tt.wantCode)
			}
		})
	}
	// Nothing changed: the old password and the old tokens still work.
	if !e.active(intro, tk.Access) {
		t.Error("a refused password change revoked the caller's token")
	}
	e.login("pia@example.com", goodPassword)
}
