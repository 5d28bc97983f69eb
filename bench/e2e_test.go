package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authd/authd/bench/internal/report"
	"github.com/authd/authd/bench/internal/scenario"
)

// node is an authd process started for a test.
type node struct {
	public, admin string // base URLs
	keyFile       string
}

// buildAuthd builds ./cmd/authd into a temporary directory. It skips the
// test while the package has no main package, and fails it when the
// package exists but does not build.
func buildAuthd(t *testing.T) string {
	t.Helper()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("find module root: %v", err)
	}
	dir := strings.TrimSpace(string(root))
	pkg := filepath.Join(dir, "cmd", "authd")
	name, err := exec.Command("go", "list", "-f", "{{.Name}}", pkg).Output()
	if err != nil || strings.TrimSpace(string(name)) != "main" {
		t.Skip("./cmd/authd has no main package yet: " +
			"the end-to-end benchmark test needs the authd binary")
	}
	bin := filepath.Join(t.TempDir(), "authd")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/authd")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build ./cmd/authd: %v\n%s", err, out)
	}
	return bin
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startNode runs `authd serve` on free loopback ports with a temporary data
// directory and a per-IP login budget far above what the runs use (every
// login comes from one address), waits until it is ready, and stops it when
// the test ends.
func startNode(t *testing.T, bin string) node {
	t.Helper()
	dir := t.TempDir()
	pub, adm := freePort(t), freePort(t)
	for adm == pub { // the kernel may hand a released port out again
		adm = freePort(t)
	}
	n := node{
		public:  fmt.Sprintf("http://127.0.0.1:%d", pub),
		admin:   fmt.Sprintf("http://127.0.0.1:%d", adm),
		keyFile: filepath.Join(dir, "data", "admin.key"),
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve",
		"--addr", fmt.Sprintf("127.0.0.1:%d", pub), "--admin-addr", fmt.Sprintf("127.0.0.1:%d", adm),
		"--data-dir", filepath.Join(dir, "data"), "--issuer", n.public,
		"--login-rate", "1000000", "--login-burst", "1000000", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start authd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("authd did not stop within 15 s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("authd output:\n%s", logs.String())
		}
	})
	waitReady(t, n, exited, &logs)
	return n
}

// waitReady polls /readyz and the admin key file for up to 30 s.
func waitReady(t *testing.T, n node, exited <-chan error, logs *bytes.Buffer) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("authd exited before it was ready: %v\n%s", err, logs.String())
		default:
		}
		resp, err := client.Get(n.public + "/readyz")
		if err == nil {
			resp.Body.Close()
			if _, kerr := os.Stat(n.keyFile); resp.StatusCode == 200 && kerr == nil {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("authd not ready within 30 s\n%s", logs.String())
}

// e2eRuns are the runs of the end-to-end test: every scenario for about a
// second, with small setups; the single-use pool scenarios and one more
// introspect run use the open model.
var e2eRuns = []struct {
	name string
	args []string
}{
	{"introspect", nil},
	{"introspect-open", []string{"-scenario", "introspect", "-rate", "300"}},
	{"introspect-miss", []string{"-rate", "200"}},
	{"client-credentials", nil},
	{"login", nil},
	{"refresh", nil},
	{"revoke", []string{"-rate", "100"}},
	{"mixed", nil},
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end benchmark against a real node: not in -short mode")
	}
	if len(e2eRuns) != len(scenario.Names)+1 {
		t.Fatalf("e2eRuns covers %d runs, want every scenario plus an open-model run", len(e2eRuns))
	}
	n := startNode(t, buildAuthd(t))
	for _, tt := range e2eRuns {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run.json")
			args := []string{"-scenario", tt.name, "-target", n.public, "-admin", n.admin,
				"-admin-key-file", n.keyFile, "-duration", "1s", "-c", "4", "-users", "4",
				"-tokens", "50", "-quiet", "-json", out, "-html", out + ".html"}
			args = append(args, tt.args...) // a later -scenario wins
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
				t.Fatalf("bench exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			r, err := report.ReadJSON(out)
			if err != nil {
				t.Fatal(err)
			}
			checkPlausible(t, r)
			if t.Failed() {
				t.Logf("report:\n%s", stdout.String())
			}
		})
	}
}

// checkPlausible checks what any healthy run against a healthy node shows.
func checkPlausible(t *testing.T, r *report.Report) {
	t.Helper()
	if r.Requests == 0 || r.ThroughputRPS <= 0 {
		t.Errorf("no requests measured: %d requests, %.1f req/s", r.Requests, r.ThroughputRPS)
	}
	if r.Errors != 0 {
		t.Errorf("%d errors: %v", r.Errors, r.ErrorKinds)
	}
	l := r.Latency
	if !(0 < l.MinMs && l.MinMs <= l.P50Ms && l.P50Ms <= l.P90Ms && l.P90Ms <= l.P99Ms &&
		l.P99Ms <= l.P999Ms && l.P999Ms <= l.MaxMs) {
		t.Errorf("percentiles out of order: %+v", l)
	}
	if len(r.Timeline) == 0 || len(r.Distribution) == 0 {
		t.Errorf("report has %d intervals and %d distribution points",
			len(r.Timeline), len(r.Distribution))
	}
	if r.Scenario == "revoke" {
		v := r.Revocation
		if v == nil || v.Revoked == 0 || v.Stale != 0 || v.Unenforced != 0 {
			t.Errorf("revocation %+v; want revocations and zero stale answers", v)
		}
	}
}
