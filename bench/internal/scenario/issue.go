package scenario

import (
	"context"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/bench/internal/load"
	"github.com/authd/authd/bench/internal/record"
	"github.com/authd/authd/bench/internal/report"
)

// clientCredentials measures token issuance by the client credentials
// grant, authenticated with HTTP Basic: one durable token per request.
type clientCredentials struct {
	*fixture
	auth []byte
}

func (s *clientCredentials) Ops() []string { return []string{"client-credentials"} }

func (s *clientCredentials) Setup(ctx context.Context) error {
	return s.timed(func() error {
		err := s.createClients(ctx, false, true)
		s.auth = s.service.BasicAuth()
		return err
	})
}

func (s *clientCredentials) Worker(id int, rec *record.Recorder) load.Worker {
	return &ccWorker{base: newBase(id, rec, s.cfg), auth: s.auth}
}

func (s *clientCredentials) Annotate(r *report.Report) { r.Setup = s.setupStats() }

// ccWorker requests client credentials tokens.
type ccWorker struct {
	base
	auth []byte
}

func (w *ccWorker) Do(due time.Time) bool {
	w.clientCredentials(due, 0, w.auth)
	return true
}

// clientCredentials requests one client credentials token, recorded as op.
func (b *base) clientCredentials(due time.Time, op int, auth []byte) {
	b.body = append(b.body[:0], "grant_type=client_credentials"...)
	b.token(due, op, auth, false)
}

// login measures the password grant of the public first-party client:
// workers log the registered users in, round robin.
type login struct {
	*fixture
	forms [][]byte // one password grant body per user
}

func (s *login) Ops() []string { return []string{"login"} }

func (s *login) Setup(ctx context.Context) error {
	return s.timed(func() error {
		err := s.registerUsers(ctx, max(s.cfg.Users, 1))
		s.forms = s.loginForms()
		return err
	})
}

// loginForms prepares a password grant body for every user.
func (f *fixture) loginForms() [][]byte {
	out := make([][]byte, len(f.users))
	for i, u := range f.users {
		var a fasthttp.Args
		a.Set("grant_type", "password")
		a.Set("username", u.email)
		a.Set("password", u.password)
		a.Set("client_id", f.cfg.PublicClient)
		out[i] = a.AppendBytes(nil)
	}
	return out
}

func (s *login) Worker(id int, rec *record.Recorder) load.Worker {
	return &loginWorker{base: newBase(id, rec, s.cfg), forms: s.forms, cursor: id}
}

func (s *login) Annotate(r *report.Report) { r.Setup = s.setupStats() }

// loginWorker logs users in, round robin.
type loginWorker struct {
	base
	forms  [][]byte
	cursor int
}

func (w *loginWorker) Do(due time.Time) bool {
	w.login(due, 0, w.forms[w.cursor%len(w.forms)])
	w.cursor++
	return true
}

// login runs one password grant with the prepared body form, recorded as
// op, and returns the refresh token (valid until the next request) with the
// outcome.
func (b *base) login(due time.Time, op int, form []byte) ([]byte, record.Outcome) {
	b.body = append(b.body[:0], form...)
	return b.token(due, op, nil, true)
}
