package scenario

import (
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/bench/internal/authapi"
	"github.com/authd/authd/bench/internal/record"
)

// base is what every worker has: its own Caller (one reused request and
// response), a scratch buffer for form bodies, and a round-robin cursor over
// the targets. Nothing on its hot path allocates.
type base struct {
	id      int
	rec     *record.Recorder
	c       *authapi.Caller
	targets []*authapi.Target
	next    int
	body    []byte
}

func newBase(id int, rec *record.Recorder, cfg Config) base {
	return base{id: id, rec: rec, c: authapi.NewCaller(cfg.Timeout), targets: cfg.Targets,
		next: id, body: make([]byte, 0, 512)}
}

// target returns the next target, round robin.
func (b *base) target() *authapi.Target {
	t := b.targets[b.next%len(b.targets)]
	b.next++
	return t
}

// result is one request's answer and timing. body is valid until the
// worker's next request.
type result struct {
	body      []byte
	o         record.Outcome
	sent, end time.Time
}

// post sends b.body as a form to path on t and classifies the answer by its
// status: anything but want is a failure.
func (b *base) post(t *authapi.Target, path string, auth []byte, want int) result {
	sent := time.Now()
	status, body, err := b.c.Post(t, path, authapi.FormType, auth, b.body)
	r := result{body: body, sent: sent, end: time.Now()}
	switch {
	case err != nil:
		r.o = record.Outcome{Class: authapi.Classify(err)}
	case status != want:
		r.o = record.Outcome{Class: record.Status, Status: status}
	}
	return r
}

// record counts r as operation op, due at due.
func (b *base) record(op int, due time.Time, r *result) {
	b.rec.Record(b.id, op, r.end.Sub(due), r.end.Sub(r.sent), r.o)
}

// introspect asks the next target about the token in form (a prepared
// "token=…" body), authenticating with auth, and records the answer as op.
// A 200 answer must say active:true.
func (b *base) introspect(due time.Time, op int, auth, form []byte) {
	b.body = append(b.body[:0], form...)
	r := b.post(b.target(), "/introspect", auth, 200)
	if r.o.Class == record.OK {
		r.o.Class = activeClass(r.body)
	}
	b.record(op, due, &r)
}

// activeClass classifies an introspection answer about a token that must be
// active.
func activeClass(body []byte) record.Class {
	active, ok := authapi.Active(body)
	switch {
	case !ok:
		return record.Protocol
	case !active:
		return record.Inactive
	}
	return record.OK
}

// token sends the prepared b.body to /token on the next target and records
// the answer as op. A 200 answer must hold an access token, and a refresh
// token when wantRefresh is set, which token then returns (valid until the
// next request) with the outcome.
func (b *base) token(due time.Time, op int, auth []byte,
	wantRefresh bool) ([]byte, record.Outcome) {
	r := b.post(b.target(), "/token", auth, 200)
	var refresh []byte
	if r.o.Class == record.OK {
		_, okA := authapi.Field(r.body, "access_token")
		var okR bool
		refresh, okR = authapi.Field(r.body, "refresh_token")
		if !okA || (wantRefresh && !okR) {
			r.o.Class = record.Protocol
		}
	}
	b.record(op, due, &r)
	return refresh, r.o
}

// tokenForm prepares "token=…" bodies for a set of tokens, so that workers
// only copy them.
func tokenForms(tokens []string) [][]byte {
	out := make([][]byte, len(tokens))
	for i, t := range tokens {
		out[i] = fasthttp.AppendQuotedArg([]byte("token="), []byte(t))
	}
	return out
}
