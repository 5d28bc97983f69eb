package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/cluster"
	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/server"
	"github.com/authd/authd/server/password"
	"github.com/authd/authd/server/token"
	"github.com/authd/authd/tokenstore"
	"github.com/authd/authd/tokenstore/boltstore"
	"github.com/authd/authd/tokenstore/pgtest"
	"github.com/authd/authd/tokenstore/sqlstore"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testParams makes hashing cheap so the suite stays fast; the hasher and
// its bounds are the real ones. Tests of hashing cost use DefaultParams.
var testParams = password.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16,
	KeyLen: 32}

// env is one authd server on real loopback listeners with its store, and an
// HTTP client to drive it as clients would.
type env struct {
	t        *testing.T
	srv      *server.Server
	store    tokenstore.Store
	cache    *tokencache.Cache
	base     string // public listener
	admin    string // admin listener
	adminKey string
	logs     *syncBuffer
	http     *http.Client
}

// openStore opens the store the suite runs on: the embedded store, or the
// SQL store on a throwaway PostgreSQL database when AUTHD_E2E_STORE=sql.
func openStore(t *testing.T) tokenstore.Store {
	t.Helper()
	var st tokenstore.Store
	var err error
	if os.Getenv("AUTHD_E2E_STORE") == "sql" {
		st, err = sqlstore.Open(context.Background(), pgtest.URL(t),
			sqlstore.Options{MigrateOnOpen: true})
	} else {
		st, err = boltstore.Open(filepath.Join(t.TempDir(), "authd.db"), boltstore.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newEnv starts a server. mod may change the configuration first.
func newEnv(t *testing.T, mod ...func(*server.Config)) *env {
	t.Helper()
	st := openStore(t)
	return startEnv(t, st, mod...)
}

func startEnv(t *testing.T, st tokenstore.Store, mod ...func(*server.Config)) *env {
	t.Helper()
	e := startEnvNoDashboard(t, st, mod...)
	e.ensureDashboard()
	return e
}

// startEnvNoDashboard starts a server on a store that already has its
// clients.
func startEnvNoDashboard(t *testing.T, st tokenstore.Store, mod ...func(*server.Config)) *env {
	t.Helper()
	ctx := context.Background()
	tk, err := st.Secret(ctx, "token-key", bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := token.NewKeys(tk)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cache := tokencache.New(tokencache.Config{MaxBytes: 4 << 20})
	cfg := server.Config{
		Store: st, Cache: cluster.Local{Cache: cache}, Keys: keys,
		Hasher:          password.New(testParams, 4, 64),
		ClientSecretKey: bytes.Repeat([]byte{2}, 32),
		AdminKey:        "test-admin-key-0123456789",
		CredentialRate:  -1,
		Logger: slog.New(slog.NewTextHandler(logs,
			&slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pub, adm := listen(t), listen(t)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(pub, adm) }()
	httpClient := &http.Client{Timeout: 30 * time.Second}
	t.Cleanup(func() {
		// Like any client going away. A connection the client dialed but
		// never used (net/http dials ahead under concurrency) would
		// otherwise hold the shutdown up for fasthttp's 5 s first-request
		// grace.
		httpClient.CloseIdleConnections()
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	e := &env{
		t: t, srv: srv, store: st, cache: cache, logs: logs, adminKey: cfg.AdminKey,
		base: "http://" + pub.Addr().String(), admin: "http://" + adm.Addr().String(),
		http: httpClient,
	}
	return e
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// ensureDashboard registers the default public first-party client, as
// authd serve does on an empty store.
func (e *env) ensureDashboard() {
	_, _, err := e.srv.NewClient(context.Background(), "dashboard", server.ClientRequest{
		Name: "Dashboard", Public: true, FirstParty: true,
		GrantTypes: []string{"password", "refresh_token", "authorization_code"},
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// errorCode returns the error code of an error body.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	code, _ := r.json(t)["error"].(string)
	return code
}

func (e *env) do(req *http.Request) response {
	e.t.Helper()
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// postForm posts form values; auth, when not empty, is "id:secret" for
// HTTP Basic.
func (e *env) postForm(path string, v url.Values, auth string) response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != "" {
		id, secret, _ := strings.Cut(auth, ":")
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString(
			[]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret))))
	}
	return e.do(req)
}

// postJSON posts v as JSON to the public listener with an optional bearer.
func (e *env) postJSON(path string, v any, bearer string) response {
	e.t.Helper()
	b, _ := json.Marshal(v)
	req, _ := http.NewRequest(http.MethodPost, e.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return e.do(req)
}

// adminDo calls the admin API with the admin key.
func (e *env) adminDo(method, path string, v any) response {
	e.t.Helper()
	var body io.Reader
	if v != nil {
		b, _ := json.Marshal(v)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.admin+path, body)
	req.Header.Set("Authorization", "Bearer "+e.adminKey)
	if v != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.do(req)
}

// client is a registered OAuth client with its credentials.
type client struct {
	id, secret string
}

func (c client) basic() string { return c.id + ":" + c.secret }

// newClient registers a confidential client through the admin API.
func (e *env) newClient(grants, scopes []string) client {
	e.t.Helper()
	r := e.adminDo(http.MethodPost, "/admin/clients", map[string]any{
		"name": "test client", "grant_types": grants, "scopes": scopes,
	})
	if r.status != http.StatusCreated {
		e.t.Fatalf("create client: %d %s", r.status, r.body)
	}
	m := r.json(e.t)
	return client{id: m["client_id"].(string), secret: m["client_secret"].(string)}
}

// introspector is a client allowed to introspect.
func (e *env) introspector() client {
	return e.newClient([]string{"client_credentials"}, []string{"introspect"})
}

// register creates an account and returns its user id.
func (e *env) register(email, pw string) string {
	e.t.Helper()
	r := e.postJSON("/register", map[string]string{"email": email, "password": pw}, "")
	if r.status != http.StatusCreated {
		e.t.Fatalf("register %s: %d %s", email, r.status, r.body)
	}
	return r.json(e.t)["user_id"].(string)
}

// tokens is a token response.
type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
	Type    string `json:"token_type"`
	Expires int64  `json:"expires_in"`
	Scope   string `json:"scope"`
}

// login runs the password grant with the dashboard client.
func (e *env) login(email, pw string) tokens {
	e.t.Helper()
	r := e.postForm("/token", url.Values{
		"grant_type": {"password"}, "username": {email}, "password": {pw},
		"client_id": {"dashboard"},
	}, "")
	if r.status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", email, r.status, r.body)
	}
	return decodeTokens(e.t, r)
}

func decodeTokens(t *testing.T, r response) tokens {
	t.Helper()
	var tk tokens
	if err := json.Unmarshal(r.body, &tk); err != nil {
		t.Fatal(err)
	}
	return tk
}

// refresh runs the refresh grant with the dashboard client.
func (e *env) refresh(rt string) response {
	e.t.Helper()
	return e.postForm("/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"dashboard"},
	}, "")
}

// introspect returns the introspection answer for tok.
func (e *env) introspect(c client, tok string) map[string]any {
	e.t.Helper()
	r := e.postForm("/introspect", url.Values{"token": {tok}}, c.basic())
	if r.status != http.StatusOK {
		e.t.Fatalf("introspect: %d %s", r.status, r.body)
	}
	return r.json(e.t)
}

func (e *env) active(c client, tok string) bool {
	e.t.Helper()
	return e.introspect(c, tok)["active"] == true
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const goodPassword = "correct horse battery staple"
