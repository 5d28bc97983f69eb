package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authd/authd/tokenstore/pgtest"
)

// The tests in this file run real three-node clusters: three authd serve
// processes on loopback sharing one throwaway PostgreSQL database, and
// check the revocation guarantee (no node answers active:true for a token
// once its revocation has returned) while messages are lost, a node is
// paused past its lease, or a node is killed and restarted.

// TestMain is in sql_e2e_test.go.

const (
	clusterAdminKey = "cluster-test-admin-key-0123456789"
	clusterPassword = "correct horse battery staple"
)

// member is one authd process of a test cluster.
type member struct {
	name             string
	addr, admin      string
	gossip, peerAddr string
	args             []string
	env              []string
	dataDir          string

	mu     sync.Mutex // guards cmd, stderr and done across restarts
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan error
}

// testCluster is a running cluster and the clients the tests use on it.
type testCluster struct {
	t        *testing.T
	members  []*member
	http     *http.Client
	introID  string
	introSec string
}

// newTestCluster starts n nodes that all list each other as seeds, waits
// until every one is ready, and creates an introspecting client. env is
// added to every node's environment; extra to every node's flags.
func newTestCluster(t *testing.T, n int, env []string, extra ...string) *testCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("multi-process cluster test")
	}
	db := pgtest.URL(t)
	if out, err := exec.Command(authdBinary(t), "migrate", "--database-url", db).
		CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	key := base64.StdEncoding.EncodeToString([]byte("cluster-test-key-0123456789abcde"))
	c := &testCluster{t: t, http: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	for i := range n {
		c.members = append(c.members, &member{name: fmt.Sprintf("node%d", i),
			addr: freeAddr(t), admin: freeAddr(t), gossip: freeAddr(t), peerAddr: freeAddr(t),
			dataDir: t.TempDir()})
	}
	for _, m := range c.members {
		var seeds []string
		for _, o := range c.members {
			if o != m {
				seeds = append(seeds, o.gossip)
			}
		}
		m.args = append([]string{"serve", "--addr", m.addr, "--admin-addr", m.admin,
			"--data-dir", m.dataDir, "--database-url", db, "--admin-key", clusterAdminKey,
			"--login-rate", "-1", "--password-hash-memory", "8",
			"--cluster-name", m.name, "--cluster-bind", m.gossip,
			"--cluster-peer-addr", m.peerAddr, "--cluster-join", strings.Join(seeds, ","),
			"--cluster-key", key}, extra...)
		m.env = append(cleanEnv(), env...)
	}
	for _, m := range c.members {
		c.start(m)
	}
	for _, m := range c.members {
		c.waitReady(m)
	}
	c.introID, c.introSec = c.createIntrospector()
	return c
}

// start starts m's process (again, after a kill).
func (c *testCluster) start(m *member) {
	c.t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cmd = exec.Command(authdBinary(c.t), m.args...)
	m.stderr = &lockedBuffer{}
	m.cmd.Stderr, m.cmd.Env = m.stderr, m.env
	if err := m.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	done := make(chan error, 1)
	m.done = done
	cmd, stderr := m.cmd, m.stderr
	go func() { done <- cmd.Wait() }()
	c.t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		err := <-done
		done <- err
		if c.t.Failed() {
			c.t.Logf("%s log (tail):\n%s", m.name, tail(stderr.String(), 60))
		}
	})
}

func tail(s string, lines int) string {
	ls := strings.Split(s, "\n")
	return strings.Join(ls[max(0, len(ls)-lines):], "\n")
}

// kill sends SIGKILL to m and waits for it to die.
func (c *testCluster) kill(m *member) {
	m.mu.Lock()
	cmd, done := m.cmd, m.done
	m.mu.Unlock()
	cmd.Process.Kill()
	err := <-done
	done <- err
}

func (c *testCluster) signal(m *member, sig syscall.Signal) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.cmd.Process.Signal(sig); err != nil {
		c.t.Fatal(err)
	}
}

func (c *testCluster) waitReady(m *member) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := c.http.Get("http://" + m.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		m.mu.Lock()
		done := m.done
		m.mu.Unlock()
		select {
		case err := <-done:
			done <- err
			c.t.Fatalf("%s exited: %v\n%s", m.name, err, tail(m.stderr.String(), 40))
		case <-time.After(50 * time.Millisecond):
		}
	}
	c.t.Fatalf("%s not ready after 30s\n%s", m.name, tail(m.stderr.String(), 40))
}

// call sends one request and decodes a JSON answer. It never fails the test
// itself, so that it may run on any goroutine.
func (c *testCluster) call(method, u, ctype string, body io.Reader, auth func(*http.Request)) (
	int, map[string]any, error) {
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return 0, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != nil {
		auth(req)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	json.Unmarshal(b, &v)
	return resp.StatusCode, v, nil
}

func (c *testCluster) form(m *member, path string, v url.Values, id, secret string) (
	int, map[string]any, error) {
	var auth func(*http.Request)
	if secret != "" {
		auth = func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
	}
	return c.call("POST", "http://"+m.addr+path, "application/x-www-form-urlencoded",
		strings.NewReader(v.Encode()), auth)
}

func (c *testCluster) jsonCall(u string, v any, bearer string) (int, map[string]any, error) {
	var body io.Reader
	ctype := ""
	if v != nil {
		b, _ := json.Marshal(v)
		body, ctype = bytes.NewReader(b), "application/json"
	}
	return c.call("POST", u, ctype, body, func(r *http.Request) {
		if bearer != "" {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
	})
}

func (c *testCluster) adminPost(m *member, path string, v any) (int, map[string]any, error) {
	return c.jsonCall("http://"+m.admin+path, v, clusterAdminKey)
}

func (c *testCluster) createIntrospector() (string, string) {
	c.t.Helper()
	status, v, err := c.adminPost(c.members[0], "/admin/clients", map[string]any{
		"name": "resource-server", "scopes": []string{"introspect"},
		"grant_types": []string{"client_credentials"}})
	if err != nil || status != 201 {
		c.t.Fatalf("create introspector: %d %v %v", status, v, err)
	}
	return v["client_id"].(string), v["client_secret"].(string)
}

// register creates a user and returns its id.
func (c *testCluster) register(email string) (string, error) {
	status, v, err := c.jsonCall("http://"+c.members[0].addr+"/register",
		map[string]string{"email": email, "password": clusterPassword}, "")
	if err != nil || status != 201 {
		return "", fmt.Errorf("register %s: %d %v %v", email, status, v, err)
	}
	return v["user_id"].(string), nil
}

// pair is an access and refresh token from one login.
type pair struct{ access, refresh string }

func (c *testCluster) login(m *member, email, password string) (pair, error) {
	status, v, err := c.form(m, "/token", url.Values{"grant_type": {"password"},
		"client_id": {"dashboard"}, "username": {email}, "password": {password}}, "", "")
	if err != nil || status != 200 {
		return pair{}, fmt.Errorf("login on %s: %d %v %v", m.name, status, v, err)
	}
	return pair{v["access_token"].(string), v["refresh_token"].(string)}, nil
}

// introspect asks m whether tok is active.
func (c *testCluster) introspect(m *member, tok string) (bool, error) {
	status, v, err := c.form(m, "/introspect", url.Values{"token": {tok}}, c.introID, c.introSec)
	if err != nil {
		return false, err
	}
	if status != 200 {
		return false, fmt.Errorf("introspect on %s: %d %v", m.name, status, v)
	}
	return v["active"] == true, nil
}

// answers introspects every token on every member in parallel and returns
// how many answers were active, and the first error.
func (c *testCluster) answers(ms []*member, toks ...string) (active int, err error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range ms {
		for _, tok := range toks {
			wg.Go(func() {
				a, e := c.introspect(m, tok)
				mu.Lock()
				defer mu.Unlock()
				if e != nil && err == nil {
					err = e
				}
				if a {
					active++
				}
			})
		}
	}
	wg.Wait()
	return active, err
}

// Revocation methods the rounds cycle through.
const (
	viaRevokeRefresh  = iota // POST /revoke of the refresh token (its family)
	viaAdminRevoke           // POST /admin/users/{id}/revoke
	viaPasswordChange        // POST /password
	viaDisable               // POST /admin/users/{id}/disable, then enable
	revokeMethods
)

var methodNames = [revokeMethods]string{"refresh-token revoke", "admin revoke",
	"password change", "disable+enable"}

// roundStats counts what revocation rounds saw. stale counts active:true
// answers after a revocation returned; missed counts active:false answers
// for tokens that were active.
type roundStats struct {
	mu       sync.Mutex
	rounds   int
	checks   int
	stale    int
	missed   int
	byMethod [revokeMethods]int
	latency  []time.Duration
}

func (s *roundStats) add(method int, lat time.Duration, checks, stale, missed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rounds++
	s.byMethod[method]++
	s.checks += checks
	s.stale += stale
	s.missed += missed
	s.latency = append(s.latency, lat)
}

// report logs the counts and revoke latency percentiles, and fails t on any
// stale or missed answer.
func (s *roundStats) report(t *testing.T, what string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	lat := slices.Clone(s.latency)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	var by []string
	for i, n := range s.byMethod {
		by = append(by, fmt.Sprintf("%s %d", methodNames[i], n))
	}
	t.Logf("%s: %d rounds (%s), %d introspections after revoke, %d stale, %d missed; "+
		"revoke latency p50 %v p99 %v max %v", what, s.rounds, strings.Join(by, ", "), s.checks,
		s.stale, s.missed, pct(0.50), pct(0.99), pct(1))
	if s.stale != 0 {
		t.Errorf("%s: %d active:true answers after the revocation returned", what, s.stale)
	}
	if s.missed != 0 {
		t.Errorf("%s: %d active tokens answered inactive", what, s.missed)
	}
}

// roundUser is a user a revocation worker logs in and revokes, over and
// over.
type roundUser struct {
	id, email, password string
}

func (c *testCluster) newUsers(n int) []*roundUser {
	c.t.Helper()
	users := make([]*roundUser, n)
	for i := range users {
		u := &roundUser{email: fmt.Sprintf("u%d-%d@example.com", i, rand.Uint32()),
			password: clusterPassword}
		id, err := c.register(u.email)
		if err != nil {
			c.t.Fatal(err)
		}
		u.id = id
		users[i] = u
	}
	return users
}

// rounds runs total revocation rounds on nodes, spread over one worker per
// user. A round logs in on a random node, checks the new access token is
// active everywhere, revokes it on a random node by the round's method
// (cycling through revokeMethods) and, once that call returned, introspects
// the access and refresh tokens on every node at once: every answer must be
// active:false. It stops at the first request error.
func (c *testCluster) rounds(users []*roundUser, total int, nodes []*member, s *roundStats) {
	c.t.Helper()
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for w, u := range users {
		wg.Go(func() {
			for i := w; i < total && failed.Load() == nil; i += len(users) {
				if err := c.round(u, i%revokeMethods, nodes, s); err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		c.t.Fatalf("revocation round: %v", *err)
	}
}

func pick(ms []*member) *member { return ms[rand.IntN(len(ms))] }

func (c *testCluster) round(u *roundUser, method int, nodes []*member, s *roundStats) error {
	p, err := c.login(pick(nodes), u.email, u.password)
	if err != nil {
		return err
	}
	active, err := c.answers(nodes, p.access)
	if err != nil {
		return err
	}
	missed := len(nodes) - active

	m := pick(nodes)
	start := time.Now()
	fresh, err := c.revoke(m, u, p, method)
	lat := time.Since(start)
	if err != nil {
		return err
	}
	stale, err := c.answers(nodes, p.access, p.refresh)
	if err != nil {
		return err
	}
	checks := 2 * len(nodes)

	switch method {
	case viaDisable:
		if st, v, err := c.adminPost(pick(nodes), "/admin/users/"+u.id+"/enable", nil); err != nil ||
			st != 200 {
			return fmt.Errorf("enable: %d %v %v", st, v, err)
		}
		again, err := c.answers(nodes, p.access, p.refresh)
		if err != nil {
			return err
		}
		stale += again
		checks += 2 * len(nodes)
	case viaPasswordChange:
		// The pair the change returned must be active everywhere.
		ok, err := c.answers(nodes, fresh.access)
		if err != nil {
			return err
		}
		missed += len(nodes) - ok
	}
	s.add(method, lat, checks, stale, missed)
	return nil
}

// revoke revokes p by method on m. For a password change it returns the
// pair the change answered with.
func (c *testCluster) revoke(m *member, u *roundUser, p pair, method int) (pair, error) {
	var (
		st  int
		v   map[string]any
		err error
	)
	switch method {
	case viaRevokeRefresh:
		st, v, err = c.form(m, "/revoke", url.Values{"token": {p.refresh},
			"client_id": {"dashboard"}}, "", "")
	case viaAdminRevoke:
		st, v, err = c.adminPost(m, "/admin/users/"+u.id+"/revoke", nil)
	case viaDisable:
		st, v, err = c.adminPost(m, "/admin/users/"+u.id+"/disable", nil)
	case viaPasswordChange:
		next := fmt.Sprintf("pw-%x-%x", rand.Uint64(), rand.Uint64())
		st, v, err = c.jsonCall("http://"+m.addr+"/password",
			map[string]string{"current_password": u.password, "new_password": next}, p.access)
		if err == nil && st == 200 {
			u.password = next
			return pair{v["access_token"].(string), v["refresh_token"].(string)}, nil
		}
	}
	if err == nil && st != 200 {
		err = fmt.Errorf("%s on %s: %d %v", methodNames[method], m.name, st, v)
	}
	return pair{}, err
}

// metric sums the samples of a metric family on m's /metrics, by exact
// name (a histogram's _count or _sum included).
func (c *testCluster) metric(m *member, name string) float64 {
	resp, err := c.http.Get("http://" + m.admin + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok && (rest[0] == ' ' || rest[0] == '{') {
			var v float64
			fmt.Sscan(rest[strings.LastIndexByte(rest, ' ')+1:], &v)
			sum += v
		}
	}
	return sum
}

// logClusterMetrics logs the cluster counters summed over the nodes.
func (c *testCluster) logClusterMetrics(what string) {
	var parts []string
	for _, name := range []string{"authd_cluster_invalidations_sent_total",
		"authd_cluster_invalidation_retries_total", "authd_cluster_cache_flushes_total",
		"authd_cluster_forwarded_lookups_total", "authd_cluster_forward_fallbacks_total",
		"authd_cluster_cache_bypass_total", "authd_cluster_revocation_failures_total"} {
		var sum float64
		for _, m := range c.members {
			sum += c.metric(m, name)
		}
		parts = append(parts, fmt.Sprintf("%s=%g",
			strings.TrimSuffix(strings.TrimPrefix(name, "authd_cluster_"), "_total"), sum))
	}
	c.t.Logf("%s: cluster metrics: %s", what, strings.Join(parts, " "))
	c.t.Logf("%s: server-side revocation time (Invalidate to last confirmation): %s", what,
		c.revocationQuantiles())
}

// revocationQuantiles reads authd_cluster_revocation_seconds on every node
// and returns its count and the bucket bounds holding the median and the
// 99th percentile.
func (c *testCluster) revocationQuantiles() string {
	buckets := map[float64]float64{}
	for _, m := range c.members {
		resp, err := c.http.Get("http://" + m.admin + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(b), "\n") {
			rest, ok := strings.CutPrefix(line, `authd_cluster_revocation_seconds_bucket{le="`)
			if !ok {
				continue
			}
			var le, n float64
			bound, count, _ := strings.Cut(rest, `"} `)
			fmt.Sscan(bound, &le)
			fmt.Sscan(count, &n)
			buckets[le] += n
		}
	}
	les := slices.Sorted(maps.Keys(buckets))
	if len(les) == 0 {
		return "no histogram"
	}
	total := buckets[les[len(les)-1]]
	at := func(q float64) string {
		for _, le := range les {
			if buckets[le] >= q*total {
				return fmt.Sprintf("<= %gms", le*1000)
			}
		}
		return "?"
	}
	return fmt.Sprintf("%g revocations, p50 %s, p99 %s", total, at(0.5), at(0.99))
}

// TestClusterRevocation: 1,000 revocations on a healthy three-node cluster,
// every one enforced by every node when its call returns.
func TestClusterRevocation(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	var s roundStats
	c.rounds(c.newUsers(4), 1000, c.members, &s)
	s.report(t, "healthy cluster")
	c.logClusterMetrics("healthy cluster")
}

// TestClusterRevocationLostBroadcasts: the same with half of all
// invalidation messages dropped by the sender.
func TestClusterRevocationLostBroadcasts(t *testing.T) {
	c := newTestCluster(t, 3, []string{"AUTHD_CLUSTER_FAULTS=drop-invalidations=0.5"})
	var s roundStats
	c.rounds(c.newUsers(8), 1000, c.members, &s)
	s.report(t, "half the broadcasts dropped")
	c.logClusterMetrics("half the broadcasts dropped")
}

// TestClusterRevocationAllBroadcastsLost: no invalidation message ever
// arrives; revocations return once the other nodes' leases have lapsed,
// and the nodes catch up by flushing their caches.
func TestClusterRevocationAllBroadcastsLost(t *testing.T) {
	c := newTestCluster(t, 3, []string{"AUTHD_CLUSTER_FAULTS=drop-invalidations=1"},
		"--cluster-lease", "300ms")
	var s roundStats
	c.rounds(c.newUsers(2), 16, c.members, &s)
	s.report(t, "every broadcast dropped")
	c.logClusterMetrics("every broadcast dropped")
	var flushes float64
	for _, m := range c.members {
		flushes += c.metric(m, "authd_cluster_cache_flushes_total")
	}
	if flushes == 0 {
		t.Error("no node flushed its cache although every invalidation was lost")
	}
}

// cachedPairs logs n pairs in and introspects each on every node, so that
// every token sits in its owner's cache.
func (c *testCluster) cachedPairs(u *roundUser, n int) []pair {
	c.t.Helper()
	return c.cachedPairsOn(u, n, c.members)
}

// revokeAll revokes the refresh token (and so the family) of every pair on
// random nodes among on, in parallel.
func (c *testCluster) revokeAll(ps []pair, on []*member) {
	c.t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(ps))
	for i, p := range ps {
		wg.Go(func() { _, errs[i] = c.revoke(pick(on), nil, p, viaRevokeRefresh) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.t.Fatal(err)
	}
}

// staleOn counts active answers on m for the tokens of ps.
func (c *testCluster) staleOn(m *member, ps []pair) int {
	c.t.Helper()
	var toks []string
	for _, p := range ps {
		toks = append(toks, p.access, p.refresh)
	}
	stale, err := c.answers([]*member{m}, toks...)
	if err != nil {
		c.t.Fatal(err)
	}
	return stale
}

// TestClusterNodePausedPastLease: a node frozen (SIGSTOP) for longer than
// its lease misses every revocation made meanwhile; the revocations still
// return, and once resumed the node answers none of those tokens active,
// including the ones it had cached.
func TestClusterNodePausedPastLease(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	users := c.newUsers(3)
	cached := c.cachedPairs(users[0], 30)
	paused, live := c.members[2], c.members[:2]

	c.signal(paused, syscall.SIGSTOP)
	stopped := time.Now()
	start := time.Now()
	c.revokeAll(cached, live)
	t.Logf("30 parallel revocations with %s paused took %v", paused.name, time.Since(start))
	var s roundStats
	c.rounds(users[1:], 200, live, &s)
	time.Sleep(2500*time.Millisecond - time.Since(stopped))
	c.signal(paused, syscall.SIGCONT)
	t.Logf("%s paused for %v", paused.name, time.Since(stopped))

	if n := c.staleOn(paused, cached); n != 0 {
		t.Errorf("resumed node answered %d revoked tokens active", n)
	}
	s.report(t, "one node paused")
	var after roundStats
	c.rounds(users[1:], 200, c.members, &after)
	after.report(t, "after the pause")
	c.logClusterMetrics("pause")
}

// TestClusterNodeKilledAndRestarted: killing a node (kill -9) mid-traffic
// costs the survivors no wrong answer and at most a short window of
// errors; revocations made while it is down are enforced by it once
// restarted, and the cluster goes on revoking correctly.
func TestClusterNodeKilledAndRestarted(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	users := c.newUsers(3)
	keep := c.cachedPairs(users[0], 20)
	gone := c.cachedPairs(users[0], 20)
	c.revokeAll(gone, c.members)
	victim, survivors := c.members[2], c.members[:2]

	// Traffic: introspect known-active and known-revoked tokens on the
	// survivors until told to stop.
	var requests, errs, wrong atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				want := rand.IntN(2) == 0
				p := pickPair(keep)
				if !want {
					p = pickPair(gone)
				}
				active, err := c.introspect(pick(survivors), p.access)
				requests.Add(1)
				switch {
				case err != nil:
					errs.Add(1)
				case active != want:
					wrong.Add(1)
				}
			}
		})
	}

	time.Sleep(300 * time.Millisecond)
	c.kill(victim)
	var down roundStats
	c.rounds(users[1:], 100, survivors, &down)
	downRevoked := c.cachedPairsOn(users[1], 10, survivors)
	c.revokeAll(downRevoked, survivors)

	c.start(victim)
	c.waitReady(victim)
	if n := c.staleOn(victim, append(downRevoked, gone...)); n != 0 {
		t.Errorf("restarted node answered %d revoked tokens active", n)
	}
	var after roundStats
	c.rounds(users[1:], 100, c.members, &after)
	close(stop)
	wg.Wait()

	t.Logf("traffic on the survivors: %d introspections, %d errors, %d wrong answers",
		requests.Load(), errs.Load(), wrong.Load())
	if wrong.Load() != 0 {
		t.Errorf("%d wrong answers while a node died and came back", wrong.Load())
	}
	if errs.Load()*100 > requests.Load() {
		t.Errorf("%d of %d introspections failed: more than 1%%", errs.Load(), requests.Load())
	}
	down.report(t, "one node killed")
	after.report(t, "after the restart")
	c.logClusterMetrics("kill and restart")
}

func pickPair(ps []pair) pair { return ps[rand.IntN(len(ps))] }

// cachedPairsOn is cachedPairs with logins and checks on the given nodes.
func (c *testCluster) cachedPairsOn(u *roundUser, n int, on []*member) []pair {
	c.t.Helper()
	ps := make([]pair, n)
	for i := range ps {
		p, err := c.login(pick(on), u.email, u.password)
		if err != nil {
			c.t.Fatal(err)
		}
		if active, err := c.answers(on, p.access); err != nil || active != len(on) {
			c.t.Fatalf("fresh pair: %d of %d answers active, %v", active, len(on), err)
		}
		ps[i] = p
	}
	return ps
}

// TestClusterFlags: a cluster needs a key of a gossip-encryption size, and
// the derived defaults are those documented.
func TestClusterFlags(t *testing.T) {
	key16 := base64.StdEncoding.EncodeToString(make([]byte, 16))
	tests := []struct {
		name string
		args []string
		want string // part of the error; "" for none
	}{
		{"no key", []string{"--cluster-bind", "127.0.0.1:7946"}, "needs --cluster-key"},
		{"lease too short", []string{"--cluster-lease", "1ms"}, "--cluster-lease"},
		{"valid", []string{"--cluster-bind", "127.0.0.1:7946", "--cluster-key", key16}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--database-url", "postgres://x/y"}, tt.args...)
			_, err := parseServeConfig(args, io.Discard)
			if tt.want == "" && err != nil || tt.want != "" &&
				(err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}

	for _, give := range []string{key16, strings.TrimRight(key16, "="),
		base64.URLEncoding.EncodeToString(make([]byte, 32))} {
		if _, err := clusterKey(give); err != nil {
			t.Errorf("clusterKey(%q): %v", give, err)
		}
	}
	for _, give := range []string{"", "not base64!",
		base64.StdEncoding.EncodeToString(make([]byte, 20))} {
		if _, err := clusterKey(give); err == nil {
			t.Errorf("clusterKey(%q) accepted", give)
		}
	}
	cfg := serveConfig{ClusterBind: "10.0.0.5:7946"}
	if got, _ := clusterPeerAddr(cfg); got != "10.0.0.5:7947" {
		t.Errorf("default peer address = %q, want the gossip port + 1", got)
	}
	if got := splitList(" a, ,b ,"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("splitList = %q", got)
	}
}
