package main

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/tokenstore"
)

// timedStore records the latency of every store call by operation and
// outcome.
type timedStore struct {
	tokenstore.Store
	latency *prometheus.HistogramVec
}

var _ tokenstore.Store = timedStore{}

func newTimedStore(st tokenstore.Store, reg prometheus.Registerer) (timedStore, error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "authd_store_duration_seconds",
		Help: "Latency of token store calls, by operation and outcome (ok, not_found, error).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1,
			.25, .5, 1, 2.5, 5},
	}, []string{"op", "outcome"})
	if err := reg.Register(h); err != nil {
		return timedStore{}, err
	}
	return timedStore{Store: st, latency: h}, nil
}

// timed runs one store call and records it.
func timed[T any](s timedStore, op string, call func() (T, error)) (T, error) {
	start := time.Now()
	v, err := call()
	outcome := "ok"
	switch {
	case errors.Is(err, tokenstore.ErrNotFound):
		outcome = "not_found"
	case err != nil:
		outcome = "error"
	}
	s.latency.WithLabelValues(op, outcome).Observe(time.Since(start).Seconds())
	return v, err
}

// timedErr is timed for calls that return only an error.
func timedErr(s timedStore, op string, call func() error) error {
	_, err := timed(s, op, func() (struct{}, error) { return struct{}{}, call() })
	return err
}

func (s timedStore) CreateUser(ctx context.Context, u tokenstore.User) error {
	return timedErr(s, "create_user", func() error { return s.Store.CreateUser(ctx, u) })
}

func (s timedStore) UserByID(ctx context.Context, id string) (tokenstore.User, error) {
	return timed(s, "user_by_id", func() (tokenstore.User, error) {
		return s.Store.UserByID(ctx, id)
	})
}

func (s timedStore) UserByEmail(ctx context.Context, email string) (tokenstore.User, error) {
	return timed(s, "user_by_email", func() (tokenstore.User, error) {
		return s.Store.UserByEmail(ctx, email)
	})
}

func (s timedStore) SetPasswordHash(ctx context.Context, id, oldHash, newHash string,
	revoke bool) (tokenstore.User, error) {
	return timed(s, "set_password_hash", func() (tokenstore.User, error) {
		return s.Store.SetPasswordHash(ctx, id, oldHash, newHash, revoke)
	})
}

func (s timedStore) RevokeUser(ctx context.Context, id string) (tokenstore.User, error) {
	return timed(s, "revoke_user", func() (tokenstore.User, error) {
		return s.Store.RevokeUser(ctx, id)
	})
}

func (s timedStore) SetDisabled(ctx context.Context, id string, disabled bool) (
	tokenstore.User, error) {
	return timed(s, "set_disabled", func() (tokenstore.User, error) {
		return s.Store.SetDisabled(ctx, id, disabled)
	})
}

func (s timedStore) Throttle(ctx context.Context, key string) (tokenstore.Throttle, error) {
	return timed(s, "throttle", func() (tokenstore.Throttle, error) {
		return s.Store.Throttle(ctx, key)
	})
}

func (s timedStore) LoginFailed(ctx context.Context, key string, now time.Time,
	lock func(int) time.Duration) (tokenstore.Throttle, error) {
	return timed(s, "login_failed", func() (tokenstore.Throttle, error) {
		return s.Store.LoginFailed(ctx, key, now, lock)
	})
}

func (s timedStore) LoginSucceeded(ctx context.Context, key string) error {
	return timedErr(s, "login_succeeded", func() error { return s.Store.LoginSucceeded(ctx, key) })
}

func (s timedStore) CreateClient(ctx context.Context, c tokenstore.Client) error {
	return timedErr(s, "create_client", func() error { return s.Store.CreateClient(ctx, c) })
}

func (s timedStore) Client(ctx context.Context, id string) (tokenstore.Client, error) {
	return timed(s, "client", func() (tokenstore.Client, error) { return s.Store.Client(ctx, id) })
}

func (s timedStore) DeleteClient(ctx context.Context, id string) error {
	return timedErr(s, "delete_client", func() error { return s.Store.DeleteClient(ctx, id) })
}

func (s timedStore) CreateTokens(ctx context.Context, f *tokenstore.Family,
	tokens ...tokenstore.Token) error {
	return timedErr(s, "create_tokens", func() error {
		return s.Store.CreateTokens(ctx, f, tokens...)
	})
}

func (s timedStore) Token(ctx context.Context, d tokenstore.Digest) (tokenstore.TokenView, error) {
	return timed(s, "token", func() (tokenstore.TokenView, error) { return s.Store.Token(ctx, d) })
}

func (s timedStore) Exchange(ctx context.Context, req tokenstore.ExchangeRequest) (
	tokenstore.ExchangeResult, error) {
	return timed(s, "exchange", func() (tokenstore.ExchangeResult, error) {
		return s.Store.Exchange(ctx, req)
	})
}

func (s timedStore) RevokeToken(ctx context.Context, d tokenstore.Digest) (
	tokenstore.Token, error) {
	return timed(s, "revoke_token", func() (tokenstore.Token, error) {
		return s.Store.RevokeToken(ctx, d)
	})
}

func (s timedStore) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	return timed(s, "delete_expired", func() (int, error) {
		return s.Store.DeleteExpired(ctx, before, limit)
	})
}
