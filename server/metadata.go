package server

import (
	"context"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// metadata is the RFC 8414 authorization server metadata document.
func (s *Server) metadata(ctx *fasthttp.RequestCtx) error {
	iss := strings.TrimSuffix(s.cfg.Issuer, "/")
	ctx.Response.Header.Set("Cache-Control", "public, max-age=3600")
	return writeJSON(ctx, fasthttp.StatusOK, map[string]any{
		"issuer":                 s.cfg.Issuer,
		"token_endpoint":         iss + "/token",
		"introspection_endpoint": iss + "/introspect",
		"revocation_endpoint":    iss + "/revoke",
		"grant_types_supported": []string{
			grantPassword, grantRefreshToken, grantClientCredentials,
		},
		"response_types_supported":                      []string{},
		"token_endpoint_auth_methods_supported":         authMethods,
		"introspection_endpoint_auth_methods_supported": authMethods[:2],
		"revocation_endpoint_auth_methods_supported":    authMethods,
	})
}

var authMethods = []string{"client_secret_basic", "client_secret_post", "none"}

// healthz reports that the process serves requests.
func (s *Server) healthz(ctx *fasthttp.RequestCtx) error {
	return writeJSON(ctx, fasthttp.StatusOK, map[string]string{"status": "ok"})
}

// readyz reports whether the node should get traffic: the store answers and,
// in a cluster, the node has joined and caught up.
func (s *Server) readyz(ctx *fasthttp.RequestCtx) error {
	c, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	check := func(name string, err error) error {
		if err == nil {
			return nil
		}
		return &Error{
			Code: "not_ready", Description: name + " not ready",
			Status: fasthttp.StatusServiceUnavailable, Cause: err,
		}
	}
	if err := check("store", s.cfg.Store.Ping(c)); err != nil {
		return err
	}
	if s.cfg.Ready != nil {
		if err := check("cluster", s.cfg.Ready(c)); err != nil {
			return err
		}
	}
	return writeJSON(ctx, fasthttp.StatusOK, map[string]string{"status": "ready"})
}
