package server

import (
	"bytes"
	"crypto/subtle"

	"github.com/valyala/fasthttp"
)

// admin wraps an admin endpoint: it requires Authorization: Bearer with the
// admin key, compared in constant time.
func (s *Server) admin(h handlerFunc) handlerFunc {
	want := []byte(s.cfg.AdminKey)
	return func(ctx *fasthttp.RequestCtx) error {
		auth := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
		const prefix = "bearer "
		ok := len(auth) > len(prefix) && bytes.EqualFold(auth[:len(prefix)], []byte(prefix)) &&
			subtle.ConstantTimeCompare(bytes.TrimSpace(auth[len(prefix):]), want) == 1
		if !ok {
			return &Error{
				Code: "invalid_token", Description: "admin key required",
				Status: fasthttp.StatusUnauthorized, Challenge: `Bearer realm="authd-admin"`,
			}
		}
		return h(ctx)
	}
}
