package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/authd/authd/bench/internal/authapi"
	"github.com/authd/authd/bench/internal/load"
	"github.com/authd/authd/bench/internal/record"
	"github.com/authd/authd/bench/internal/report"
	"github.com/authd/authd/bench/internal/scenario"
)

// teardownTimeout bounds the cleanup after a run, which runs even when the
// run was interrupted.
const teardownTimeout = 10 * time.Second

// loadRun sets a scenario up, runs it and writes the reports.
func loadRun(ctx context.Context, c config, stdout, stderr io.Writer) int {
	targets, admin, err := connect(c)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return exitUsage
	}
	defer closeAll(targets, admin)

	s, err := scenario.New(c.scenario, scenarioConfig(c, targets, admin, stderr))
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return exitUsage
	}
	defer teardown(s, stderr)
	if err := s.Setup(ctx); err != nil {
		fmt.Fprintf(stderr, "bench: setup %s: %v\n", c.scenario, err)
		return exitFailed
	}

	before := serverCounters(ctx, admin)
	r := measure(ctx, c, s, stderr)
	if after := serverCounters(ctx, admin); after != nil && before != nil {
		r.ServerCounters = counterDeltas(before, after)
	}
	return finish(r, c, stdout, stderr)
}

// connect builds the targets and, when a key is known, the admin client.
func connect(c config) ([]*authapi.Target, *authapi.Admin, error) {
	var targets []*authapi.Target
	for _, u := range c.targets {
		t, err := authapi.NewTarget(u, c.model.Concurrency)
		if err != nil {
			closeAll(targets, nil)
			return nil, nil, err
		}
		targets = append(targets, t)
	}
	if c.adminKey == "" {
		return targets, nil, nil
	}
	admin, err := authapi.NewAdmin(c.admin, c.adminKey, c.timeout)
	if err != nil {
		closeAll(targets, nil)
		return nil, nil, err
	}
	return targets, admin, nil
}

func closeAll(targets []*authapi.Target, admin *authapi.Admin) {
	for _, t := range targets {
		t.Close()
	}
	if admin != nil {
		admin.Close()
	}
}

func scenarioConfig(c config, targets []*authapi.Target, admin *authapi.Admin,
	stderr io.Writer) scenario.Config {
	return scenario.Config{
		Targets:      targets,
		Admin:        admin,
		PublicClient: c.clientID,
		Workers:      c.model.Concurrency,
		Users:        c.users,
		Tokens:       c.tokens,
		Pool:         c.pool,
		Flush:        c.flush,
		Mix:          c.mix,
		Timeout:      c.timeout,
		PollDeadline: c.pollDeadline,
		RunID:        runID(),
		Logf: func(format string, args ...any) {
			if !c.quiet {
				fmt.Fprintf(stderr, format+"\n", args...)
			}
		},
	}
}

// runID returns a short random tag for the names of what setup creates.
func runID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

func teardown(s scenario.Scenario, stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), teardownTimeout)
	defer cancel()
	if err := s.Teardown(ctx); err != nil {
		fmt.Fprintln(stderr, "bench: teardown:", err)
	}
}

// measure runs the workers with the clock on and builds the report.
func measure(ctx context.Context, c config, s scenario.Scenario, stderr io.Writer) *report.Report {
	workers := make([]load.Worker, c.model.Concurrency)
	shards := min(c.model.Concurrency, 4*runtime.GOMAXPROCS(0))
	rec := record.New(s.Ops(), shards, time.Now())
	for i := range workers {
		workers[i] = s.Worker(i, rec)
	}

	p := startProgress(rec, stderr, c.quiet)
	res := load.Run(ctx, load.RealClock{}, c.model, workers)
	p.stop()
	rec.Tick(time.Now())

	r := &report.Report{
		Version:  report.Version,
		Scenario: c.scenario,
		Targets:  c.targets,
		Load:     report.LoadOf(c.model),
		Client:   report.ThisClient(),
	}
	r.Fill(rec, res)
	s.Annotate(r)
	return r
}

// serverCounters reads the admin listener's cache counters, or nil when
// there is no admin listener or it exposes none.
func serverCounters(ctx context.Context, admin *authapi.Admin) map[string]float64 {
	if admin == nil {
		return nil
	}
	body, err := admin.Metrics(ctx)
	if err != nil {
		return nil
	}
	m := authapi.Counters(body, "cache")
	if len(m) == 0 {
		return nil
	}
	return m
}

func counterDeltas(before, after map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(after))
	for k, v := range after {
		out[k] = v - before[k]
	}
	return out
}

// finish prints and writes the reports and picks the exit status.
func finish(r *report.Report, c config, stdout, stderr io.Writer) int {
	report.WriteText(stdout, r)
	code := exitOK
	if c.jsonOut != "" {
		if err := r.WriteJSON(c.jsonOut); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			code = exitFailed
		}
	}
	if c.htmlOut != "" {
		if err := report.WriteHTMLFile(c.htmlOut, r); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			code = exitFailed
		}
	}
	if c.compare != "" {
		old, err := report.ReadJSON(c.compare)
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return exitFailed
		}
		fmt.Fprintln(stdout)
		report.WriteCompare(stdout, old, r)
	}
	if v := r.Revocation; code == exitOK && v != nil && (v.Stale > 0 || v.Unenforced > 0) {
		fmt.Fprintln(stderr, "bench: revocation was not enforced at once on every node")
		code = exitViolation
	}
	return code
}
