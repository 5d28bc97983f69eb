package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAdminRevokeUser(t *testing.T) {
	e := newEnv(t)
	uid := e.register("quinn@example.com", goodPassword)
	intro := e.introspector()
	a := e.login("quinn@example.com", goodPassword)
	b := e.login("quinn@example.com", goodPassword)
	e.active(intro, a.Access)

	r := e.adminDo(http.MethodPost, "/admin/users/"+uid+"/revoke", nil)
	if r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	for _, tok := range []string{a.Access, a.Refresh, b.Access, b.Refresh} {
		if e.active(intro, tok) {
			t.Error("token still active after admin revoke")
		}
	}
	// Tokens issued afterwards are valid.
	c := e.login("quinn@example.com", goodPassword)
	if !e.active(intro, c.Access) {
		t.Error("token issued after the revocation is not active")
	}
	if r := e.adminDo(http.MethodPost, "/admin/users/00000000-0000-4000-8000-000000000000/revoke",
		nil); r.status != http.StatusNotFound {
		t.Errorf("revoke unknown user: %d %s", r.status, r.body)
	}
}

func TestAdminDisableEnable(t *testing.T) {
	e := newEnv(t)
	uid := e.register("ray@example.com", goodPassword)
	intro := e.introspector()
	tk := e.login("ray@example.com", goodPassword)
	e.active(intro, tk.Access)

	r := e.adminDo(http.MethodPost, "/admin/users/"+uid+"/disable", nil)
	if r.status != http.StatusOK || r.json(t)["disabled"] != true {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	if e.active(intro, tk.Access) {
		t.Error("token of a disabled account still active")
	}
	login := e.postForm("/token", url.Values{"grant_type": {"password"}, "client_id": {"dashboard"},
		"username": {"ray@example.com"}, "password": {goodPassword}}, "")
	if login.status != 400 || login.errorCode(t) != "invalid_grant" {
		t.Errorf("login while disabled: %d %s", login.status, login.body)
	}

	r = e.adminDo(http.MethodPost, "/admin/users/"+uid+"/enable", nil)
	if r.status != http.StatusOK || r.json(t)["disabled"] != false {
		t.Fatalf("enable: %d %s", r.status, r.body)
	}
	if e.active(intro, tk.Access) {
		t.Error("re-enabling revived a token revoked by the disabling")
	}
	e.login("ray@example.com", goodPassword)
}

func TestAdminKeyRequired(t *testing.T) {
	e := newEnv(t)
	for _, key := range []string{"", "wrong", e.adminKey + "x"} {
		req, _ := http.NewRequest(http.MethodGet, e.admin+"/admin/clients", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		r := e.do(req)
		if r.status != http.StatusUnauthorized {
			t.Errorf("admin key %q: %d %s", key, r.status, r.body)
		}
	}
	// Metrics need no key and hold no secret.
	req, _ := http.NewRequest(http.MethodGet, e.admin+"/metrics", nil)
	r := e.do(req)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "authd_http_requests_total") {
		t.Errorf("metrics: %d", r.status)
	}
	if strings.Contains(string(r.body), e.adminKey) {
		t.Error("metrics expose the admin key")
	}
	// The admin API is not on the public listener.
	req, _ = http.NewRequest(http.MethodGet, e.base+"/admin/clients", nil)
	req.Header.Set("Authorization", "Bearer "+e.adminKey)
	if r := e.do(req); r.status != http.StatusNotFound {
		t.Errorf("admin API on the public listener: %d", r.status)
	}
}

func TestAdminClients(t *testing.T) {
	e := newEnv(t)
	intro := e.introspector()
	r := e.adminDo(http.MethodPost, "/admin/clients", map[string]any{
		"name": "Billing", "grant_types": []string{"client_credentials"},
		"scopes": []string{"billing"}, "redirect_uris": []string{},
	})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	created := r.json(t)
	id, secret := created["client_id"].(string), created["client_secret"].(string)
	if !strings.HasPrefix(secret, "cs_") || len(secret) < 43 {
		t.Errorf("secret %q is not a generated 256-bit secret", secret)
	}

	list := e.adminDo(http.MethodGet, "/admin/clients", nil)
	if strings.Contains(string(list.body), secret) || !strings.Contains(string(list.body), id) {
		t.Errorf("client list: %s", list.body)
	}

	tk := decodeTokens(t, e.postForm("/token", url.Values{"grant_type": {"client_credentials"}},
		id+":"+secret))
	if !e.active(intro, tk.Access) {
		t.Fatal("client token not active")
	}
	if r := e.adminDo(http.MethodDelete, "/admin/clients/"+id, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if e.active(intro, tk.Access) {
		t.Error("token of a deleted client still active")
	}
	if r := e.postForm("/token", url.Values{"grant_type": {"client_credentials"}},
		id+":"+secret); r.status != 401 {
		t.Errorf("deleted client authenticated: %d %s", r.status, r.body)
	}
	if r := e.adminDo(http.MethodDelete, "/admin/clients/"+id, nil); r.status != 404 {
		t.Errorf("delete twice: %d", r.status)
	}

	bad := []map[string]any{
		{"name": "", "grant_types": []string{"client_credentials"}},
		{"name": "x", "grant_types": []string{"implicit"}},
		{"name": "x", "grant_types": []string{"client_credentials"}, "public": true},
		{"name": "x", "grant_types": []string{"authorization_code"},
			"redirect_uris": []string{"http://evil.example.com/cb"}},
		{"name": "x", "grant_types": []string{"authorization_code"},
			"redirect_uris": []string{"https://app.example.com/cb#frag"}},
		{"name": "x", "grant_types": []string{"client_credentials"}, "scopes": []string{"a b"}},
		{"name": "x", "grant_types": []string{"client_credentials"}, "unknown_field": 1},
	}
	for _, body := range bad {
		if r := e.adminDo(http.MethodPost, "/admin/clients", body); r.status != 400 {
			t.Errorf("create %v: %d %s", body, r.status, r.body)
		}
	}
}
