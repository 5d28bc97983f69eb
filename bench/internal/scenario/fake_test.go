package scenario

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/valyala/fasthttp"
)

// fakeAuthd is a small stand-in for authd that keeps the parts of the API
// contract the scenarios rely on: register, the password, refresh token
// (rotation) and client credentials grants, introspection, revocation, and
// client registration on an admin listener. staleReads makes introspection
// answer active:true for that many requests after a revocation, the bug the
// revoke scenario must catch.
type fakeAuthd struct {
	mu         sync.Mutex
	users      map[string]string // email -> password
	clients    map[string]string // id -> secret
	active     map[string]bool   // token -> active
	family     map[string]string // refresh token -> family
	staleReads int
	pending    map[string]int // revoked token -> stale answers left
	served     int
}

func startFake(t *testing.T, staleReads int) (public, admin string) {
	f := &fakeAuthd{users: map[string]string{}, clients: map[string]string{},
		active: map[string]bool{}, family: map[string]string{}, staleReads: staleReads,
		pending: map[string]int{}}
	return serve(t, f.public), serve(t, f.admin)
}

func serve(t *testing.T, h fasthttp.RequestHandler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: h}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown(); <-done })
	return "http://" + ln.Addr().String()
}

func newToken(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, _ := json.Marshal(v)
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

func oauthError(ctx *fasthttp.RequestCtx, status int, code string) {
	writeJSON(ctx, status, map[string]string{"error": code})
}

func (f *fakeAuthd) public(ctx *fasthttp.RequestCtx) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.served++
	switch string(ctx.Path()) {
	case "/register":
		var in struct{ Email, Password string }
		if json.Unmarshal(ctx.PostBody(), &in) != nil || len(in.Password) < 12 {
			oauthError(ctx, 400, "weak_password")
			return
		}
		f.users[strings.ToLower(in.Email)] = in.Password
		writeJSON(ctx, 201, map[string]string{"user_id": "u_" + in.Email})
	case "/token":
		f.token(ctx)
	case "/introspect":
		if _, ok := f.client(ctx); !ok {
			oauthError(ctx, 401, "invalid_client")
			return
		}
		tok := string(ctx.PostArgs().Peek("token"))
		active := f.active[tok]
		if n := f.pending[tok]; n > 0 {
			f.pending[tok], active = n-1, true
		}
		writeJSON(ctx, 200, map[string]any{"active": active})
	case "/revoke":
		if _, ok := f.client(ctx); !ok && string(ctx.PostArgs().Peek("client_id")) != "dashboard" {
			oauthError(ctx, 401, "invalid_client")
			return
		}
		tok := string(ctx.PostArgs().Peek("token"))
		f.active[tok] = false
		f.pending[tok] = f.staleReads
		ctx.SetStatusCode(200)
	default:
		ctx.SetStatusCode(404)
	}
}

// client returns the client that HTTP Basic authenticates, if any.
func (f *fakeAuthd) client(ctx *fasthttp.RequestCtx) (string, bool) {
	h := string(ctx.Request.Header.Peek("Authorization"))
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
	if err != nil {
		return "", false
	}
	id, secret, _ := strings.Cut(string(raw), ":")
	return id, secret != "" && f.clients[id] == secret
}

func (f *fakeAuthd) token(ctx *fasthttp.RequestCtx) {
	args := ctx.PostArgs()
	pair := func(family string) {
		at, rt := newToken("at_"), newToken("rt_")
		f.active[at], f.active[rt], f.family[rt] = true, true, family
		writeJSON(ctx, 200, map[string]any{"access_token": at, "refresh_token": rt,
			"token_type": "Bearer", "expires_in": 900})
	}
	switch string(args.Peek("grant_type")) {
	case "password":
		if f.users[string(args.Peek("username"))] != string(args.Peek("password")) {
			oauthError(ctx, 400, "invalid_grant")
			return
		}
		pair(newToken("f_"))
	case "refresh_token":
		rt := string(args.Peek("refresh_token"))
		if !f.active[rt] {
			oauthError(ctx, 400, "invalid_grant")
			return
		}
		f.active[rt] = false // rotation
		pair(f.family[rt])
	case "client_credentials":
		if _, ok := f.client(ctx); !ok {
			oauthError(ctx, 401, "invalid_client")
			return
		}
		at := newToken("at_")
		f.active[at] = true
		writeJSON(ctx, 200, map[string]any{"access_token": at, "token_type": "Bearer"})
	default:
		oauthError(ctx, 400, "unsupported_grant_type")
	}
}

func (f *fakeAuthd) admin(ctx *fasthttp.RequestCtx) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if string(ctx.Request.Header.Peek("Authorization")) != "Bearer test-admin-key" {
		ctx.SetStatusCode(401)
		return
	}
	path := string(ctx.Path())
	switch {
	case path == "/admin/clients" && ctx.IsPost():
		id, secret := newToken("c_"), newToken("")
		f.clients[id] = secret
		writeJSON(ctx, 201, map[string]string{"client_id": id, "client_secret": secret})
	case strings.HasPrefix(path, "/admin/clients/") && ctx.IsDelete():
		delete(f.clients, strings.TrimPrefix(path, "/admin/clients/"))
		ctx.SetStatusCode(204)
	case path == "/metrics":
		ctx.SetBodyString("authd_cache_hits_total 5\n")
	default:
		ctx.SetStatusCode(404)
	}
}
