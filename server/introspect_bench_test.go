package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/server"
)

// BenchmarkIntrospectCached measures the introspection handler on a cached
// token, without the network: routing, form parsing, client
// authentication, token check, cache hit and the JSON answer.
// BenchmarkIntrospectBaseline runs the bare handler the performance target
// compares against on the same request. Compare them side by side:
//
//	go test -run '^$' -bench 'Introspect' -benchmem ./server/
func BenchmarkIntrospectCached(b *testing.B) {
	t := &testing.T{}
	e := newEnv(t, func(c *server.Config) { c.Logger = slog.New(slog.DiscardHandler) })
	e.register("bench@example.com", goodPassword)
	intro := e.introspector()
	tk := e.login("bench@example.com", goodPassword)
	e.introspect(intro, tk.Access)

	h := e.srv.PublicHandler()
	body := url.Values{"token": {tk.Access}}.Encode()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(intro.id+":"+intro.secret))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var ctx fasthttp.RequestCtx
		for pb.Next() {
			introspectRequest(&ctx, body, auth)
			h(&ctx)
			if ctx.Response.StatusCode() != 200 || ctx.Response.Body()[10] != 't' {
				b.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
			}
		}
	})
}

func BenchmarkIntrospectBaseline(b *testing.B) {
	tok := "at_" + base64.RawURLEncoding.EncodeToString(make([]byte, 47))
	known := map[[32]byte][]byte{sha256.Sum256([]byte(tok)): []byte(`{"active":true,` +
		`"sub":"6f1c2a34-8b1e-4c8e-9d3a-0a1b2c3d4e5f","client_id":"dashboard","scope":"",` +
		`"exp":1767225600,"iat":1767224700,"token_type":"Bearer",` +
		`"username":"bench@example.com","iss":"http://localhost:8080"}`)}
	h := bareHandler(known)
	body := url.Values{"token": {tok}}.Encode()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var ctx fasthttp.RequestCtx
		for pb.Next() {
			introspectRequest(&ctx, body, "Basic x")
			h(&ctx)
			if ctx.Response.Body()[10] != 't' {
				b.Fatal("baseline miss")
			}
		}
	})
}

func introspectRequest(ctx *fasthttp.RequestCtx, body, auth string) {
	ctx.Request.Reset()
	ctx.Response.Reset()
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.SetRequestURI("/introspect")
	ctx.Request.Header.SetContentType("application/x-www-form-urlencoded")
	ctx.Request.Header.Set(fasthttp.HeaderAuthorization, auth)
	ctx.Request.Header.SetContentLength(len(body))
	ctx.Request.SetBodyString(body)
}

// BenchmarkLoopback compares, over real loopback TCP with 32 keep-alive
// connections, the full introspection endpoint on a cached token against
// the bare handler the performance target names (parse the form, look a
// SHA-256 digest up in a map, write the same JSON). Run both in one go and
// compare requests per second:
//
//	go test -run '^$' -bench Loopback -benchtime 5s ./server/
func BenchmarkLoopback(b *testing.B) {
	t := &testing.T{}
	e := newEnv(t, func(c *server.Config) { c.Logger = slog.New(slog.DiscardHandler) })
	e.register("loop@example.com", goodPassword)
	intro := e.introspector()
	tk := e.login("loop@example.com", goodPassword)
	e.introspect(intro, tk.Access)
	answer := e.introspect(intro, tk.Access)
	want, _ := json.Marshal(answer)

	known := map[[32]byte][]byte{sha256.Sum256([]byte(tk.Access)): want}
	bare := bareHandler(known)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	bareSrv := &fasthttp.Server{Handler: bare}
	go bareSrv.Serve(l)
	defer bareSrv.Shutdown()

	body := []byte(url.Values{"token": {tk.Access}}.Encode())
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(intro.id+":"+intro.secret))
	for _, target := range []struct{ name, addr string }{
		{"authd", strings.TrimPrefix(e.base, "http://")},
		{"bare", l.Addr().String()},
	} {
		b.Run(target.name, func(b *testing.B) {
			c := &fasthttp.HostClient{Addr: target.addr, MaxConns: 32}
			b.SetParallelism(16) // 32 goroutines on 2 cores
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				req.SetRequestURI("http://" + target.addr + "/introspect")
				req.Header.SetMethod(fasthttp.MethodPost)
				req.Header.SetContentType("application/x-www-form-urlencoded")
				req.Header.Set(fasthttp.HeaderAuthorization, auth)
				req.SetBody(body)
				for pb.Next() {
					err := c.Do(req, resp)
					if err != nil || !bytes.Contains(resp.Body(), []byte(`"active":true`)) {
						b.Fatalf("%v %s", err, resp.Body())
					}
				}
			})
		})
	}
}

// bareHandler is the baseline the performance target names: parse the form,
// look the token's SHA-256 up in a map, write the stored JSON.
func bareHandler(known map[[32]byte][]byte) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		d := sha256.Sum256(ctx.PostArgs().Peek("token"))
		ctx.SetContentType("application/json")
		if v, ok := known[d]; ok {
			ctx.SetBody(v)
			return
		}
		ctx.SetBodyString(`{"active":false}`)
	}
}
