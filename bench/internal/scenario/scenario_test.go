package scenario

import (
	"context"
	"testing"
	"time"

	"github.com/authd/authd/bench/internal/authapi"
	"github.com/authd/authd/bench/internal/load"
	"github.com/authd/authd/bench/internal/record"
	"github.com/authd/authd/bench/internal/report"
)

// runScenario sets the named scenario up against the fake, runs ops
// operations on 4 workers and returns the report.
func runScenario(t *testing.T, name string, staleReads int, ops int64) *report.Report {
	t.Helper()
	public, adminURL := startFake(t, staleReads)
	var targets []*authapi.Target
	for range 2 { // the same node twice stands in for a two-node cluster
		tg, err := authapi.NewTarget(public, 4)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, tg)
	}
	admin, err := authapi.NewAdmin(adminURL, "test-admin-key", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Targets: targets, Admin: admin, PublicClient: "dashboard", Workers: 4,
		Users: 3, Tokens: 20, Pool: int(ops), Mix: Mix{Introspect: 5, Refresh: 3, Login: 1,
			ClientCredentials: 1}, Timeout: time.Second, PollDeadline: time.Second, RunID: "t"}
	s, err := New(name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Setup(ctx); err != nil {
		t.Fatalf("setup: %v", err)
	}
	rec := record.New(s.Ops(), 2, time.Now())
	workers := make([]load.Worker, cfg.Workers)
	for i := range workers {
		workers[i] = s.Worker(i, rec)
	}
	m := load.Model{Concurrency: cfg.Workers, Requests: ops, Duration: time.Minute}
	res := load.Run(ctx, load.RealClock{}, m, workers)
	rec.Tick(time.Now())
	r := &report.Report{Scenario: name, Load: report.LoadOf(m)}
	r.Fill(rec, res)
	s.Annotate(r)
	if err := s.Teardown(ctx); err != nil {
		t.Errorf("teardown: %v", err)
	}
	return r
}

func TestScenariosAgainstFake(t *testing.T) {
	for _, name := range Names {
		t.Run(name, func(t *testing.T) {
			r := runScenario(t, name, 0, 200)
			if r.Errors != 0 {
				t.Errorf("%d errors: %v", r.Errors, r.ErrorKinds)
			}
			if r.Requests < 200 {
				t.Errorf("%d requests, want at least 200", r.Requests)
			}
			l := r.Latency
			if l.Count == 0 || l.P50Ms > l.P99Ms || l.P99Ms > l.MaxMs {
				t.Errorf("implausible latency summary %+v", r.Latency)
			}
		})
	}
}

func TestRevokeChecksEveryTarget(t *testing.T) {
	r := runScenario(t, "revoke", 0, 50)
	v := r.Revocation
	if v == nil {
		t.Fatal("no revocation section")
	}
	if v.Revoked != 50 || v.Checks != 100 || v.Stale != 0 || v.Unenforced != 0 {
		t.Errorf("revocation %+v; want 50 revoked, 100 checks (2 targets), nothing stale", v)
	}
}

func TestRevokeCountsStaleAnswers(t *testing.T) {
	// The fake answers active:true twice after each revocation: both checks
	// (one per target) are stale, and polling sees the revocation enforced.
	r := runScenario(t, "revoke", 2, 20)
	v := r.Revocation
	if v.Stale != 20 || v.Unenforced != 0 {
		t.Errorf("revocation %+v; want 20 stale answers, all enforced while polling", v)
	}
	if v.Enforcement.Count != 20 || v.Enforcement.MaxMs <= 0 {
		t.Errorf("enforcement %+v; want 20 positive delays", v.Enforcement)
	}
}

func TestIntrospectMissStopsWhenPoolIsUsedUp(t *testing.T) {
	public, adminURL := startFake(t, 0)
	tg, _ := authapi.NewTarget(public, 2)
	admin, _ := authapi.NewAdmin(adminURL, "test-admin-key", time.Second)
	s, _ := New("introspect-miss", Config{Targets: []*authapi.Target{tg}, Admin: admin,
		Workers: 2, Pool: 30, Timeout: time.Second, RunID: "t"})
	if err := s.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec := record.New(s.Ops(), 1, time.Now())
	ws := []load.Worker{s.Worker(0, rec), s.Worker(1, rec)}
	m := load.Model{Concurrency: 2, Duration: time.Minute}
	res := load.Run(context.Background(), load.RealClock{}, m, ws)
	rec.Tick(time.Now())
	ops, _ := rec.Totals()
	if res.Stop != load.StopExhausted || ops[0].Requests != 30 {
		t.Errorf("stop %q after %d requests; want %q after exactly 30",
			res.Stop, ops[0].Requests, load.StopExhausted)
	}
}

func TestParseMix(t *testing.T) {
	tests := []struct {
		give    string
		want    Mix
		wantErr bool
	}{
		{give: "introspect=90,refresh=8,login=2", want: DefaultMix},
		{give: "introspect=1, client-credentials=3", want: Mix{Introspect: 1, ClientCredentials: 3}},
		{give: "introspect=0", wantErr: true},
		{give: "logout=3", wantErr: true},
		{give: "introspect=-1,login=2", wantErr: true},
		{give: "introspect", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseMix(tt.give)
		if (err != nil) != tt.wantErr || (err == nil && got != tt.want) {
			t.Errorf("ParseMix(%q) = %+v, %v; want %+v, error %v", tt.give, got, err, tt.want, tt.wantErr)
		}
	}
	if m, _ := ParseMix(DefaultMix.String()); m != DefaultMix {
		t.Errorf("ParseMix(DefaultMix.String()) = %+v", m)
	}
}
