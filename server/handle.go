package server

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"
)

// handlerFunc is the shape of every endpoint: it writes a success response
// or returns an error for handle to write.
type handlerFunc func(ctx *fasthttp.RequestCtx) error

// handle adapts an endpoint: it recovers panics (fasthttp does not), turns
// returned errors into JSON error responses, writes one log line per request
// at debug (and one at error for server faults), and records the endpoint's
// request count and latency. name labels metrics and logs.
func (s *Server) handle(name string, h handlerFunc) fasthttp.RequestHandler {
	obs := s.metrics.endpoint(name)
	return func(ctx *fasthttp.RequestCtx) {
		start := time.Now()
		err := s.run(ctx, h)
		if err != nil {
			e := asError(err)
			writeError(ctx, e)
			s.logError(ctx, name, e)
		}
		status := ctx.Response.StatusCode()
		obs.observe(status, time.Since(start))
		if s.log.Enabled(ctx, slog.LevelDebug) {
			s.log.Debug("request", "endpoint", name, "status", status,
				"remote", s.clientIP(ctx).String(), "duration", time.Since(start))
		}
	}
}

// run calls h, turning a panic into an error so one bad request cannot take
// the node down.
func (s *Server) run(ctx *fasthttp.RequestCtx, h handlerFunc) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx)
}

func (s *Server) logError(ctx *fasthttp.RequestCtx, name string, e *Error) {
	switch {
	case e.Status >= 500 && e.Status != fasthttp.StatusServiceUnavailable:
		s.log.Error("request failed", "endpoint", name, "status", e.Status, "err", e.Cause)
	case e.Status == fasthttp.StatusServiceUnavailable:
		s.log.Warn("request refused", "endpoint", name, "code", e.Code, "err", e.Cause)
	default:
		// A client's bad request is not the operator's problem.
		s.log.Debug("request rejected", "endpoint", name, "status", e.Status,
			"code", e.Code, "remote", s.clientIP(ctx).String())
	}
}

// newRouter returns a router whose 404, 405 and panic answers use the JSON
// error body like every endpoint.
func (s *Server) newRouter() *router.Router {
	r := router.New()
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.NotFound = s.handle("not_found", func(*fasthttp.RequestCtx) error {
		return errorf(fasthttp.StatusNotFound, "not_found", "no such endpoint")
	})
	r.MethodNotAllowed = s.handle("method_not_allowed", func(*fasthttp.RequestCtx) error {
		return errorf(fasthttp.StatusMethodNotAllowed, "invalid_request", "method not allowed")
	})
	return r
}

func (s *Server) publicRoutes() *router.Router {
	r := s.newRouter()
	r.POST("/register", s.handle("register", s.register))
	r.POST("/token", s.handle("token", s.token))
	r.POST("/introspect", s.handle("introspect", s.introspect))
	r.POST("/revoke", s.handle("revoke", s.revoke))
	r.POST("/password", s.handle("password", s.changePassword))
	r.GET("/.well-known/oauth-authorization-server", s.handle("metadata", s.metadata))
	r.GET("/healthz", s.handle("healthz", s.healthz))
	r.GET("/readyz", s.handle("readyz", s.readyz))
	return r
}

func (s *Server) adminRoutes() *router.Router {
	r := s.newRouter()
	r.POST("/admin/clients", s.handle("admin_create_client", s.admin(s.createClient)))
	r.GET("/admin/clients", s.handle("admin_list_clients", s.admin(s.listClients)))
	r.DELETE("/admin/clients/{id}", s.handle("admin_delete_client", s.admin(s.deleteClient)))
	r.GET("/admin/users", s.handle("admin_find_user", s.admin(s.findUser)))
	r.POST("/admin/users/{id}/revoke", s.handle("admin_revoke_user", s.admin(s.revokeUser)))
	r.POST("/admin/users/{id}/disable", s.handle("admin_disable_user", s.admin(s.disableUser)))
	r.POST("/admin/users/{id}/enable", s.handle("admin_enable_user", s.admin(s.enableUser)))
	r.GET("/metrics", s.metrics.handler())
	r.GET("/healthz", s.handle("healthz", s.healthz))
	r.GET("/readyz", s.handle("readyz", s.readyz))
	return r
}
