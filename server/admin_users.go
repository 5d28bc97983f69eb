package server

import (
	"context"
	"errors"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/tokenstore"
)

// UserResponse describes an account to an administrator. It never carries
// the password hash.
type UserResponse struct {
	UserID    string    `json:"user_id"`
	Email     string    `json:"email"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

func userResponse(u tokenstore.User) UserResponse {
	return UserResponse{UserID: u.ID, Email: u.Email, Disabled: u.Disabled, CreatedAt: u.CreatedAt}
}

// findUser looks an account up by ?email=.
func (s *Server) findUser(ctx *fasthttp.RequestCtx) error {
	email := normalizeEmail(string(ctx.QueryArgs().Peek("email")))
	if email == "" {
		return invalidRequest("email query parameter is required")
	}
	u, err := s.userByEmail(ctx, email)
	if errors.Is(err, tokenstore.ErrNotFound) {
		return errorf(fasthttp.StatusNotFound, "not_found", "no such user")
	}
	if err != nil {
		return err
	}
	return writeJSON(ctx, fasthttp.StatusOK, userResponse(u))
}

// revokeUser ends every token of the user on every node; tokens issued
// afterwards are valid.
func (s *Server) revokeUser(ctx *fasthttp.RequestCtx) error {
	return s.changeUser(ctx, func(c context.Context, id string) (tokenstore.User, error) {
		return s.cfg.Store.RevokeUser(c, id)
	})
}

// disableUser blocks logins and ends every token of the user.
func (s *Server) disableUser(ctx *fasthttp.RequestCtx) error {
	return s.changeUser(ctx, func(c context.Context, id string) (tokenstore.User, error) {
		return s.cfg.Store.SetDisabled(c, id, true)
	})
}

// enableUser lets the user log in again. Tokens revoked by the disabling
// stay revoked.
func (s *Server) enableUser(ctx *fasthttp.RequestCtx) error {
	return s.changeUser(ctx, func(c context.Context, id string) (tokenstore.User, error) {
		return s.cfg.Store.SetDisabled(c, id, false)
	})
}

// changeUser applies change to the user named in the path, then makes every
// cache enforce the user's new generation before answering.
func (s *Server) changeUser(ctx *fasthttp.RequestCtx,
	change func(context.Context, string) (tokenstore.User, error)) error {
	id, _ := ctx.UserValue("id").(string)
	var u tokenstore.User
	err := s.withStore(ctx, func(sc context.Context) (err error) {
		u, err = change(sc, id)
		return err
	})
	if errors.Is(err, tokenstore.ErrNotFound) {
		return errorf(fasthttp.StatusNotFound, "not_found", "no such user")
	}
	if err != nil {
		return err
	}
	if err := s.cfg.Cache.Invalidate(ctx, tokencache.Invalidation{
		Kind: tokencache.InvalidateUser, ID: u.ID, Generation: u.Generation,
	}); err != nil {
		return err
	}
	return writeJSON(ctx, fasthttp.StatusOK, userResponse(u))
}
