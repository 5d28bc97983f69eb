package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/authd/authd/server"
	"github.com/authd/authd/server/password"
)

// TestLoginUpgradesHash: a hash made with older parameters is replaced at
// the next successful login by one with the current parameters.
func TestLoginUpgradesHash(t *testing.T) {
	st := openStore(t)
	old := startEnv(t, st)
	uid := old.register("zoe@example.com", goodPassword)

	stronger := testParams
	stronger.Iterations = 3
	e := startEnvNoDashboard(t, st, func(c *server.Config) {
		c.Hasher = password.New(stronger, 2, 8)
	})
	u, _ := st.UserByID(context.Background(), uid)
	if !strings.Contains(u.PasswordHash, "t=1") {
		t.Fatalf("hash before login = %s", u.PasswordHash)
	}
	e.login("zoe@example.com", goodPassword)
	u, _ = st.UserByID(context.Background(), uid)
	if !strings.Contains(u.PasswordHash, "t=3") {
		t.Errorf("hash after login = %s, want the current parameters", u.PasswordHash)
	}
	e.login("zoe@example.com", goodPassword) // the new hash verifies
}

// TestHashingOverloadAnswers503: when every hashing slot is busy and the
// queue is full, logins get a fast 503 with Retry-After, not a 5xx fault or
// an unbounded wait.
func TestHashingOverloadAnswers503(t *testing.T) {
	slow := password.DefaultParams
	e := newEnv(t, func(c *server.Config) { c.Hasher = password.New(slow, 1, password.NoQueue) })
	e.register("amy@example.com", goodPassword)

	const n = 12
	statuses := make([]response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			statuses[i] = e.postForm("/token", url.Values{"grant_type": {"password"},
				"client_id": {"dashboard"}, "username": {"amy@example.com"},
				"password": {goodPassword}}, "")
		})
	}
	close(start)
	wg.Wait()
	ok, busy := 0, 0
	for _, r := range statuses {
		switch {
		case r.status == http.StatusOK:
			ok++
		case r.status == http.StatusServiceUnavailable && r.header.Get("Retry-After") != "":
			busy++
		default:
			t.Errorf("login under overload: %d %s", r.status, r.body)
		}
	}
	if ok == 0 || busy == 0 {
		t.Errorf("%d logins succeeded and %d were turned away; want some of each", ok, busy)
	}
}
