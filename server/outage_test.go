package server_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/authd/authd/server"
	"github.com/authd/authd/tokenstore/pgtest"
	"github.com/authd/authd/tokenstore/sqlstore"
)

// TestStoreOutage stops the database under a running server: cached
// introspection keeps answering, writes fail fast with 503, /readyz says
// not ready, and everything recovers by itself when the database returns.
func TestStoreOutage(t *testing.T) {
	db := pgtest.NewCluster(t)
	st, err := sqlstore.Open(context.Background(), db.URL(t), sqlstore.Options{
		MigrateOnOpen: true, Timeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := startEnv(t, st, func(c *server.Config) { c.StoreTimeout = time.Second })
	e.register("xena@example.com", goodPassword)
	intro := e.introspector()
	svc := e.newClient([]string{"client_credentials"}, nil)
	tk := e.login("xena@example.com", goodPassword)
	if !e.active(intro, tk.Access) {
		t.Fatal("token not active before the outage")
	}

	if err := db.Stop(); err != nil {
		t.Fatal(err)
	}
	// Longer than the server's client cache lifetime, so client
	// authentication must also cope without the store.
	time.Sleep(6 * time.Second)

	if !e.active(intro, tk.Access) {
		t.Error("cached introspection stopped answering during the outage")
	}
	writes := map[string]func() response{
		"login": func() response {
			return e.postForm("/token", url.Values{"grant_type": {"password"},
				"client_id": {"dashboard"}, "username": {"xena@example.com"},
				"password": {goodPassword}}, "")
		},
		"client credentials": func() response {
			return e.postForm("/token", url.Values{"grant_type": {"client_credentials"}},
				svc.basic())
		},
		"register": func() response {
			return e.postJSON("/register", map[string]string{"email": "yuri@example.com",
				"password": goodPassword}, "")
		},
		"refresh": func() response { return e.refresh(tk.Refresh) },
	}
	for name, write := range writes {
		start := time.Now()
		r := write()
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
			t.Errorf("%s during the outage: %d %s, want 503 with Retry-After", name, r.status, r.body)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s took %v: writes must fail within the store timeout", name, d)
		}
	}
	if r := e.do(mustRequest(http.MethodGet, e.base+"/readyz")); r.status != 503 {
		t.Errorf("/readyz during the outage: %d", r.status)
	}

	if err := db.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.do(mustRequest(http.MethodGet, e.base+"/readyz"))
		if r.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d 30s after the database returned", r.status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Nothing acknowledged was lost, and writes work again.
	next := e.refresh(tk.Refresh)
	if next.status != http.StatusOK {
		t.Fatalf("refresh after recovery: %d %s", next.status, next.body)
	}
	e.register("yuri@example.com", goodPassword)
	e.login("yuri@example.com", goodPassword)
	if !e.active(intro, decodeTokens(t, next).Access) {
		t.Error("token issued after recovery not active")
	}
}
