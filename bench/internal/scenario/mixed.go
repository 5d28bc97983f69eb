package scenario

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/authd/authd/bench/internal/load"
	"github.com/authd/authd/bench/internal/record"
	"github.com/authd/authd/bench/internal/report"
)

// mixed blends operations by weight (cfg.Mix), the way a platform loads
// authd: mostly introspection of cached tokens, some refreshes (each worker
// keeps its own refresh token chain), a few logins, optionally client
// credentials issuance. Each worker draws every operation at random.
type mixed struct {
	*fixture
	chains
	introAuth []byte
	ccAuth    []byte
	forms     [][]byte // cached tokens to introspect
	logins    [][]byte // password grant bodies
}

// Operations of the mixed scenario, in recorder order.
const (
	mixIntrospect = iota
	mixRefresh
	mixLogin
	mixClientCredentials
	mixRelogin
)

func (s *mixed) Ops() []string {
	return []string{"introspect", "refresh", "login", "client-credentials", "relogin"}
}

func (s *mixed) Setup(ctx context.Context) error {
	return s.timed(
		func() error { return s.registerUsers(ctx, max(min(s.cfg.Users, s.cfg.Workers), 1)) },
		func() error { return s.startChains(ctx, &s.chains) },
		func() error {
			forms, err := s.cachedSet(ctx)
			s.forms, s.logins = forms, s.loginForms()
			s.introAuth, s.ccAuth = s.introspector.BasicAuth(), s.service.BasicAuth()
			return err
		})
}

func (s *mixed) Worker(id int, rec *record.Recorder) load.Worker {
	return &mixedWorker{
		base:   newBase(id, rec, s.cfg),
		s:      s,
		c:      s.chain(id),
		rng:    rand.New(rand.NewPCG(uint64(id), uint64(time.Now().UnixNano()))),
		cursor: id * len(s.forms) / max(s.cfg.Workers, 1),
	}
}

func (s *mixed) Annotate(r *report.Report) {
	r.Setup = s.setupStats()
	s.chains.annotate(r)
	r.Notes = append(r.Notes, "mix: "+s.cfg.Mix.String())
}

// mixedWorker draws each operation by weight.
type mixedWorker struct {
	base
	s      *mixed
	c      *chain
	rng    *rand.Rand
	cursor int
}

func (w *mixedWorker) Do(due time.Time) bool {
	m := w.s.cfg.Mix
	n := w.rng.IntN(m.total())
	w.cursor++
	switch {
	case n < m.Introspect:
		w.introspect(due, mixIntrospect, w.s.introAuth, w.s.forms[w.cursor%len(w.s.forms)])
	case n < m.Introspect+m.Refresh:
		w.refresh(due, mixRefresh, mixRelogin, w.c)
	case n < m.Introspect+m.Refresh+m.Login:
		w.login(due, mixLogin, w.s.logins[w.cursor%len(w.s.logins)])
	default:
		w.clientCredentials(due, mixClientCredentials, w.s.ccAuth)
	}
	return true
}
