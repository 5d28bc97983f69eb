package server_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/server"
)

// rawRequest sends a raw HTTP/1.1 request and returns the status code.
func rawRequest(t *testing.T, addr, req string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestHostileInputs(t *testing.T) {
	e := newEnv(t)
	e.register("sam@example.com", goodPassword)
	addr := strings.TrimPrefix(e.base, "http://")
	form := "application/x-www-form-urlencoded"
	post := func(path, contentType, body string) string {
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"+
			"Content-Length: %d\r\nConnection: close\r\n\r\n%s", path, contentType, len(body), body)
	}
	login := "grant_type=password&client_id=dashboard&username=sam%40example.com&password="

	tests := []struct {
		name string
		req  string
		want int
	}{
		{"huge body", post("/token", form, strings.Repeat("a=b&", 40000)), 413},
		{"huge header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 20000) +
			"\r\nConnection: close\r\n\r\n", 431},
		{"invalid UTF-8 in form", post("/token", form, login+"%ff%fe"), 400},
		{"NUL in form", post("/token", form, login+"abc%00def"), 400},
		{"JSON to form endpoint", post("/token", "application/json", `{"grant_type":"password"}`), 400},
		{"repeated parameter", post("/token", form,
			"grant_type=password&grant_type=client_credentials&client_id=dashboard"), 400},
		{"unknown grant type", post("/token", form, "grant_type=urn:evil&client_id=dashboard"), 400},
		{"too many parameters", post("/token", form, strings.Repeat("p=1&", 40)+"grant_type=x"), 400},
		{"huge password", post("/token", form, login+strings.Repeat("x", 60000)), 400},
		{"garbage Basic", "POST /introspect HTTP/1.1\r\nHost: x\r\nAuthorization: Basic !!!\r\n" +
			"Content-Type: " + form + "\r\nContent-Length: 7\r\nConnection: close\r\n\r\ntoken=x", 401},
		{"malformed JSON", post("/register", "application/json", `{"email":`), 400},
		{"JSON trailing data", post("/register", "application/json",
			`{"email":"a@b.c","password":"x"} {}`), 400},
		{"JSON array", post("/register", "application/json", `[1,2]`), 400},
		{"JSON invalid UTF-8", post("/register", "application/json",
			"{\"email\":\"a\xff@b.com\",\"password\":\"correct horse battery staple\"}"), 400},
		{"JSON NUL in email", post("/register", "application/json",
			`{"email":"a\u0000@b.com","password":"correct horse battery staple"}`), 400},
		{"JSON unknown field", post("/register", "application/json",
			`{"email":"t@example.com","password":"correct horse battery staple","admin":true}`), 400},
		{"GET on token", "GET /token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405},
		{"unknown path", "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404},
		{"bad content length", "POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n" +
			"Connection: close\r\n\r\n", 400},
		{"not HTTP", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rawRequest(t, addr, tt.req); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
			if r := e.do(mustRequest(http.MethodGet, e.base+"/healthz")); r.status != 200 {
				t.Fatalf("server unhealthy after %s: %d", tt.name, r.status)
			}
		})
	}
	// Nothing was created or broken along the way.
	e.login("sam@example.com", goodPassword)
	r := e.adminDo(http.MethodGet, "/admin/users?email=t@example.com", nil)
	if r.status != http.StatusNotFound {
		t.Errorf("a rejected registration created an account: %d", r.status)
	}
}

func mustRequest(method, u string) *http.Request {
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		panic(err)
	}
	return req
}

// TestLoginBackoff: after LockAfter failures an account answers 429 with
// Retry-After, even to the right password, and an unknown email behaves the
// same, so backoff does not reveal which emails exist.
func TestLoginBackoff(t *testing.T) {
	clk := newClock()
	e := newEnv(t, func(c *server.Config) { c.Now = clk.Now; c.LockAfter = 3 })
	e.register("tia@example.com", goodPassword)
	attempt := func(email, pw string) response {
		return e.postForm("/token", url.Values{"grant_type": {"password"}, "client_id": {"dashboard"},
			"username": {email}, "password": {pw}}, "")
	}
	for _, email := range []string{"tia@example.com", "nobody@example.com"} {
		for i := range 3 {
			if r := attempt(email, "wrong password!"); r.status != 400 {
				t.Fatalf("%s failure %d: %d %s", email, i, r.status, r.body)
			}
		}
		r := attempt(email, goodPassword)
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("%s after 3 failures: %d %s, want 429", email, r.status, r.body)
		}
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
			t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
		}
	}
	clk.advance(2 * time.Second)
	if r := attempt("tia@example.com", goodPassword); r.status != http.StatusOK {
		t.Fatalf("login after the backoff: %d %s", r.status, r.body)
	}
	// Success resets the count.
	for range 2 {
		attempt("tia@example.com", "wrong password!")
	}
	if r := attempt("tia@example.com", goodPassword); r.status != http.StatusOK {
		t.Errorf("login after 2 new failures: %d %s", r.status, r.body)
	}
}

func TestPerIPRateLimit(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.CredentialRate = 1; c.CredentialBurst = 3 })
	e.register("uma@example.com", goodPassword) // spends one
	var last response
	for range 3 {
		last = e.postForm("/token", url.Values{"grant_type": {"password"},
			"client_id": {"dashboard"}, "username": {"uma@example.com"},
			"password": {goodPassword}}, "")
		if last.status == http.StatusTooManyRequests {
			break
		}
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Fatalf("after the burst: %d %s, want 429 with Retry-After", last.status, last.body)
	}
	// Introspection is not a credential check and is not limited.
	intro := e.introspector()
	for range 10 {
		e.introspect(intro, "at_x")
	}
}

// TestNoSecretsInLogs runs every flow with debug logging and checks that no
// password, token, secret or admin key reaches the log.
func TestNoSecretsInLogs(t *testing.T) {
	e := newEnv(t)
	e.register("val@example.com", goodPassword)
	intro := e.introspector()
	tk := e.login("val@example.com", goodPassword)
	next := decodeTokens(t, e.refresh(tk.Refresh))
	e.refresh(tk.Refresh)
	e.introspect(intro, next.Access)
	e.postForm("/token", url.Values{"grant_type": {"password"}, "client_id": {"dashboard"},
		"username": {"val@example.com"}, "password": {"wrong password!"}}, "")
	e.postJSON("/password", map[string]string{
		"current_password": goodPassword, "new_password": "brand new long passphrase",
	}, next.Access)
	e.postForm("/revoke", url.Values{"token": {next.Refresh}, "client_id": {"dashboard"}}, "")

	logs := e.logs.String()
	if !strings.Contains(logs, "endpoint=token") {
		t.Fatalf("no request log lines captured:\n%s", logs)
	}
	for _, secret := range []string{goodPassword, "wrong password!", "brand new long passphrase",
		tk.Access, tk.Refresh, next.Access, next.Refresh, intro.secret, e.adminKey} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains a secret (%.8s…)", secret)
		}
	}
}

func TestMetadataAndHealth(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.Issuer = "https://auth.example.com" })
	r := e.do(mustRequest(http.MethodGet, e.base+"/.well-known/oauth-authorization-server"))
	m := r.json(t)
	if m["issuer"] != "https://auth.example.com" ||
		m["token_endpoint"] != "https://auth.example.com/token" ||
		m["introspection_endpoint"] != "https://auth.example.com/introspect" ||
		m["revocation_endpoint"] != "https://auth.example.com/revoke" {
		t.Errorf("metadata = %v", m)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := e.do(mustRequest(http.MethodGet, e.base+p)); r.status != 200 {
			t.Errorf("%s: %d", p, r.status)
		}
	}
}

func TestIntrospectionAccess(t *testing.T) {
	e := newEnv(t)
	intro := e.introspector()
	plain := e.newClient([]string{"client_credentials"}, []string{"x"})
	e.register("wes@example.com", goodPassword)
	tk := e.login("wes@example.com", goodPassword)

	if r := e.postForm("/introspect", url.Values{"token": {tk.Access}}, ""); r.status != 401 {
		t.Errorf("introspect without client auth: %d", r.status)
	}
	r := e.postForm("/introspect", url.Values{"token": {tk.Access}}, plain.basic())
	if r.status != 403 {
		t.Errorf("introspect by a client without the introspect scope: %d", r.status)
	}
	forged := tk.Access[:10] + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, tk.Access[10:11]) + tk.Access[11:]
	for name, tok := range map[string]string{
		"garbage": "hello", "forged": forged, "refresh relabelled as a code": "ac_" + tk.Refresh[3:],
	} {
		got := e.introspect(intro, tok)
		if len(got) != 1 || got["active"] != false {
			t.Errorf("%s: %v, want exactly {active:false}", name, got)
		}
	}
	got := e.introspect(intro, tk.Refresh)
	if got["active"] != true || got["token_type"] != nil {
		t.Errorf("refresh token introspection: %v", got)
	}
	// Client secret via the form works as well as HTTP Basic.
	r = e.postForm("/introspect", url.Values{"token": {tk.Access}, "client_id": {intro.id},
		"client_secret": {intro.secret}}, "")
	if r.status != 200 || r.json(t)["active"] != true {
		t.Errorf("client_secret_post: %d %s", r.status, r.body)
	}
}

// TestRateLimitBehindProxy: behind a trusted proxy, each client named by
// X-Forwarded-For has its own budget.
func TestRateLimitBehindProxy(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.CredentialRate, c.CredentialBurst = 0.01, 1
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	attempt := func(client string) int {
		form := url.Values{"grant_type": {"password"}, "client_id": {"dashboard"},
			"username": {"nobody@example.com"}, "password": {"wrong password!!"}}
		req, _ := http.NewRequest(http.MethodPost, e.base+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", client)
		return e.do(req).status
	}
	if s := attempt("198.51.100.1"); s != 400 {
		t.Fatalf("first attempt of client A: %d", s)
	}
	if s := attempt("198.51.100.1"); s != http.StatusTooManyRequests {
		t.Errorf("second attempt of client A: %d, want 429", s)
	}
	if s := attempt("198.51.100.2"); s != 400 {
		t.Errorf("first attempt of client B: %d, want its own budget", s)
	}
}
