package server

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/valyala/fasthttp"
)

func formCtx(body []byte) *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.Header.SetContentType("application/x-www-form-urlencoded")
	ctx.Request.SetBody(body)
	return &ctx
}

// clientError checks that err is an *Error with a 4xx status.
func clientError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 {
		t.Fatalf("error %v is not a 4xx *Error", err)
	}
}

func FuzzParseForm(f *testing.F) {
	f.Add([]byte("grant_type=password&username=a%40b.c&password=x"))
	f.Add([]byte("a=1&a=2"))
	f.Add([]byte("a=%ff&b=%00"))
	f.Add([]byte("&&=&=="))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := parseForm(formCtx(body))
		if err != nil {
			clientError(t, err)
			return
		}
		if got.args.Len() > maxFormParams {
			t.Fatalf("%d parameters accepted", got.args.Len())
		}
		seen := map[string]bool{}
		for k, v := range got.args.All() {
			if !utf8.Valid(k) || !utf8.Valid(v) || strings.ContainsRune(string(k)+string(v), 0) {
				t.Fatalf("accepted %q=%q", k, v)
			}
			if seen[string(k)] {
				t.Fatalf("accepted repeated parameter %q", k)
			}
			seen[string(k)] = true
			if got.get(string(k)) != string(v) {
				t.Fatalf("get(%q) = %q, want %q", k, got.get(string(k)), v)
			}
		}
	})
}

func FuzzRegisterJSON(f *testing.F) {
	f.Add([]byte(`{"email":"a@example.com","password":"correct horse battery staple"}`))
	f.Add([]byte(`{"email":"a@b","password":1}`))
	f.Add([]byte(`{"email":"\u0000@x.y"} []`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod(fasthttp.MethodPost)
		ctx.Request.Header.SetContentType("application/json")
		ctx.Request.SetBody(body)
		var req struct {
			Email    string `json:"email"`
			Password string `json:"password"`
		}
		if err := decodeJSON(&ctx, &req); err != nil {
			clientError(t, err)
			return
		}
		email := normalizeEmail(req.Email)
		if err := checkEmail(email); err != nil {
			clientError(t, err)
			return
		}
		if !validText(email) || len(email) > maxEmailLen || strings.Count(email, "@") != 1 {
			t.Fatalf("accepted email %q", email)
		}
	})
}

func FuzzParseScope(f *testing.F) {
	f.Add("read write")
	f.Add("  a  a b\t")
	f.Add("\"x\\")
	f.Fuzz(func(t *testing.T, s string) {
		scopes, err := parseScope(s)
		if err != nil {
			clientError(t, err)
			return
		}
		again, err := parseScope(strings.Join(scopes, " "))
		if err != nil || strings.Join(again, " ") != strings.Join(scopes, " ") {
			t.Fatalf("scope %q does not round-trip: %q %v", s, again, err)
		}
	})
}

func FuzzParseBasic(f *testing.F) {
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("client:secret")))
	f.Add("basic Og==")
	f.Add("Basic %%%")
	f.Fuzz(func(t *testing.T, h string) {
		id, secret, ok := parseBasic([]byte(h))
		if ok && (id == "" || !validText(id) || !validText(secret)) {
			t.Fatalf("accepted id %q secret %q", id, secret)
		}
	})
}
