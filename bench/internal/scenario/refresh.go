package scenario

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/bench/internal/load"
	"github.com/authd/authd/bench/internal/record"
	"github.com/authd/authd/bench/internal/report"
)

// refresh measures refresh token rotation: every worker is a virtual user
// with its own refresh token chain, started by one login during setup, and
// each operation trades the current refresh token for the next. Chains are
// never shared, so a reused refresh token (which the server treats as theft)
// can only come from a lost answer.
type refresh struct {
	*fixture
	chains
}

func (s *refresh) Ops() []string { return []string{"refresh", "relogin"} }

func (s *refresh) Setup(ctx context.Context) error {
	return s.timed(func() error {
		if err := s.registerUsers(ctx, max(min(s.cfg.Users, s.cfg.Workers), 1)); err != nil {
			return err
		}
		return s.startChains(ctx, &s.chains)
	})
}

func (s *refresh) Worker(id int, rec *record.Recorder) load.Worker {
	return &refreshWorker{base: newBase(id, rec, s.cfg), c: s.chain(id)}
}

func (s *refresh) Annotate(r *report.Report) {
	r.Setup = s.setupStats()
	s.chains.annotate(r)
}

// refreshWorker rotates its own chain.
type refreshWorker struct {
	base
	c *chain
}

func (w *refreshWorker) Do(due time.Time) bool {
	w.refresh(due, 0, 1, w.c)
	return true
}

// chains are the refresh token chains of a scenario, one per worker.
type chains struct {
	starts   [][]byte // per chain: the refresh token setup obtained
	logins   [][]byte // per chain: the password grant body that restarts it
	prefix   []byte   // refresh grant body up to the refresh token
	broken   atomic.Int64
	relogins atomic.Int64
}

// startChains logs in once per worker, round robin over the users, and
// keeps the refresh tokens as the starts of the chains in cs.
func (f *fixture) startChains(ctx context.Context, cs *chains) error {
	n := max(f.cfg.Workers, 1)
	tokens, err := f.login(ctx, n)
	if err != nil {
		return err
	}
	forms := f.loginForms()
	for i, t := range tokens {
		cs.starts = append(cs.starts, []byte(t.Refresh))
		cs.logins = append(cs.logins, forms[i%len(forms)])
	}
	var a fasthttp.Args
	a.Set("grant_type", "refresh_token")
	a.Set("client_id", f.cfg.PublicClient)
	cs.prefix = append(a.AppendBytes(nil), "&refresh_token="...)
	return nil
}

// chain returns the chain of worker id.
func (cs *chains) chain(id int) *chain {
	i := id % len(cs.starts)
	return &chain{cs: cs, rt: append([]byte(nil), cs.starts[i]...), login: cs.logins[i]}
}

func (cs *chains) annotate(r *report.Report) {
	if r.Counters == nil {
		r.Counters = make(map[string]int64)
	}
	r.Counters["chains"] = int64(len(cs.starts))
	r.Counters["chains_broken"] = cs.broken.Load()
	r.Counters["relogins"] = cs.relogins.Load()
}

// chain is one virtual user's refresh token chain. It belongs to one worker.
type chain struct {
	cs    *chains
	rt    []byte // the current refresh token
	login []byte // password grant body that restarts the chain
	dead  bool   // the server refused rt: log in again first
}

// refresh rotates c once, recorded as op. A chain the server refused is
// restarted with a login instead, recorded as reloginOp. After a timeout or
// a transport error the same token is tried again next time: the answer may
// have been lost, which the server's refresh grace window allows for.
func (b *base) refresh(due time.Time, op, reloginOp int, c *chain) {
	if c.dead {
		rt, o := b.login(due, reloginOp, c.login)
		c.cs.relogins.Add(1)
		if o.Class == record.OK {
			c.rt, c.dead = append(c.rt[:0], rt...), false
		}
		return
	}
	b.body = append(b.body[:0], c.cs.prefix...)
	b.body = fasthttp.AppendQuotedArg(b.body, c.rt)
	rt, o := b.token(due, op, nil, true)
	if o.Class == record.OK {
		c.rt = append(c.rt[:0], rt...)
		return
	}
	if o.Class == record.Status && (o.Status == 400 || o.Status == 401) {
		c.dead = true
		c.cs.broken.Add(1)
	}
}
