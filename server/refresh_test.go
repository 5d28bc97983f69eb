package server_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/server"
)

// clock is an adjustable time source for tests of lifetimes and windows.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	clk := newClock()
	e := newEnv(t, func(c *server.Config) { c.Now = clk.Now; c.RefreshGrace = 2 * time.Second })
	e.register("gus@example.com", goodPassword)
	intro := e.introspector()
	first := e.login("gus@example.com", goodPassword)

	r := e.refresh(first.Refresh)
	if r.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	second := decodeTokens(t, r)
	if !e.active(intro, second.Access) {
		t.Fatal("new access token not active")
	}

	// Past the grace window the old token is a stolen copy.
	clk.advance(3 * time.Second)
	r = e.refresh(first.Refresh)
	if r.status != 400 || r.errorCode(t) != "invalid_grant" {
		t.Fatalf("reuse: %d %s, want 400 invalid_grant", r.status, r.body)
	}
	for name, tok := range map[string]string{
		"first access": first.Access, "second access": second.Access,
		"second refresh": second.Refresh,
	} {
		if e.active(intro, tok) {
			t.Errorf("%s still active after refresh token reuse", name)
		}
	}
	if r := e.refresh(second.Refresh); r.status != 400 {
		t.Errorf("refresh with the revoked family's newest token: %d %s", r.status, r.body)
	}
}

func TestRefreshGraceReplaysSameSuccessor(t *testing.T) {
	clk := newClock()
	e := newEnv(t, func(c *server.Config) { c.Now = clk.Now; c.RefreshGrace = 5 * time.Second })
	e.register("hal@example.com", goodPassword)
	intro := e.introspector()
	first := e.login("hal@example.com", goodPassword)

	a := decodeTokens(t, e.refresh(first.Refresh))
	clk.advance(time.Second)
	r := e.refresh(first.Refresh) // the first answer was "lost"
	if r.status != http.StatusOK {
		t.Fatalf("retry inside the grace window: %d %s", r.status, r.body)
	}
	b := decodeTokens(t, r)
	if a.Access != b.Access || a.Refresh != b.Refresh {
		t.Error("retry inside the grace window got a different token pair")
	}
	if b.Expires != a.Expires-1 {
		t.Errorf("expires_in on replay = %d, want %d (same expiry, a second later)",
			b.Expires, a.Expires-1)
	}
	if !e.active(intro, b.Access) || !e.active(intro, b.Refresh) {
		t.Error("replayed tokens are not active")
	}
	// The successor goes on rotating normally.
	if r := e.refresh(b.Refresh); r.status != http.StatusOK {
		t.Errorf("refresh of the successor: %d %s", r.status, r.body)
	}
}

// TestConcurrentRefresh: many refreshes racing with one token mint exactly
// one successor and none gets a 5xx.
func TestConcurrentRefresh(t *testing.T) {
	for _, tt := range []struct {
		name  string
		grace time.Duration
	}{{"with grace window", 5 * time.Second}, {"without grace window", 0}} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *server.Config) { c.RefreshGrace = tt.grace })
			e.register("ivy@example.com", goodPassword)
			intro := e.introspector()
			first := e.login("ivy@example.com", goodPassword)

			const n = 20
			results := make([]response, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					results[i] = e.refresh(first.Refresh)
				})
			}
			close(start)
			wg.Wait()

			successors := map[string]bool{}
			ok := 0
			for _, r := range results {
				switch {
				case r.status >= 500:
					t.Fatalf("a concurrent refresh got %d %s", r.status, r.body)
				case r.status == http.StatusOK:
					ok++
					successors[decodeTokens(t, r).Refresh] = true
				case r.errorCode(t) != "invalid_grant":
					t.Fatalf("unexpected answer %d %s", r.status, r.body)
				}
			}
			if len(successors) != 1 {
				t.Fatalf("%d distinct successors minted, want exactly 1", len(successors))
			}
			if tt.grace == 0 && ok != 1 {
				t.Errorf("%d successes without a grace window, want exactly 1", ok)
			}
			if tt.grace > 0 {
				if ok != n {
					t.Errorf("%d of %d got the successor inside the grace window", ok, n)
				}
				for s := range successors {
					if !e.active(intro, s) {
						t.Error("the one successor is not active")
					}
				}
			}
		})
	}
}

func TestRefreshBoundToClient(t *testing.T) {
	e := newEnv(t)
	e.register("jan@example.com", goodPassword)
	other := e.newClient([]string{"refresh_token", "password"}, nil)
	tk := e.login("jan@example.com", goodPassword)
	r := e.postForm("/token", map[string][]string{
		"grant_type": {"refresh_token"}, "refresh_token": {tk.Refresh},
	}, other.basic())
	if r.status != 400 || r.errorCode(t) != "invalid_grant" {
		t.Fatalf("refresh by another client: %d %s", r.status, r.body)
	}
	// The attempt did not use the token up.
	if r := e.refresh(tk.Refresh); r.status != http.StatusOK {
		t.Errorf("refresh by its own client afterwards: %d %s", r.status, r.body)
	}
}

func TestRefreshExpiry(t *testing.T) {
	clk := newClock()
	e := newEnv(t, func(c *server.Config) {
		c.Now = clk.Now
		c.RefreshTTL = time.Hour
		c.RefreshMaxAge = 3 * time.Hour
	})
	e.register("kim@example.com", goodPassword)
	tk := e.login("kim@example.com", goodPassword)

	// Idle lifetime: used within the hour, the chain goes on...
	for range 2 {
		clk.advance(50 * time.Minute)
		r := e.refresh(tk.Refresh)
		if r.status != http.StatusOK {
			t.Fatalf("refresh within the idle lifetime: %d %s", r.status, r.body)
		}
		tk = decodeTokens(t, r)
	}
	// ...but never past the absolute lifetime of the login.
	clk.advance(50 * time.Minute)
	r := e.refresh(tk.Refresh)
	if r.status != http.StatusOK {
		t.Fatalf("refresh at 2h30: %d %s", r.status, r.body)
	}
	tk = decodeTokens(t, r)
	if tk.Expires != 900 {
		t.Errorf("access expires_in = %d", tk.Expires)
	}
	clk.advance(31 * time.Minute) // 3h01 since login
	if r := e.refresh(tk.Refresh); r.status != 400 {
		t.Errorf("refresh past the absolute lifetime: %d %s", r.status, r.body)
	}

	// Idle expiry.
	tk = e.login("kim@example.com", goodPassword)
	clk.advance(61 * time.Minute)
	if r := e.refresh(tk.Refresh); r.status != 400 {
		t.Errorf("refresh after the idle lifetime: %d %s", r.status, r.body)
	}
}

// A rotated refresh token stops being active at once, even for a node that
// introspected it before the rotation.
func TestRotatedRefreshTokenInactive(t *testing.T) {
	e := newEnv(t)
	e.register("lou@example.com", goodPassword)
	intro := e.introspector()
	tk := e.login("lou@example.com", goodPassword)
	if !e.active(intro, tk.Refresh) {
		t.Fatal("fresh refresh token not active")
	}
	next := decodeTokens(t, e.refresh(tk.Refresh))
	if e.active(intro, tk.Refresh) {
		t.Error("rotated refresh token still active")
	}
	if !e.active(intro, next.Refresh) {
		t.Error("successor refresh token not active")
	}
}
