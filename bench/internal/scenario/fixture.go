package scenario

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/authd/authd/bench/internal/authapi"
	"github.com/authd/authd/bench/internal/report"
)

// maxSetupWorkers bounds the concurrent setup calls, which are slow anyway
// (password hashing, durable commits) and not measured.
const maxSetupWorkers = 16

// user is a registered user.
type user struct {
	email    string
	password string
}

// fixture is the part of every scenario that creates things through the
// API and remembers them. Its methods run during Setup and Teardown only.
type fixture struct {
	cfg Config

	introspector authapi.Client // may call /introspect
	service      authapi.Client // has the client_credentials grant
	users        []user
	clients      []string // ids of the clients created, for Teardown
	tokens       int      // tokens issued by setup
	setupTime    time.Duration
}

// setupStats says what setup created.
func (f *fixture) setupStats() report.Setup {
	return report.Setup{Users: len(f.users), Clients: len(f.clients), Tokens: f.tokens,
		Seconds: f.setupTime.Seconds()}
}

// timed runs setup steps and records how long they took.
func (f *fixture) timed(steps ...func() error) error {
	start := time.Now()
	defer func() { f.setupTime = time.Since(start) }()
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// createClients registers the confidential clients the scenario needs: one
// that may introspect, and one with the client credentials grant. Both need
// the admin listener.
func (f *fixture) createClients(ctx context.Context, introspector, service bool) error {
	if f.cfg.Admin == nil {
		return errors.New("this scenario creates OAuth clients: give -admin and -admin-key")
	}
	create := func(role string, spec authapi.ClientSpec) (authapi.Client, error) {
		spec.Name = "bench-" + f.cfg.RunID + "-" + role
		c, err := f.cfg.Admin.CreateClient(ctx, spec)
		if err == nil {
			f.clients = append(f.clients, c.ID)
		}
		return c, err
	}
	var err error
	if introspector {
		f.introspector, err = create("introspector", authapi.ClientSpec{
			GrantTypes: []string{"client_credentials"}, Scopes: []string{"introspect"}})
		if err != nil {
			return err
		}
	}
	if service {
		f.service, err = create("service", authapi.ClientSpec{
			GrantTypes: []string{"client_credentials"}, Scopes: []string{"bench"}})
	}
	return err
}

// registerUsers registers n users with random strong passwords.
func (f *fixture) registerUsers(ctx context.Context, n int) error {
	users := make([]user, n)
	err := f.parallel(ctx, n, func(s *authapi.Session, i int) error {
		pw, err := password()
		if err != nil {
			return err
		}
		u := user{email: fmt.Sprintf("bench-%s-%d@example.com", f.cfg.RunID, i), password: pw}
		if _, err := s.Register(ctx, f.target(i), u.email, u.password); err != nil {
			return fmt.Errorf("register user %d: %w", i, err)
		}
		users[i] = u
		return nil
	})
	f.users = append(f.users, users...)
	f.cfg.Logf("setup: registered %d users", n)
	return err
}

// password returns 24 random URL-safe characters (144 bits).
func password() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// login logs the users in n times, round robin, and returns the tokens.
func (f *fixture) login(ctx context.Context, n int) ([]authapi.Tokens, error) {
	if len(f.users) == 0 && n > 0 {
		return nil, errors.New("login: no users (raise -users)")
	}
	out := make([]authapi.Tokens, n)
	err := f.parallel(ctx, n, func(s *authapi.Session, i int) error {
		u := f.users[i%len(f.users)]
		tok, err := s.Login(ctx, f.target(i), f.cfg.PublicClient, u.email, u.password)
		if err != nil {
			return fmt.Errorf("login %s: %w", u.email, err)
		}
		out[i] = tok
		return nil
	})
	f.tokens += 2 * n
	f.cfg.Logf("setup: %d logins", n)
	return out, err
}

// issue returns n access tokens of the service client.
func (f *fixture) issue(ctx context.Context, n int) ([]string, error) {
	if n == 0 {
		return nil, nil
	}
	out := make([]string, n)
	err := f.parallel(ctx, n, func(s *authapi.Session, i int) error {
		tok, err := s.ClientCredentials(ctx, f.target(i), f.service)
		if err != nil {
			return fmt.Errorf("client credentials: %w", err)
		}
		out[i] = tok
		return nil
	})
	f.tokens += n
	f.cfg.Logf("setup: issued %d client-credentials tokens", n)
	return out, err
}

// warm introspects every token once on every target, so that each node has
// it cached, and fails unless every answer is active.
func (f *fixture) warm(ctx context.Context, tokens []string) error {
	nt := len(f.cfg.Targets)
	err := f.parallel(ctx, len(tokens)*nt, func(s *authapi.Session, i int) error {
		active, err := s.Introspect(ctx, f.cfg.Targets[i%nt], f.introspector, tokens[i/nt])
		if err != nil {
			return fmt.Errorf("warm cache: %w", err)
		}
		if !active {
			return fmt.Errorf("warm cache: a fresh token is not active on %s",
				f.cfg.Targets[i%nt].URL())
		}
		return nil
	})
	f.cfg.Logf("setup: introspected %d tokens on %d targets", len(tokens), nt)
	return err
}

// target spreads setup calls over the targets.
func (f *fixture) target(i int) *authapi.Target {
	return f.cfg.Targets[i%len(f.cfg.Targets)]
}

// parallel calls fn for 0 <= i < n from a few goroutines, each with its own
// Session, and returns the first error (which stops the others).
func (f *fixture) parallel(ctx context.Context, n int, fn func(*authapi.Session, int) error) error {
	g, ctx := errgroup.WithContext(ctx)
	var next atomic.Int64
	for range min(n, maxSetupWorkers, max(f.cfg.Workers, 1)) {
		g.Go(func() error {
			s := authapi.NewSession(f.cfg.Timeout)
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return nil
				}
				if err := fn(s, i); err != nil {
					return err
				}
			}
			return ctx.Err()
		})
	}
	return g.Wait()
}

// Teardown deletes the clients setup created. Call it once.
func (f *fixture) Teardown(ctx context.Context) error {
	var errs []error
	for _, id := range f.clients {
		if err := f.cfg.Admin.DeleteClient(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
