package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authd/authd/cluster/looptest"
)

// The tests in this file build the real binary and drive it as a user
// would: over loopback, with signals, with the CLI.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func authdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "authd-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "authd")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string { return looptest.FreeAddr(t) }

// node is one running authd process.
type node struct {
	t       *testing.T
	cmd     *exec.Cmd
	dataDir string
	addr    string
	admin   string
	stderr  *lockedBuffer
	done    chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startNode starts authd serve on dataDir with fresh loopback ports.
func startNode(t *testing.T, dataDir string, extra ...string) *node {
	t.Helper()
	n := &node{t: t, dataDir: dataDir, addr: freeAddr(t), admin: freeAddr(t),
		stderr: &lockedBuffer{}, done: make(chan error, 1)}
	args := append([]string{"serve", "--addr", n.addr, "--admin-addr", n.admin,
		"--data-dir", dataDir, "--login-rate", "-1", "--log-level", "debug"}, extra...)
	n.cmd = exec.Command(authdBinary(t), args...)
	n.cmd.Stderr = n.stderr
	n.cmd.Env = cleanEnv()
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.done <- n.cmd.Wait() }()
	t.Cleanup(func() {
		n.cmd.Process.Kill()
		<-n.done
		if t.Failed() {
			t.Logf("authd log:\n%s", n.stderr.String())
		}
	})
	n.waitReady()
	return n
}

// cleanEnv is the environment without AUTHD_* variables, so a developer's
// shell cannot change what the tests run.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUTHD_") {
			env = append(env, kv)
		}
	}
	return env
}

func (n *node) waitReady() {
	n.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + n.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-n.done:
			n.done <- err
			n.t.Fatalf("authd exited: %v\n%s", err, n.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	n.t.Fatalf("authd not ready after 20s\n%s", n.stderr.String())
}

func (n *node) url(path string) string { return "http://" + n.addr + path }

func (n *node) postJSON(path string, v any, bearer string) (int, map[string]any) {
	n.t.Helper()
	b, _ := json.Marshal(v)
	req, _ := http.NewRequest(http.MethodPost, n.url(path), bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return n.send(req)
}

func (n *node) postForm(path string, v url.Values, id, secret string) (int, map[string]any) {
	n.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, n.url(path), strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return n.send(req)
}

func (n *node) send(req *http.Request) (int, map[string]any) {
	n.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(body, &m)
	return resp.StatusCode, m
}

// cli runs an authd subcommand against n's admin listener.
func (n *node) cli(args ...string) (string, error) {
	n.t.Helper()
	full := append(args[:2:2], "--admin-url", "http://"+n.admin, "--data-dir", n.dataDir)
	full = append(full, args[2:]...)
	var out, errb bytes.Buffer
	cmd := exec.Command(authdBinary(n.t), full...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = cleanEnv()
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%v: %s", err, errb.String())
	}
	return out.String(), nil
}

func (n *node) login(email, pw string) map[string]any {
	n.t.Helper()
	status, m := n.postForm("/token", url.Values{"grant_type": {"password"},
		"client_id": {"dashboard"}, "username": {email}, "password": {pw}}, "", "")
	if status != 200 {
		n.t.Fatalf("login: %d %v", status, m)
	}
	return m
}

func (n *node) active(id, secret, tok string) bool {
	n.t.Helper()
	status, m := n.postForm("/introspect", url.Values{"token": {tok}}, id, secret)
	if status != 200 {
		n.t.Fatalf("introspect: %d %v", status, m)
	}
	return m["active"] == true
}

const pw = "correct horse battery staple"

// TestQuickstart follows the README's quickstart against the real binary
// with zero configuration: default client, generated admin key, the CLI.
func TestQuickstart(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir)

	info, err := os.Stat(filepath.Join(dir, "admin.key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("admin.key: %v %v", info, err)
	}
	key, _ := os.ReadFile(filepath.Join(dir, "admin.key"))
	if strings.Contains(n.stderr.String(), strings.TrimSpace(string(key))) {
		t.Fatal("the admin key was logged")
	}

	status, m := n.postJSON("/register", map[string]string{"email": "ann@example.com",
		"password": pw}, "")
	if status != 201 {
		t.Fatalf("register: %d %v", status, m)
	}
	uid := m["user_id"].(string)
	tok := n.login("ann@example.com", pw)

	out, err := n.cli("client", "create", "--name", "api-gateway", "--scope", "introspect")
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("client create output %q: %v", out, err)
	}
	id, secret := c["client_id"].(string), c["client_secret"].(string)
	if !n.active(id, secret, tok["access_token"].(string)) {
		t.Fatal("access token not active")
	}

	out, err = n.cli("user", "find", "ann@example.com")
	if err != nil || !strings.Contains(out, uid) {
		t.Fatalf("user find: %q %v", out, err)
	}
	if _, err := n.cli("user", "revoke", uid); err != nil {
		t.Fatal(err)
	}
	if n.active(id, secret, tok["access_token"].(string)) {
		t.Error("token active after authd user revoke")
	}
	if _, err := n.cli("user", "disable", uid); err != nil {
		t.Fatal(err)
	}
	if s, _ := n.postForm("/token", url.Values{"grant_type": {"password"}, "client_id": {"dashboard"},
		"username": {"ann@example.com"}, "password": {pw}}, "", ""); s != 400 {
		t.Errorf("login while disabled: %d", s)
	}
	if _, err := n.cli("user", "enable", uid); err != nil {
		t.Fatal(err)
	}
	n.login("ann@example.com", pw)

	out, err = n.cli("client", "list")
	if err != nil || !strings.Contains(out, "dashboard") || !strings.Contains(out, id) ||
		strings.Contains(out, secret) {
		t.Fatalf("client list: %q %v", out, err)
	}
	if _, err := n.cli("client", "delete", id); err != nil {
		t.Fatal(err)
	}
	if _, err := n.cli("user", "revoke", "00000000-0000-4000-8000-000000000000"); err == nil {
		t.Error("revoking an unknown user succeeded")
	}

	resp, err := http.Get("http://" + n.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, name := range []string{
		`authd_http_requests_total{code="200",endpoint="introspect"}`,
		"authd_http_request_duration_seconds_bucket", "authd_cache_hits_total",
		"authd_cache_misses_total", "authd_cache_evictions_total", "authd_password_hash_queue",
		`authd_store_duration_seconds_count{op="create_tokens",outcome="ok"}`,
	} {
		if !bytes.Contains(metrics, []byte(name)) {
			t.Errorf("metrics lack %s", name)
		}
	}
}

// TestKill9LosesNothing: everything acknowledged before a kill -9 is served
// after a restart on the same data directory.
func TestKill9LosesNothing(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir)
	n.postJSON("/register", map[string]string{"email": "bea@example.com", "password": pw}, "")
	out, err := n.cli("client", "create", "--name", "rs", "--scope", "introspect")
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	json.Unmarshal([]byte(out), &c)
	id, secret := c["client_id"].(string), c["client_secret"].(string)

	kept := n.login("bea@example.com", pw)
	revoked := n.login("bea@example.com", pw)
	rotated := n.login("bea@example.com", pw)
	if s, _ := n.postForm("/revoke", url.Values{"token": {revoked["refresh_token"].(string)},
		"client_id": {"dashboard"}}, "", ""); s != 200 {
		t.Fatalf("revoke: %d", s)
	}
	s, next := n.postForm("/token", url.Values{"grant_type": {"refresh_token"},
		"client_id": {"dashboard"}, "refresh_token": {rotated["refresh_token"].(string)}}, "", "")
	if s != 200 {
		t.Fatalf("refresh: %d", s)
	}

	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
	n.done <- nil

	m := startNode(t, dir)
	if !m.active(id, secret, kept["access_token"].(string)) {
		t.Error("access token lost across kill -9")
	}
	if m.active(id, secret, revoked["access_token"].(string)) {
		t.Error("revocation lost across kill -9")
	}
	if m.active(id, secret, rotated["refresh_token"].(string)) {
		t.Error("rotation lost across kill -9: the old refresh token is active again")
	}
	if !m.active(id, secret, next["refresh_token"].(string)) {
		t.Error("rotated refresh token lost across kill -9")
	}
	m.login("bea@example.com", pw)
}

// TestSIGTERMDrains: serve exits 0 within a few seconds of SIGTERM.
func TestSIGTERMDrains(t *testing.T) {
	n := startNode(t, t.TempDir())
	start := time.Now()
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-n.done:
		n.done <- err
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, n.stderr.String())
		}
		t.Logf("exited %v after SIGTERM", time.Since(start))
	case <-time.After(15 * time.Second):
		t.Fatal("authd did not exit within 15s of SIGTERM")
	}
	if !strings.Contains(n.stderr.String(), "authd stopped") {
		t.Errorf("no clean stop logged:\n%s", n.stderr.String())
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"cluster on embedded store", []string{"--cluster-bind", "127.0.0.1:7946"},
			"--cluster-bind needs the SQL store"},
		{"bad database URL", []string{"--database-url", "mysql://x"}, "postgres://"},
		{"half TLS", []string{"--tls-cert", "x.pem"}, "--tls-cert and --tls-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			args := append([]string{"serve", "--data-dir", t.TempDir()}, tt.args...)
			err := run(context.Background(), args, io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestEnvironmentTwins(t *testing.T) {
	t.Setenv("AUTHD_ACCESS_TTL", "7m")
	t.Setenv("AUTHD_DEFAULT_CLIENT", "")
	cfg, err := parseServeConfig([]string{"--refresh-grace", "2s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AccessTTL != 7*time.Minute || cfg.DefaultClient != "" || cfg.RefreshGrace != 2*time.Second {
		t.Errorf("config = %+v", cfg)
	}
	// The command line wins over the environment.
	cfg, _ = parseServeConfig([]string{"--access-ttl", "3m"}, io.Discard)
	if cfg.AccessTTL != 3*time.Minute {
		t.Errorf("access ttl = %v, want the flag's 3m", cfg.AccessTTL)
	}
	t.Setenv("AUTHD_ACCESS_TTL", "soon")
	if _, err := parseServeConfig(nil, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "AUTHD_ACCESS_TTL") {
		t.Errorf("bad environment value: err = %v", err)
	}
}

var _ = context.Background

// TestSIGTERMWithLingeringConnection: a client holding a connection it
// never used cannot keep a stopping node alive past --shutdown-timeout,
// and the node still exits 0.
func TestSIGTERMWithLingeringConnection(t *testing.T) {
	n := startNode(t, t.TempDir(), "--shutdown-timeout", "1s")
	conn, err := net.Dial("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-n.done:
		n.done <- err
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, n.stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("authd did not exit within 15s of SIGTERM")
	}
}
