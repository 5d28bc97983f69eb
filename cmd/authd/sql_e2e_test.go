package main

import (
	"net/url"
	"sync"
	"testing"

	"github.com/authd/authd/tokenstore/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestTwoNodesRaceRefresh: two authd processes on one database, twenty
// concurrent refreshes of one token spread over both: exactly one successor
// is minted and no request gets a 5xx.
func TestTwoNodesRaceRefresh(t *testing.T) {
	for _, tt := range []struct {
		name  string
		grace string
	}{{"grace window", "5s"}, {"no grace window", "0"}} {
		t.Run(tt.name, func(t *testing.T) {
			dbURL := pgtest.URL(t)
			flags := []string{"--database-url", dbURL, "--migrate", "--refresh-grace", tt.grace}
			a := startNode(t, t.TempDir(), flags...)
			b := startNode(t, t.TempDir(), flags...)
			if _, m := a.postJSON("/register", map[string]string{"email": "cy@example.com",
				"password": pw}, ""); m["user_id"] == nil {
				t.Fatalf("register: %v", m)
			}
			rt := a.login("cy@example.com", pw)["refresh_token"].(string)

			const n = 20
			type answer struct {
				status int
				body   map[string]any
			}
			answers := make([]answer, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				node := a
				if i%2 == 1 {
					node = b
				}
				wg.Go(func() {
					<-start
					s, m := node.postForm("/token", url.Values{"grant_type": {"refresh_token"},
						"client_id": {"dashboard"}, "refresh_token": {rt}}, "", "")
					answers[i] = answer{s, m}
				})
			}
			close(start)
			wg.Wait()

			successors := map[string]bool{}
			ok := 0
			for _, ans := range answers {
				switch {
				case ans.status >= 500:
					t.Fatalf("a refresh got %d %v", ans.status, ans.body)
				case ans.status == 200:
					ok++
					successors[ans.body["refresh_token"].(string)] = true
				case ans.body["error"] != "invalid_grant":
					t.Fatalf("unexpected answer %d %v", ans.status, ans.body)
				}
			}
			if len(successors) != 1 {
				t.Fatalf("%d successors minted across two nodes, want exactly 1", len(successors))
			}
			if tt.grace == "0" && ok != 1 {
				t.Errorf("%d successes without a grace window, want 1", ok)
			}
			t.Logf("%d of %d refreshes answered 200 with the one successor", ok, n)
		})
	}
}
