package scenario

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/authd/authd/bench/internal/load"
	"github.com/authd/authd/bench/internal/record"
	"github.com/authd/authd/bench/internal/report"
)

// introspect measures introspection of tokens every node has cached: a set
// of user access tokens (one login per user) topped up with client
// credentials tokens, each introspected once on every target during setup.
// Workers walk the set round robin, each from its own offset.
type introspect struct {
	*fixture
	auth  []byte   // Basic auth of the introspecting client
	forms [][]byte // "token=…" bodies
}

func (s *introspect) Ops() []string { return []string{"introspect"} }

func (s *introspect) Setup(ctx context.Context) error {
	return s.timed(func() error {
		forms, err := s.cachedSet(ctx)
		s.forms, s.auth = forms, s.introspector.BasicAuth()
		return err
	})
}

// cachedSet creates the clients, registers the users unless that was done,
// logs each in once, tops their access tokens up to cfg.Tokens with client
// credentials tokens, warms every node's cache with them, and returns their
// form bodies.
func (f *fixture) cachedSet(ctx context.Context) ([][]byte, error) {
	if err := f.createClients(ctx, true, true); err != nil {
		return nil, err
	}
	if len(f.users) == 0 {
		if err := f.registerUsers(ctx, min(f.cfg.Users, f.cfg.Tokens)); err != nil {
			return nil, err
		}
	}
	logins, err := f.login(ctx, min(len(f.users), f.cfg.Tokens))
	if err != nil {
		return nil, err
	}
	var tokens []string
	for _, t := range logins {
		tokens = append(tokens, t.Access)
	}
	issued, err := f.issue(ctx, max(f.cfg.Tokens-len(tokens), 0))
	if err != nil {
		return nil, err
	}
	tokens = append(tokens, issued...)
	if len(tokens) == 0 {
		return nil, fmt.Errorf("no tokens to introspect (raise -tokens)")
	}
	return tokenForms(tokens), f.warm(ctx, tokens)
}

func (s *introspect) Worker(id int, rec *record.Recorder) load.Worker {
	return &cachedWorker{base: newBase(id, rec, s.cfg), auth: s.auth, forms: s.forms,
		cursor: id * len(s.forms) / max(s.cfg.Workers, 1)}
}

func (s *introspect) Annotate(r *report.Report) { r.Setup = s.setupStats() }

// cachedWorker introspects tokens of a shared set, round robin.
type cachedWorker struct {
	base
	auth   []byte
	forms  [][]byte
	cursor int
}

func (w *cachedWorker) Do(due time.Time) bool {
	w.introspect(due, 0, w.auth, w.forms[w.cursor%len(w.forms)])
	w.cursor++
	return true
}

// introspectMiss measures introspection of tokens that no node has been
// asked about: setup issues cfg.Pool client credentials tokens and never
// introspects them; each is introspected exactly once during the run, and
// the run ends when the pool is used up. A server that caches tokens when it
// issues them would still answer these from memory, so setup then issues
// cfg.Flush more tokens that are never used: when Flush exceeds what the
// cache holds, a cache that evicts its oldest entries first has evicted the
// whole pool before the clock starts. The server's cache counters in the
// report show whether the run really missed.
type introspectMiss struct {
	*fixture
	auth  []byte
	forms [][]byte
	next  atomic.Int64 // index of the next unused token
}

func (s *introspectMiss) Ops() []string { return []string{"introspect"} }

func (s *introspectMiss) Setup(ctx context.Context) error {
	return s.timed(
		func() error { return s.createClients(ctx, true, true) },
		func() error {
			tokens, err := s.issue(ctx, s.cfg.Pool)
			s.forms, s.auth = tokenForms(tokens), s.introspector.BasicAuth()
			return err
		},
		func() error {
			_, err := s.issue(ctx, s.cfg.Flush)
			return err
		})
}

func (s *introspectMiss) Worker(id int, rec *record.Recorder) load.Worker {
	return &missWorker{base: newBase(id, rec, s.cfg), s: s}
}

func (s *introspectMiss) Annotate(r *report.Report) {
	r.Setup = s.setupStats()
	r.Notes = append(r.Notes, fmt.Sprintf(
		"each of %d tokens issued during setup was introspected at most once, after %d "+
			"more tokens were issued to push them out of the cache; the server's cache "+
			"counters tell whether they were misses", len(s.forms), s.cfg.Flush))
}

// missWorker introspects each token of the pool once.
type missWorker struct {
	base
	s *introspectMiss
}

func (w *missWorker) Do(due time.Time) bool {
	i := w.s.next.Add(1) - 1
	if i >= int64(len(w.s.forms)) {
		return false
	}
	w.introspect(due, 0, w.s.auth, w.s.forms[i])
	return true
}

// NewFixedIntrospect returns the introspect scenario over a given token
// set, with nothing to set up or tear down: it measures the benchmark
// client itself against a stand-in endpoint. auth is the Authorization
// header value to send.
func NewFixedIntrospect(cfg Config, auth []byte, tokens []string) Scenario {
	s := &fixedIntrospect{}
	s.fixture = &fixture{cfg: cfg}
	s.auth, s.forms = auth, tokenForms(tokens)
	return s
}

// fixedIntrospect is introspect without setup.
type fixedIntrospect struct{ introspect }

func (s *fixedIntrospect) Setup(context.Context) error { return nil }
