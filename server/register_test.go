package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

func TestRegister(t *testing.T) {
	e := newEnv(t)
	id := e.register("Alice@Example.com", goodPassword)
	if len(id) != 36 {
		t.Errorf("user_id = %q, want a UUID", id)
	}

	tests := []struct {
		name       string
		email, pw  string
		wantStatus int
		wantCode   string
	}{
		{"same email other case", "alice@EXAMPLE.com", goodPassword, 409, "email_taken"},
		{"no at sign", "alice.example.com", goodPassword, 400, "invalid_email"},
		{"empty email", "", goodPassword, 400, "invalid_email"},
		{"display name", "Alice <bob@example.com>", goodPassword, 400, "invalid_email"},
		{"control character", "bob\x01@example.com", goodPassword, 400, "invalid_email"},
		{"too long", strings.Repeat("a", 250) + "@example.com", goodPassword, 400, "invalid_email"},
		{"short password", "bob@example.com", "short", 400, "weak_password"},
		{"common password", "bob@example.com", "password1234", 400, "weak_password"},
		{"password is the email", "bob@example.com", "bob@example.com", 400, "weak_password"},
		{"password too long", "bob@example.com", strings.Repeat("x", 1025), 400, "weak_password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postJSON("/register", map[string]string{"email": tt.email, "password": tt.pw}, "")
			if r.status != tt.wantStatus || r.errorCode(t) != tt.wantCode {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.wantStatus, tt.wantCode)
			}
			if d, _ := r.json(t)["error_description"].(string); d == "" {
				t.Error("error_description is empty; it must say why")
			}
		})
	}

	// None of the rejected requests created an account.
	for _, email := range []string{"bob@example.com", "alice.example.com"} {
		r := e.adminDo(http.MethodGet, "/admin/users?email="+email, nil)
		if r.status != http.StatusNotFound {
			t.Errorf("after rejected registrations, %s: %d %s", email, r.status, r.body)
		}
	}
	// The first registration is the one that counts.
	r := e.adminDo(http.MethodGet, "/admin/users?email=alice@example.com", nil)
	if got := r.json(t)["user_id"]; got != id {
		t.Errorf("stored user id = %v, want %s", got, id)
	}
}

func TestRegisterContentType(t *testing.T) {
	e := newEnv(t)
	body := `{"email":"carol@example.com","password":"` + goodPassword + `"}`
	tests := []struct {
		name, contentType string
		want              int
	}{
		{"form", "application/x-www-form-urlencoded", 415},
		{"text", "text/plain", 415},
		{"none", "", 415},
		{"json with charset", "application/json; charset=utf-8", 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.base+"/register", bytes.NewBufferString(body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if r := e.do(req); r.status != tt.want {
				t.Errorf("status %d %s, want %d", r.status, r.body, tt.want)
			}
		})
	}
}
