// Package scenario defines what the benchmark asks of authd: the setup each
// scenario makes through the API before the clock starts, and the workers
// that repeat its operations while the clock runs.
package scenario

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/authd/authd/bench/internal/authapi"
	"github.com/authd/authd/bench/internal/load"
	"github.com/authd/authd/bench/internal/record"
	"github.com/authd/authd/bench/internal/report"
)

// Config is what scenarios are built from.
type Config struct {
	Targets      []*authapi.Target // public listeners; requests are spread over them
	Admin        *authapi.Admin    // admin listener; nil when none was given
	PublicClient string            // id of the public first-party client ("dashboard")
	Workers      int               // workers that will run, one virtual user each
	Users        int               // users to register for logins
	Tokens       int               // size of the set of cached tokens to introspect
	Pool         int               // single-use tokens for introspect-miss and revoke
	Flush        int               // introspect-miss: tokens issued after the pool to evict it
	Mix          Mix               // operation weights of the mixed scenario
	Timeout      time.Duration     // per request
	PollDeadline time.Duration     // revoke: how long to poll a node that answers stale
	RunID        string            // tags the names of what setup creates
	Logf         func(format string, args ...any)
}

// Scenario is one kind of load. Setup runs once, before Worker is called;
// Worker is called once per worker id, and each Worker it returns is driven
// by one goroutine.
type Scenario interface {
	// Ops names the operations the workers record, in recorder order.
	Ops() []string
	// Setup creates users, clients and tokens through the API.
	Setup(ctx context.Context) error
	// Worker returns the worker with the given id, recording into rec.
	Worker(id int, rec *record.Recorder) load.Worker
	// Annotate adds what the scenario knows beyond the recorder to r.
	Annotate(r *report.Report)
	// Teardown deletes the clients Setup created, best effort.
	Teardown(ctx context.Context) error
}

// Names lists the scenarios New accepts.
var Names = []string{
	"introspect", "introspect-miss", "client-credentials", "login", "refresh", "revoke", "mixed",
}

// New returns the named scenario.
func New(name string, cfg Config) (Scenario, error) {
	if len(cfg.Targets) == 0 {
		return nil, fmt.Errorf("scenario %s: no target", name)
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	f := &fixture{cfg: cfg}
	switch name {
	case "introspect":
		return &introspect{fixture: f}, nil
	case "introspect-miss":
		return &introspectMiss{fixture: f}, nil
	case "client-credentials":
		return &clientCredentials{fixture: f}, nil
	case "login":
		return &login{fixture: f}, nil
	case "refresh":
		return &refresh{fixture: f}, nil
	case "revoke":
		return &revoke{fixture: f}, nil
	case "mixed":
		if cfg.Mix.total() == 0 {
			return nil, fmt.Errorf("scenario mixed: every weight is zero")
		}
		return &mixed{fixture: f}, nil
	}
	return nil, fmt.Errorf("unknown scenario %q (want one of %s)", name, strings.Join(Names, ", "))
}

// Mix holds the relative weights of the operations of the mixed scenario.
type Mix struct {
	Introspect        int
	Refresh           int
	Login             int
	ClientCredentials int
}

// DefaultMix is mostly introspection, some refreshes and a few logins.
var DefaultMix = Mix{Introspect: 90, Refresh: 8, Login: 2}

func (m Mix) total() int { return m.Introspect + m.Refresh + m.Login + m.ClientCredentials }

// String formats m the way ParseMix reads it.
func (m Mix) String() string {
	var parts []string
	for _, kv := range m.pairs() {
		if kv.weight > 0 {
			parts = append(parts, kv.name+"="+strconv.Itoa(kv.weight))
		}
	}
	return strings.Join(parts, ",")
}

type weighted struct {
	name   string
	weight int
}

func (m Mix) pairs() []weighted {
	return []weighted{
		{"introspect", m.Introspect}, {"refresh", m.Refresh},
		{"login", m.Login}, {"client-credentials", m.ClientCredentials},
	}
}

// ParseMix reads weights such as "introspect=90,refresh=8,login=2";
// operations left out weigh zero.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for _, part := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		w, err := strconv.Atoi(val)
		if !ok || err != nil || w < 0 {
			return Mix{}, fmt.Errorf("mix %q: want name=weight, weight a whole number >= 0", part)
		}
		switch name {
		case "introspect":
			m.Introspect = w
		case "refresh":
			m.Refresh = w
		case "login":
			m.Login = w
		case "client-credentials":
			m.ClientCredentials = w
		default:
			names := []string{}
			for _, kv := range m.pairs() {
				names = append(names, kv.name)
			}
			sort.Strings(names)
			return Mix{}, fmt.Errorf("mix: unknown operation %q (want %s)", name,
				strings.Join(names, ", "))
		}
	}
	if m.total() == 0 {
		return Mix{}, fmt.Errorf("mix %q: every weight is zero", s)
	}
	return m, nil
}
