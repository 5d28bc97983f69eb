package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/authd/authd/bench/internal/load"
	"github.com/authd/authd/bench/internal/scenario"
)

// errHelp means -h was asked for; the usage text is already printed.
var errHelp = errors.New("help requested")

// defaultPool is the single-use token pool of a run bounded by time alone in
// the closed model, where the number of operations cannot be known ahead.
const defaultPool = 10000

// config is the parsed command line of a load run.
type config struct {
	scenario     string
	targets      []string
	admin        string
	adminKey     string
	clientID     string
	model        load.Model
	timeout      time.Duration
	users        int
	tokens       int
	pool         int
	flush        int
	mix          scenario.Mix
	pollDeadline time.Duration
	jsonOut      string
	htmlOut      string
	compare      string
	quiet        bool
	selfTest     bool
}

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var targets listFlag
	var keyFile, mix string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.scenario, "scenario", "introspect",
		"what to measure: "+strings.Join(scenario.Names, ", "))
	fs.Var(&targets, "target",
		"public listener base URL; repeat or comma-separate for a cluster "+
			"(default http://127.0.0.1:8080)")
	fs.StringVar(&c.admin, "admin", "http://127.0.0.1:8081", "admin listener base URL")
	fs.StringVar(&c.adminKey, "admin-key", "", "admin key (default $AUTHD_ADMIN_KEY)")
	fs.StringVar(&keyFile, "admin-key-file", "",
		"file holding the admin key, such as <data-dir>/admin.key")
	fs.StringVar(&c.clientID, "client-id", "dashboard",
		"public first-party client for logins and refreshes")
	fs.IntVar(&c.model.Concurrency, "c", 32,
		"concurrent connections (closed model) or most requests in flight (open model)")
	fs.Float64Var(&c.model.Rate, "rate", 0,
		"open model: operations per second; 0 runs the closed model")
	fs.DurationVar(&c.model.Duration, "duration", 10*time.Second,
		"stop after this long; 0 for no time bound")
	fs.Int64Var(&c.model.Requests, "n", 0, "stop after this many operations; 0 for no count bound")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "per-request timeout")
	fs.IntVar(&c.users, "users", 16, "users to register for logins")
	fs.IntVar(&c.tokens, "tokens", 1000, "cached tokens to introspect (introspect, mixed)")
	fs.IntVar(&c.pool, "pool", 0,
		"single-use tokens (introspect-miss, revoke); 0 sizes it from -n or -rate")
	fs.IntVar(&c.flush, "flush", 0,
		"introspect-miss: tokens to issue after the pool to push it out of the server's cache")
	fs.StringVar(&mix, "mix", scenario.DefaultMix.String(), "mixed scenario weights")
	fs.DurationVar(&c.pollDeadline, "poll-deadline", 2*time.Second,
		"revoke: how long to poll a node that still answers active:true")
	fs.StringVar(&c.jsonOut, "json", "", "write the JSON report to this file")
	fs.StringVar(&c.htmlOut, "html", "", "write the HTML report to this file")
	fs.StringVar(&c.compare, "compare", "", "print the change against this earlier JSON report")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress line")
	fs.BoolVar(&c.selfTest, "self-test", false,
		"measure the client alone against an in-process endpoint on one core")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, errHelp
		}
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	c.targets = targets
	if len(c.targets) == 0 {
		c.targets = []string{"http://127.0.0.1:8080"}
	}
	var err error
	if c.mix, err = scenario.ParseMix(mix); err != nil {
		return c, err
	}
	if c.adminKey, err = adminKey(c.adminKey, keyFile); err != nil {
		return c, err
	}
	c.pool = poolSize(c.pool, c.model)
	return c, c.validate()
}

// adminKey picks the key from the flag, the file, or the environment.
func adminKey(key, file string) (string, error) {
	if key != "" && file != "" {
		return "", errors.New("give -admin-key or -admin-key-file, not both")
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("admin key: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if key == "" {
		key = os.Getenv("AUTHD_ADMIN_KEY")
	}
	return key, nil
}

// poolSize returns the size of the single-use token pool: as given, else
// enough for the request bound, else for the open model's rate times its
// duration, else defaultPool.
func poolSize(pool int, m load.Model) int {
	switch {
	case pool > 0:
		return pool
	case m.Requests > 0:
		return int(m.Requests)
	case m.Open() && m.Duration > 0:
		return int(m.Rate*m.Duration.Seconds()) + 1
	}
	return defaultPool
}

func (c config) validate() error {
	switch {
	case c.model.Concurrency < 1:
		return errors.New("-c must be at least 1")
	case c.model.Rate < 0:
		return errors.New("-rate must not be negative")
	case c.model.Duration < 0 || c.model.Requests < 0:
		return errors.New("-duration and -n must not be negative")
	case c.model.Duration == 0 && c.model.Requests == 0:
		return errors.New("give -duration or -n (or both): a run must stop by itself")
	case c.timeout <= 0:
		return errors.New("-timeout must be positive")
	case c.users < 1 || c.tokens < 1:
		return errors.New("-users and -tokens must be at least 1")
	case c.flush < 0:
		return errors.New("-flush must not be negative")
	}
	return nil
}
