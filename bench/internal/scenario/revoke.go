package scenario

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/authd/authd/bench/internal/authapi"
	"github.com/authd/authd/bench/internal/hist"
	"github.com/authd/authd/bench/internal/load"
	"github.com/authd/authd/bench/internal/record"
	"github.com/authd/authd/bench/internal/report"
)

// pollInterval is how often the revoke scenario asks a stale node again.
const pollInterval = time.Millisecond

// revoke measures revocation and checks its guarantee: once /revoke has
// answered, no node may answer active:true for the token. Setup issues
// cfg.Pool client credentials tokens and introspects each on every target,
// so that every node holds them in its cache. Each operation revokes one
// token (as its owning client, on the next target), then introspects it once
// on every target in turn. A node that still answers active:true is a stale
// answer; the scenario then polls that node until it answers active:false
// or cfg.PollDeadline passes, to measure how long enforcement took. The run
// ends when the pool is used up.
type revoke struct {
	*fixture
	introAuth []byte
	revAuth   []byte
	forms     [][]byte // "token=…" bodies
	next      atomic.Int64

	revoked    atomic.Int64
	checks     atomic.Int64
	stale      atomic.Int64
	unenforced atomic.Int64
	polls      atomic.Int64

	mu          sync.Mutex // guards enforcement
	enforcement *hdrhistogram.Histogram
}

// Operations of the revoke scenario, in recorder order.
const (
	opRevoke = iota
	opCheck
)

func (s *revoke) Ops() []string { return []string{"revoke", "introspect-after-revoke"} }

func (s *revoke) Setup(ctx context.Context) error {
	s.enforcement = hist.New()
	var tokens []string
	return s.timed(
		func() error { return s.createClients(ctx, true, true) },
		func() (err error) { tokens, err = s.issue(ctx, s.cfg.Pool); return err },
		func() error {
			s.forms = tokenForms(tokens)
			s.introAuth, s.revAuth = s.introspector.BasicAuth(), s.service.BasicAuth()
			return s.warm(ctx, tokens)
		})
}

func (s *revoke) Worker(id int, rec *record.Recorder) load.Worker {
	return &revokeWorker{base: newBase(id, rec, s.cfg), s: s}
}

func (s *revoke) Annotate(r *report.Report) {
	r.Setup = s.setupStats()
	s.mu.Lock()
	enf := hist.Summarize(s.enforcement)
	s.mu.Unlock()
	r.Revocation = &report.Revocation{
		Revoked:       s.revoked.Load(),
		Checks:        s.checks.Load(),
		Stale:         s.stale.Load(),
		Unenforced:    s.unenforced.Load(),
		PollDeadlineS: s.cfg.PollDeadline.Seconds(),
		Enforcement:   enf,
	}
	if r.Counters == nil {
		r.Counters = make(map[string]int64)
	}
	r.Counters["stale_polls"] = s.polls.Load()
	r.Notes = append(r.Notes, fmt.Sprintf(
		"every revoked token was checked once on each of %d targets right after the revoke answer",
		len(s.cfg.Targets)))
}

// revokeWorker revokes tokens of the pool and checks every node.
type revokeWorker struct {
	base
	s *revoke
}

func (w *revokeWorker) Do(due time.Time) bool {
	i := w.s.next.Add(1) - 1
	if i >= int64(len(w.s.forms)) {
		return false
	}
	form := w.s.forms[i]

	// RFC 7009 §2.1: the hint only speeds the lookup up.
	w.body = append(append(w.body[:0], form...), "&token_type_hint=access_token"...)
	r := w.post(w.target(), "/revoke", w.s.revAuth, 200)
	w.record(opRevoke, due, &r)
	if r.o.Class != record.OK {
		return true
	}
	w.s.revoked.Add(1)
	w.checkAll(form, r.end)
	return true
}

// checkAll introspects the revoked token on every target and records how
// long enforcement took, from revokedAt.
func (w *revokeWorker) checkAll(form []byte, revokedAt time.Time) {
	var worst time.Duration
	enforced := true
	for _, t := range w.targets {
		active, ok := w.check(t, form)
		if !ok {
			enforced = false // unknown: the check itself failed
			continue
		}
		if !active {
			continue
		}
		w.s.stale.Add(1)
		d, ok := w.poll(t, form, revokedAt)
		if !ok {
			w.s.unenforced.Add(1)
			return
		}
		worst = max(worst, d)
	}
	if enforced {
		w.s.mu.Lock()
		hist.Record(w.s.enforcement, worst)
		w.s.mu.Unlock()
	}
}

// check introspects the token on t once, recorded as opCheck from the time
// it was sent. ok is false when the check failed.
func (w *revokeWorker) check(t *authapi.Target, form []byte) (active, ok bool) {
	w.body = append(w.body[:0], form...)
	r := w.post(t, "/introspect", w.s.introAuth, 200)
	if r.o.Class == record.OK {
		active, ok = authapi.Active(r.body)
		if !ok {
			r.o.Class = record.Protocol
		}
	}
	w.record(opCheck, r.sent, &r)
	w.s.checks.Add(1)
	return active, ok
}

// poll asks t about the token until it answers active:false, and returns how
// long after revokedAt that answer came; ok is false if it never did before
// the poll deadline. Polls are not recorded as requests.
func (w *revokeWorker) poll(t *authapi.Target, form []byte,
	revokedAt time.Time) (time.Duration, bool) {
	deadline := revokedAt.Add(w.s.cfg.PollDeadline)
	for time.Now().Before(deadline) {
		time.Sleep(pollInterval)
		w.body = append(w.body[:0], form...)
		r := w.post(t, "/introspect", w.s.introAuth, 200)
		w.s.polls.Add(1)
		if r.o.Class != record.OK {
			continue
		}
		if active, ok := authapi.Active(r.body); ok && !active {
			return r.end.Sub(revokedAt), true
		}
	}
	return 0, false
}
