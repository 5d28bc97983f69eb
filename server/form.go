package server

import (
	"bytes"
	"mime"
	"unicode/utf8"

	"github.com/valyala/fasthttp"
)

// maxFormParams bounds how many parameters a form may carry; no endpoint
// takes more than a handful.
const maxFormParams = 32

// form is the validated body of an application/x-www-form-urlencoded
// request. It reads the request's parsed arguments in place, so it is only
// valid while the handler runs; get returns copies.
type form struct {
	args *fasthttp.Args
}

// parseForm validates the request body as a form. RFC 6749 §3.1:
// parameters must not be repeated, and a request with a repeated one is
// rejected rather than guessed at, even when one of the copies is empty.
// Names and values must be valid UTF-8 without NUL bytes; a parameter with
// an empty value counts as absent (RFC 6749 §3.1). Query parameters are
// ignored: credentials belong in the body.
func parseForm(ctx *fasthttp.RequestCtx) (form, error) {
	if !ctx.IsPost() {
		return form{}, &Error{
			Code: "invalid_request", Description: "method must be POST",
			Status: fasthttp.StatusMethodNotAllowed,
		}
	}
	if !isMediaType(ctx.Request.Header.ContentType(), "application/x-www-form-urlencoded") {
		return form{}, invalidRequest("content type must be application/x-www-form-urlencoded")
	}
	args := ctx.PostArgs()
	if args.Len() > maxFormParams {
		return form{}, invalidRequest("too many parameters")
	}
	// Parameters are few, so comparing every pair costs less than building
	// a set.
	var names [maxFormParams][]byte
	n := 0
	for k, v := range args.All() {
		switch {
		case !utf8.Valid(k) || !utf8.Valid(v):
			return form{}, invalidRequest("parameters must be valid UTF-8")
		case bytes.IndexByte(k, 0) >= 0 || bytes.IndexByte(v, 0) >= 0:
			return form{}, invalidRequest("parameters must not contain NUL bytes")
		}
		for _, seen := range names[:n] {
			if bytes.Equal(seen, k) {
				return form{}, invalidRequest("parameter %q is repeated", truncate(string(k), 40))
			}
		}
		names[n] = k
		n++
	}
	return form{args: args}, nil
}

// get returns a copy of the named parameter, or "" when it is absent.
func (f form) get(name string) string {
	if f.args == nil {
		return ""
	}
	return string(f.args.Peek(name))
}

// peek returns the named parameter without copying it: the bytes belong to
// the request and are valid only while the handler runs, unmodified.
func (f form) peek(name string) []byte {
	if f.args == nil {
		return nil
	}
	return f.args.Peek(name)
}

// has reports whether the named parameter is present with a value.
func (f form) has(name string) bool {
	return f.args != nil && len(f.args.Peek(name)) > 0
}

// isMediaType reports whether a Content-Type header names want, ignoring
// parameters such as charset and letter case.
func isMediaType(header []byte, want string) bool {
	if i := bytes.IndexByte(header, ';'); i >= 0 {
		mt, _, err := mime.ParseMediaType(string(header))
		return err == nil && mt == want
	}
	return bytes.EqualFold(bytes.TrimSpace(header), []byte(want))
}

// truncate shortens s for an error description.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// validText reports whether s is valid UTF-8 free of control characters.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
