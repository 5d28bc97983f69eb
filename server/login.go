package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/server/password"
	"github.com/authd/authd/tokenstore"
)

// errBadLogin is the one answer to a wrong email or password: the same
// code, description and (since an unknown email still costs a hash) similar
// timing, so the answer does not say whether the account exists.
var errBadLogin = invalidGrant("invalid username or password")

// checkLogin verifies an email and password and returns the user. It
// enforces the per-account backoff, which lives in the store so that it
// holds across every node, and is keyed by the email rather than the user
// so that unknown emails back off exactly like real ones.
func (s *Server) checkLogin(ctx context.Context, email, pw string) (tokenstore.User, error) {
	email = normalizeEmail(email)
	if len(pw) > s.cfg.Policy.MaxLen {
		return tokenstore.User{}, errBadLogin // never hash unbounded input
	}
	key := throttleKey(email)
	th, err := s.throttle(ctx, key)
	if err != nil {
		return tokenstore.User{}, err
	}

	u, err := s.userByEmail(ctx, email)
	if errors.Is(err, tokenstore.ErrNotFound) {
		if err := s.cfg.Hasher.VerifyDummy(ctx, []byte(pw)); err != nil {
			return tokenstore.User{}, hashError(err)
		}
		return tokenstore.User{}, s.loginFailed(ctx, key)
	}
	if err != nil {
		return tokenstore.User{}, err
	}
	ok, rehash, err := s.cfg.Hasher.Verify(ctx, []byte(pw), u.PasswordHash)
	if err != nil {
		return tokenstore.User{}, hashError(err)
	}
	if !ok {
		return tokenstore.User{}, s.loginFailed(ctx, key)
	}
	if u.Disabled {
		return tokenstore.User{}, invalidGrant("account is disabled")
	}
	if th.Failures > 0 {
		if err := s.withStore(ctx, func(c context.Context) error {
			return s.cfg.Store.LoginSucceeded(c, key)
		}); err != nil {
			return tokenstore.User{}, err
		}
	}
	if rehash {
		u = s.rehash(ctx, u, pw)
	}
	return u, nil
}

// throttle returns the account key's backoff state, or a 429 while the
// account is locked.
func (s *Server) throttle(ctx context.Context, key string) (tokenstore.Throttle, error) {
	var th tokenstore.Throttle
	err := s.withStore(ctx, func(c context.Context) (err error) {
		th, err = s.cfg.Store.Throttle(c, key)
		return err
	})
	if err != nil {
		return th, err
	}
	if wait := th.LockedUntil.Sub(s.now()); wait > 0 {
		return th, tooMany(secondsCeil(wait), "too many failed logins; try again later")
	}
	return th, nil
}

// loginFailed records a failed attempt and returns the error to answer.
func (s *Server) loginFailed(ctx context.Context, key string) error {
	err := s.withStore(ctx, func(c context.Context) error {
		_, err := s.cfg.Store.LoginFailed(c, key, s.now(), s.lockFor)
		return err
	})
	if err != nil {
		return err
	}
	return errBadLogin
}

// lockFor is the backoff after failures consecutive failed logins: none
// before LockAfter, then LockBase doubling up to LockMax.
func (s *Server) lockFor(failures int) time.Duration {
	if failures < s.cfg.LockAfter {
		return 0
	}
	d := s.cfg.LockBase
	for i := s.cfg.LockAfter; i < failures && d < s.cfg.LockMax; i++ {
		d *= 2
	}
	return min(d, s.cfg.LockMax)
}

// rehash upgrades a hash made with older parameters. Failing to is not the
// user's problem: the login still succeeds and the next one tries again.
func (s *Server) rehash(ctx context.Context, u tokenstore.User, pw string) tokenstore.User {
	h, err := s.cfg.Hasher.Hash(ctx, []byte(pw))
	if err != nil {
		return u
	}
	err = s.withStore(ctx, func(c context.Context) error {
		updated, err := s.cfg.Store.SetPasswordHash(c, u.ID, u.PasswordHash, h, false)
		if err == nil {
			u = updated
		}
		return err
	})
	if err != nil && !errors.Is(err, tokenstore.ErrConflict) {
		s.log.Warn("password rehash failed", "user_id", u.ID, "err", err)
	}
	return u
}

func (s *Server) userByEmail(ctx context.Context, email string) (tokenstore.User, error) {
	var u tokenstore.User
	err := s.withStore(ctx, func(c context.Context) (err error) {
		u, err = s.cfg.Store.UserByEmail(c, email)
		return err
	})
	return u, err
}

// withStore runs f with a context bounded by the store timeout.
func (s *Server) withStore(ctx context.Context, f func(context.Context) error) error {
	c, cancel := s.storeContext(ctx)
	defer cancel()
	return f(c)
}

// hashError maps a password hasher failure: a full queue is a 503 the
// client should retry later, not a server fault.
func hashError(err error) error {
	if errors.Is(err, password.ErrBusy) {
		return &Error{
			Code: "temporarily_unavailable", Description: "too many logins in progress; retry shortly",
			Status: fasthttp.StatusServiceUnavailable, RetryAfter: 1, Cause: err,
		}
	}
	return err
}

// throttleKey is the store key of an email's login backoff: a digest, so the
// store holds no list of emails people tried.
func throttleKey(email string) string {
	sum := sha256.Sum256([]byte("authd login\x00" + email))
	return hex.EncodeToString(sum[:16])
}

// normalizeEmail is the form emails are stored and compared in.
func normalizeEmail(email string) string {
	return strings.ToLower(email)
}

// limitCredentials spends one unit of the client IP's budget for
// credential checks, or answers 429.
func (s *Server) limitCredentials(ctx *fasthttp.RequestCtx) error {
	if s.limiter == nil {
		return nil
	}
	ok, wait := s.limiter.Allow(s.clientIP(ctx).String(), s.now())
	if !ok {
		return tooMany(secondsCeil(wait), "too many requests from this address; slow down")
	}
	return nil
}
