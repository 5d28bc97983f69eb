package server_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authd/authd/server/token"
)

// TestPasswordAndRefreshWithOAuth2Library drives the password and refresh
// grants with golang.org/x/oauth2, as a third-party Go client would.
func TestPasswordAndRefreshWithOAuth2Library(t *testing.T) {
	e := newEnv(t)
	uid := e.register("dave@example.com", goodPassword)
	intro := e.introspector()

	conf := &oauth2.Config{
		ClientID: "dashboard",
		Endpoint: oauth2.Endpoint{TokenURL: e.base + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.http)
	tok, err := conf.PasswordCredentialsToken(ctx, "Dave@Example.com", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.Expiry.IsZero() {
		t.Fatalf("token = %+v", tok)
	}

	got := e.introspect(intro, tok.AccessToken)
	want := map[string]any{
		"active": true, "sub": uid, "client_id": "dashboard", "token_type": "Bearer",
		"username": "dave@example.com", "iss": "http://localhost:8080",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("introspection %s = %v, want %v", k, got[k], v)
		}
	}
	if exp, iat := got["exp"].(float64), got["iat"].(float64); exp-iat != 15*60 {
		t.Errorf("exp - iat = %v, want the 15 minute default", exp-iat)
	}

	// An expired token makes the library refresh it.
	tok.Expiry = tok.Expiry.Add(-1e12)
	fresh, err := conf.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	if !e.active(intro, fresh.AccessToken) {
		t.Error("refreshed access token is not active")
	}
}

func TestClientCredentialsWithOAuth2Library(t *testing.T) {
	e := newEnv(t)
	intro := e.introspector()
	svc := e.newClient([]string{"client_credentials"}, []string{"orders:read", "orders:write"})

	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		conf := &clientcredentials.Config{
			ClientID: svc.id, ClientSecret: svc.secret, TokenURL: e.base + "/token",
			Scopes: []string{"orders:read"}, AuthStyle: style,
		}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.http)
		tok, err := conf.Token(ctx)
		if err != nil {
			t.Fatalf("auth style %d: %v", style, err)
		}
		if tok.RefreshToken != "" {
			t.Error("client credentials must not get a refresh token")
		}
		got := e.introspect(intro, tok.AccessToken)
		if got["active"] != true || got["sub"] != svc.id || got["client_id"] != svc.id ||
			got["scope"] != "orders:read" || got["username"] != nil {
			t.Errorf("introspection = %v", got)
		}
		if exp, iat := got["exp"].(float64), got["iat"].(float64); exp-iat != 3600 {
			t.Errorf("exp - iat = %v, want the 1 hour default", exp-iat)
		}
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	e := newEnv(t)
	e.register("erin@example.com", goodPassword)
	svc := e.newClient([]string{"client_credentials"}, []string{"a"})
	third := e.newClient([]string{"password"}, nil) // not first-party

	tests := []struct {
		name       string
		form       url.Values
		auth       string
		wantStatus int
		wantCode   string
	}{
		{"no grant type", url.Values{"client_id": {"dashboard"}}, "", 400, "invalid_request"},
		{"unknown grant type", url.Values{"grant_type": {"implicit"}, "client_id": {"dashboard"}},
			"", 400, "unsupported_grant_type"},
		{"no client", url.Values{"grant_type": {"password"}, "username": {"erin@example.com"},
			"password": {goodPassword}}, "", 401, "invalid_client"},
		{"unknown client", url.Values{"grant_type": {"client_credentials"}}, "nobody:secret",
			401, "invalid_client"},
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}}, svc.id + ":wrong",
			401, "invalid_client"},
		{"grant not allowed", url.Values{"grant_type": {"password"}, "username": {"erin@example.com"},
			"password": {goodPassword}}, svc.basic(), 400, "unauthorized_client"},
		{"password grant for third party", url.Values{"grant_type": {"password"},
			"username": {"erin@example.com"}, "password": {goodPassword}}, third.basic(),
			400, "unauthorized_client"},
		{"scope not allowed", url.Values{"grant_type": {"client_credentials"}, "scope": {"b"}},
			svc.basic(), 400, "invalid_scope"},
		{"wrong password", url.Values{"grant_type": {"password"}, "username": {"erin@example.com"},
			"password": {"not the password"}, "client_id": {"dashboard"}}, "", 400, "invalid_grant"},
		{"unknown user", url.Values{"grant_type": {"password"}, "username": {"nobody@example.com"},
			"password": {goodPassword}, "client_id": {"dashboard"}}, "", 400, "invalid_grant"},
		{"public client with a secret", url.Values{"grant_type": {"password"},
			"username": {"erin@example.com"}, "password": {goodPassword}}, "dashboard:x",
			401, "invalid_client"},
		{"two auth methods", url.Values{"grant_type": {"client_credentials"},
			"client_secret": {svc.secret}}, svc.basic(), 400, "invalid_request"},
		{"refresh token garbage", url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {"rt_nope"}, "client_id": {"dashboard"}}, "", 400, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postForm("/token", tt.form, tt.auth)
			if r.status != tt.wantStatus || r.errorCode(t) != tt.wantCode {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.wantStatus, tt.wantCode)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Error("error response without Cache-Control: no-store")
			}
			if tt.wantStatus == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}

	// The unknown-user and wrong-password answers are identical.
	a := e.postForm("/token", url.Values{"grant_type": {"password"}, "client_id": {"dashboard"},
		"username": {"erin@example.com"}, "password": {"wrong password!!"}}, "")
	b := e.postForm("/token", url.Values{"grant_type": {"password"}, "client_id": {"dashboard"},
		"username": {"nobody@example.com"}, "password": {"wrong password!!"}}, "")
	if a.status != b.status || string(a.body) != string(b.body) {
		t.Errorf("wrong password: %d %s; unknown user: %d %s", a.status, a.body, b.status, b.body)
	}
}

func TestTokenResponseHeaders(t *testing.T) {
	e := newEnv(t)
	e.register("fay@example.com", goodPassword)
	r := e.postForm("/token", url.Values{"grant_type": {"password"}, "client_id": {"dashboard"},
		"username": {"fay@example.com"}, "password": {goodPassword}}, "")
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		t.Errorf("token response headers: %v", r.header)
	}
	tk := decodeTokens(t, r)
	if tk.Type != "Bearer" || tk.Expires != 900 || len(tk.Access) != token.Len ||
		tk.Access[:3] != "at_" ||
		tk.Refresh[:3] != "rt_" {
		t.Errorf("token response = %+v", tk)
	}
}
