package tokencache

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/tokenstore"
)

var t0 = time.Unix(1_700_000_000, 0)

// clock is a settable clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestCache returns a cache whose clock starts at t0.
func newTestCache(t *testing.T, cfg Config) (*Cache, *clock) {
	t.Helper()
	clk := &clock{t: t0}
	cfg.Now = clk.Now
	return New(cfg), clk
}

func digest(i int) tokenstore.Digest { return tokenstore.DigestOf(fmt.Sprint("at_", i)) }

func userID(i int) string   { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) }
func familyID(i int) string { return fmt.Sprintf("%032x", i) }

// userToken returns a typical access token of user u in family f, issued at
// t0 for 15 minutes.
func userToken(i, u, f int, gen uint64) Entry {
	return Entry{
		Digest: digest(i), Kind: tokenstore.KindAccess,
		UserID: userID(u), Email: fmt.Sprintf("user%d@example.com", u),
		ClientID: "dashboard", Scope: "openid profile", FamilyID: familyID(f),
		Generation: gen, IssuedAt: t0.Unix(), ExpiresAt: t0.Add(15 * time.Minute).Unix(),
	}
}

// clientToken returns a client-credentials token of client.
func clientToken(i int, client string) Entry {
	return Entry{
		Digest: digest(i), Kind: tokenstore.KindAccess, ClientID: client, Scope: "read",
		IssuedAt: t0.Unix(), ExpiresAt: t0.Add(time.Hour).Unix(),
	}
}

func mustGet(t *testing.T, c *Cache, e Entry, now time.Time) {
	t.Helper()
	got, ok := c.Get(e.Digest, now)
	if !ok {
		t.Fatalf("Get(%x) missed, want a hit", e.Digest[:4])
	}
	if got != e {
		t.Fatalf("Get(%x) = %+v, want %+v", e.Digest[:4], got, e)
	}
}

func mustMiss(t *testing.T, c *Cache, d tokenstore.Digest, now time.Time) {
	t.Helper()
	if got, ok := c.Get(d, now); ok {
		t.Fatalf("Get(%x) = %+v, want a miss", d[:4], got)
	}
}

func TestRoundTrip(t *testing.T) {
	long := userToken(1, 1, 1, 1<<40)
	long.Email = strings.Repeat("e", maxEmailLen)
	refresh := userToken(2, 2, 2, 0)
	refresh.Kind = tokenstore.KindRefresh
	refresh.ExpiresAt = t0.Add(30 * 24 * time.Hour).Unix()
	noFamily := userToken(3, 3, 3, 7)
	noFamily.FamilyID = ""
	noEmail := userToken(4, 4, 4, 7)
	noEmail.Email = ""

	tests := []struct {
		name string
		give Entry
	}{
		{"user token", userToken(0, 0, 0, 1)},
		{"client token", clientToken(5, "billing")},
		{"long email, large generation", long},
		{"refresh token", refresh},
		{"no family", noFamily},
		{"no email", noEmail},
		{"empty scope", Entry{Digest: digest(6), Kind: tokenstore.KindAccess,
			ClientID: "x", IssuedAt: t0.Unix(), ExpiresAt: t0.Unix() + 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{})
			c.Put(tt.give)
			mustGet(t, c, tt.give, t0)

			var v View
			buf, ok := c.AppendView([]byte("prefix"), &v, tt.give.Digest, t0)
			if !ok {
				t.Fatal("AppendView missed, want a hit")
			}
			if !strings.HasPrefix(string(buf), "prefix") {
				t.Errorf("AppendView dropped the caller's bytes: %q", buf)
			}
			if got := viewEntry(v); got != tt.give {
				t.Errorf("AppendView = %+v, want %+v", got, tt.give)
			}
		})
	}
}

func viewEntry(v View) Entry {
	return Entry{
		Digest: v.Digest, Kind: v.Kind, UserID: string(v.UserID), Email: string(v.Email),
		ClientID: v.ClientID, Scope: v.Scope, FamilyID: string(v.FamilyID),
		Generation: v.Generation, IssuedAt: v.IssuedAt, ExpiresAt: v.ExpiresAt,
	}
}

func TestUncacheable(t *testing.T) {
	base := userToken(0, 0xabc, 0xdef, 1)
	with := func(f func(*Entry)) Entry {
		e := base
		f(&e)
		return e
	}
	tests := []struct {
		name string
		give Entry
	}{
		{"upper-case user id", with(func(e *Entry) { e.UserID = strings.ToUpper(e.UserID) })},
		{"user id without hyphens", with(func(e *Entry) { e.UserID = familyID(1) })},
		{"short family id", with(func(e *Entry) { e.FamilyID = "abc" })},
		{"upper-case family id", with(func(e *Entry) { e.FamilyID = strings.ToUpper(familyID(0xabc)) })},
		{"email too long", with(func(e *Entry) { e.Email = strings.Repeat("e", maxEmailLen+1) })},
		{"kind 0", with(func(e *Entry) { e.Kind = 0 })},
		{"expires before issued", with(func(e *Entry) {
			e.IssuedAt, e.ExpiresAt = t0.Add(2*time.Hour).Unix(), t0.Add(time.Hour).Unix()
		})},
		{"issued before 1970", with(func(e *Entry) { e.IssuedAt = -1 })},
		{"expires after 2106", with(func(e *Entry) { e.ExpiresAt = 1 << 32 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{})
			c.Put(tt.give)
			mustMiss(t, c, tt.give.Digest, t0)
			if st := c.Stats(); st.Uncached != 1 || st.Entries != 0 {
				t.Errorf("Stats = %+v, want Uncached 1, Entries 0", st)
			}

			// Lookup still answers from fill, every time.
			fills := 0
			for range 2 {
				got, active, err := c.Lookup(tt.give.Digest, t0, func() (Entry, bool, error) {
					fills++
					return tt.give, true, nil
				})
				if err != nil || !active || got != tt.give {
					t.Fatalf("Lookup = %+v, %v, %v; want the fill's entry, active", got, active, err)
				}
			}
			if fills != 2 {
				t.Errorf("fill called %d times, want 2", fills)
			}
		})
	}
}

func TestGetHitMiss(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	e := userToken(0, 0, 0, 1)
	mustMiss(t, c, e.Digest, t0)
	c.Put(e)
	mustGet(t, c, e, t0)
	mustMiss(t, c, digest(1), t0)

	st := c.Stats()
	if st.Hits != 1 || st.Misses != 2 || st.Entries != 1 {
		t.Errorf("Stats = %+v, want 1 hit, 2 misses, 1 entry", st)
	}
	if st.Capacity > DefaultMaxBytes || st.Capacity < DefaultMaxBytes*99/100 {
		t.Errorf("Capacity = %d, want just under %d", st.Capacity, DefaultMaxBytes)
	}
}

func TestExpiry(t *testing.T) {
	e := userToken(0, 0, 0, 1)
	exp := time.Unix(e.ExpiresAt, 0)
	tests := []struct {
		name string
		now  time.Time
		hit  bool
	}{
		{"a second before", exp.Add(-time.Second), true},
		{"a nanosecond before", exp.Add(-time.Nanosecond), true},
		{"at expiry", exp, false},
		{"after", exp.Add(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{})
			c.Put(e)
			if _, ok := c.Get(e.Digest, tt.now); ok != tt.hit {
				t.Fatalf("Get hit = %v, want %v", ok, tt.hit)
			}
			if !tt.hit {
				if n := c.Stats().Entries; n != 0 {
					t.Errorf("Entries = %d after an expired hit, want it dropped", n)
				}
				// Expired is expired for Lookup too, whatever fill says.
				_, active, _ := c.Lookup(e.Digest, tt.now, func() (Entry, bool, error) {
					return e, true, nil
				})
				if active {
					t.Error("Lookup reported an expired entry active")
				}
			}
		})
	}
}

func TestMaxAge(t *testing.T) {
	e := userToken(0, 0, 0, 1)
	e.ExpiresAt = t0.Add(24 * time.Hour).Unix()
	fill := func() (Entry, bool, error) { return e, true, nil }
	tests := []struct {
		name   string
		insert func(c *Cache)
	}{
		{"Put", func(c *Cache) { c.Put(e) }},
		{"Lookup", func(c *Cache) { c.Lookup(e.Digest, t0, fill) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{MaxAge: time.Minute})
			tt.insert(c)
			mustGet(t, c, e, t0.Add(59*time.Second))
			mustMiss(t, c, e.Digest, t0.Add(time.Minute))
		})
	}
}

func TestPutTwice(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	first := userToken(0, 0, 0, 1)
	second := first
	second.Scope = "openid email"
	c.Put(first)
	c.Put(second)
	mustGet(t, c, second, t0)
	if n := c.Stats().Entries; n != 1 {
		t.Errorf("Entries = %d, want 1", n)
	}
	c.Delete(second.Digest)
	mustMiss(t, c, second.Digest, t0)
}

// revocations are the ways to revoke, each with what it revokes of the
// entries of revocationEntries and whether it leaves a floor.
var revocations = []struct {
	name   string
	revoke func(c *Cache)
	dead   []int
	floor  bool
}{
	{"Delete", func(c *Cache) { c.Delete(digest(0)) }, []int{0}, false},
	{"RevokeUser", func(c *Cache) { c.RevokeUser(userID(1), 2) }, []int{0, 1}, true},
	{"RevokeFamily", func(c *Cache) { c.RevokeFamily(familyID(1)) }, []int{0}, true},
	{"RevokeClient", func(c *Cache) { c.RevokeClient("dashboard") }, []int{0, 1, 2}, true},
	{"Apply token", func(c *Cache) {
		c.Apply(Invalidation{Kind: InvalidateToken, Digest: digest(0)})
	}, []int{0}, false},
	{"Apply user", func(c *Cache) {
		c.Apply(Invalidation{Kind: InvalidateUser, ID: userID(1), Generation: 2})
	}, []int{0, 1}, true},
	{"Apply family", func(c *Cache) {
		c.Apply(Invalidation{Kind: InvalidateFamily, ID: familyID(1)})
	}, []int{0}, true},
	{"Apply client", func(c *Cache) {
		c.Apply(Invalidation{Kind: InvalidateClient, ID: "billing"})
	}, []int{3}, true},
}

// revocationEntries: 0 and 1 are user 1's (families 1 and 2), 2 is user
// 2's, 3 a client token of billing.
func revocationEntries() []Entry {
	return []Entry{
		userToken(0, 1, 1, 1), userToken(1, 1, 2, 1), userToken(2, 2, 3, 1),
		clientToken(3, "billing"),
	}
}

func TestRevocation(t *testing.T) {
	for _, tt := range revocations {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{})
			entries := revocationEntries()
			for _, e := range entries {
				c.Put(e)
			}
			tt.revoke(c)
			for i, e := range entries {
				switch {
				case !contains(tt.dead, i):
					mustGet(t, c, e, t0)
				case !tt.floor:
					mustMiss(t, c, e.Digest, t0)
				default:
					mustMiss(t, c, e.Digest, t0)
					// A floor keeps it out of the cache: a Put that
					// raced the revocation does not bring it back.
					before := c.Stats().Entries
					c.Put(e)
					if n := c.Stats().Entries; n != before {
						t.Errorf("Put of a revoked entry: Entries %d -> %d", before, n)
					}
					mustMiss(t, c, e.Digest, t0)
				}
			}
		})
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestApplyUnknownKind(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	if err := c.Apply(Invalidation{Kind: 99}); err == nil {
		t.Error("Apply of an unknown kind returned nil, want an error")
	}
}

func TestRevokeUserGenerations(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	a1, a2, a3 := userToken(1, 1, 1, 1), userToken(2, 1, 2, 2), userToken(3, 1, 3, 3)
	b1 := userToken(4, 2, 4, 1)
	for _, e := range []Entry{a1, a2, a3, b1} {
		c.Put(e)
	}

	c.RevokeUser(userID(1), 3)
	mustMiss(t, c, a1.Digest, t0)
	mustMiss(t, c, a2.Digest, t0)
	mustGet(t, c, a3, t0)
	mustGet(t, c, b1, t0)

	// A revocation to an older generation arriving late lowers nothing.
	c.RevokeUser(userID(1), 2)
	c.Put(a2)
	mustMiss(t, c, a2.Digest, t0)
	mustGet(t, c, a3, t0)

	// Tokens issued after the revocation are cached as usual.
	a4 := userToken(5, 1, 5, 3)
	c.Put(a4)
	mustGet(t, c, a4, t0)
}

func TestLookup(t *testing.T) {
	e := userToken(0, 0, 0, 1)
	errStore := errors.New("store down")
	tests := []struct {
		name       string
		active     bool
		err        error
		wantActive bool
		wantCached bool
	}{
		{"active is cached", true, nil, true, true},
		{"inactive is not cached", false, nil, false, false},
		{"error is returned, not cached", true, errStore, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{})
			fills := 0
			fill := func() (Entry, bool, error) {
				fills++
				f := e
				f.Digest = digest(99) // ignored: the entry is the looked-up digest's
				return f, tt.active, tt.err
			}
			got, active, err := c.Lookup(e.Digest, t0, fill)
			if !errors.Is(err, tt.err) || active != tt.wantActive {
				t.Fatalf("Lookup = _, %v, %v; want %v, %v", active, err, tt.wantActive, tt.err)
			}
			if active && got != e {
				t.Fatalf("Lookup = %+v, want %+v", got, e)
			}
			if !active && got != (Entry{}) {
				t.Errorf("Lookup returned %+v with active false, want the zero Entry", got)
			}

			got, active, err = c.Lookup(e.Digest, t0, fill)
			wantFills := 2
			if tt.wantCached {
				wantFills = 1
			}
			if fills != wantFills {
				t.Errorf("fill called %d times over two Lookups, want %d", fills, wantFills)
			}
			if tt.wantCached && (err != nil || !active || got != e) {
				t.Errorf("second Lookup = %+v, %v, %v; want the cached entry", got, active, err)
			}
		})
	}
}

// blockingFill is a fill that signals entered when called and returns e,
// active, once release is closed.
func blockingFill(e Entry, entered chan<- struct{},
	release <-chan struct{}) func() (Entry, bool, error) {
	return func() (Entry, bool, error) {
		entered <- struct{}{}
		<-release
		return e, true, nil
	}
}

func TestLookupFillRace(t *testing.T) {
	for _, tt := range revocations {
		if !contains(tt.dead, 0) {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{})
			e := revocationEntries()[0]
			entered, release := make(chan struct{}), make(chan struct{})
			type result struct {
				e      Entry
				active bool
			}
			done := make(chan result)
			go func() {
				got, active, _ := c.Lookup(e.Digest, t0, blockingFill(e, entered, release))
				done <- result{got, active}
			}()

			// The fill has read the store; the token is revoked before it
			// returns.
			<-entered
			tt.revoke(c)
			close(release)
			r := <-done

			// The overlapping Lookup may answer either way as far as the
			// guarantee goes. A Delete keeps the store's answer; a floor
			// newer than the Lookup overrides it. Either way the stale
			// entry must not be cached.
			if want := !tt.floor; r.active != want || (r.active && r.e != e) {
				t.Errorf("Lookup = %+v, %v; want active %v", r.e, r.active, want)
			}
			mustMiss(t, c, e.Digest, t0)
			if n := c.Stats().Entries; n != 0 {
				t.Errorf("Entries = %d, want the stale fill not cached", n)
			}
		})
	}
}

func TestLookupAfterRevocationDoesNotJoinStaleFill(t *testing.T) {
	for _, tt := range revocations {
		if !contains(tt.dead, 0) {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{})
			e := revocationEntries()[0]
			entered, release := make(chan struct{}), make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				c.Lookup(e.Digest, t0, blockingFill(e, entered, release))
			}()
			<-entered
			tt.revoke(c)

			// This Lookup starts after the revocation returned: it must
			// get its own fill, which sees the revoked token. Were it to
			// share the blocked fill, it would wait for release: the
			// timer breaks that deadlock so the test fails instead.
			var fills atomic.Int64
			var active bool
			var err error
			second := make(chan struct{})
			go func() {
				defer close(second)
				_, active, err = c.Lookup(e.Digest, t0, func() (Entry, bool, error) {
					fills.Add(1)
					return Entry{}, false, nil
				})
			}()
			select {
			case <-second:
			case <-time.After(5 * time.Second):
			}
			close(release)
			<-second
			<-done
			if err != nil || active || fills.Load() != 1 {
				t.Errorf("Lookup after revocation = active %v, err %v, %d fills; "+
					"want inactive from its own fill", active, err, fills.Load())
			}
		})
	}
}

func TestLookupCollapsesConcurrentMisses(t *testing.T) {
	const callers = 16
	c, _ := newTestCache(t, Config{})
	e := userToken(0, 0, 0, 1)
	var mu sync.Mutex
	fills := 0
	release := make(chan struct{})
	fill := func() (Entry, bool, error) {
		mu.Lock()
		fills++
		mu.Unlock()
		<-release
		return e, true, nil
	}

	var wg sync.WaitGroup
	results := make(chan bool, callers)
	for range callers {
		wg.Go(func() {
			got, active, err := c.Lookup(e.Digest, t0, fill)
			results <- err == nil && active && got == e
		})
	}
	// Every caller has missed once Misses reaches callers; give the last
	// ones time to reach the shared fill before releasing it.
	for c.Stats().Misses < callers {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	close(results)

	for ok := range results {
		if !ok {
			t.Fatal("a Lookup did not return the filled entry")
		}
	}
	if fills != 1 {
		t.Errorf("fill called %d times for %d concurrent misses, want 1", fills, callers)
	}
}

func TestLookupOfRevokedClientRecreated(t *testing.T) {
	// A floor older than the Lookup does not override the store: a client
	// created again under a revoked id gets correct answers, uncached.
	c, _ := newTestCache(t, Config{})
	c.RevokeClient("billing")
	e := clientToken(0, "billing")
	fills := 0
	for range 2 {
		got, active, err := c.Lookup(e.Digest, t0, func() (Entry, bool, error) {
			fills++
			return e, true, nil
		})
		if err != nil || !active || got != e {
			t.Fatalf("Lookup = %+v, %v, %v; want the fill's entry, active", got, active, err)
		}
	}
	if fills != 2 {
		t.Errorf("fill called %d times, want 2 (not cached under a floor)", fills)
	}
}

func TestFloorsExpire(t *testing.T) {
	const maxAge = time.Minute
	c, clk := newTestCache(t, Config{MaxAge: maxAge})
	old := userToken(0, 0, 0, 1)
	c.Put(old)
	for u := range 300 {
		c.RevokeUser(userID(u), 2)
	}
	if n := c.Stats().Floors; n != 300 {
		t.Fatalf("Floors = %d, want 300", n)
	}

	// Past MaxAge (and the slack) the floors are dropped as revocations
	// pass by; the entries they covered are gone already.
	clk.Add(maxAge + clockSlack + time.Second)
	mustMiss(t, c, old.Digest, clk.Now())
	for u := range floorShards {
		c.RevokeUser(userID(1000+u), 2)
	}
	if n := c.Stats().Floors; n != floorShards {
		t.Errorf("Floors = %d, want only the %d new ones", n, floorShards)
	}
}

func TestEviction(t *testing.T) {
	tests := []struct {
		name  string
		entry func(i int) Entry
	}{
		{"user tokens fill the arena", func(i int) Entry { return userToken(i, i, i, 1) }},
		{"client tokens fill the index", func(i int) Entry { return clientToken(i, "c") }},
		{"mixed sizes wrap the ring", func(i int) Entry {
			e := userToken(i, i, i, 1)
			e.Email = strings.Repeat("m", i%200)
			return e
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const maxBytes, n = 64 << 10, 5000
			c, _ := newTestCache(t, Config{MaxBytes: maxBytes, Shards: 1})
			s := &c.shards[0]
			peak := int64(0)
			for i := range n {
				c.Put(tt.entry(i))
				st := c.Stats()
				peak = max(peak, st.Entries)
				if st.Bytes > int64(len(s.arena)) || st.Entries > int64(s.maxLive) {
					t.Fatalf("after %d puts: %+v exceeds arena %d bytes, %d entries",
						i+1, st, len(s.arena), s.maxLive)
				}
			}

			st := c.Stats()
			if st.Capacity > maxBytes {
				t.Errorf("Capacity = %d, want at most %d", st.Capacity, maxBytes)
			}
			if st.Evictions == 0 || st.Entries >= n || st.Evictions+uint64(st.Entries) != n {
				t.Errorf("Stats = %+v; want evictions + entries = %d", st, n)
			}
			for i := n - 100; i < n; i++ {
				mustGet(t, c, tt.entry(i), t0)
			}
			for i := range 100 {
				mustMiss(t, c, digest(i), t0)
			}
		})
	}
}

func TestShardCount(t *testing.T) {
	tests := []struct {
		maxBytes int64
		want     int
		shards   int
	}{
		{DefaultMaxBytes, 64, 0},
		{DefaultMaxBytes, 128, 100},
		{minShardBytes * 4, 4, 0},
		{1, 1, 0},
		{1 << 40, 512, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.maxBytes, "/", tt.shards), func(t *testing.T) {
			want := tt.shards
			if want == 0 {
				want = DefaultShards
			}
			if got := shardCount(max(tt.maxBytes, minShardBytes), want); got != tt.want {
				t.Errorf("shardCount = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPutExpired(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	e := userToken(0, 0, 0, 1)
	e.ExpiresAt = t0.Unix()
	c.Put(e)
	mustMiss(t, c, e.Digest, t0.Add(-time.Second))
	if st := c.Stats(); st.Entries != 0 || st.Uncached != 0 {
		t.Errorf("Stats = %+v, want nothing cached and nothing counted uncached", st)
	}
}

func TestFlush(t *testing.T) {
	c, _ := newTestCache(t, Config{MaxBytes: minShardBytes * 4})
	entries := revocationEntries()
	for _, e := range entries {
		c.Put(e)
	}
	c.RevokeClient("billing")

	// A fill in flight across the Flush must not be cached either.
	e := userToken(9, 9, 9, 1)
	entered, release := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Lookup(e.Digest, t0, blockingFill(e, entered, release))
	}()
	<-entered
	c.Flush()
	close(release)
	<-done

	for _, e := range append(entries, e) {
		mustMiss(t, c, e.Digest, t0)
	}
	if st := c.Stats(); st.Entries != 0 || st.Bytes != 0 {
		t.Errorf("Stats after Flush = %+v, want no entries and no bytes", st)
	}

	// The cache works as before, floors included.
	for _, e := range entries {
		c.Put(e)
	}
	for _, e := range entries[:3] {
		mustGet(t, c, e, t0)
	}
	mustMiss(t, c, entries[3].Digest, t0)
	checkShard(t, &c.shards[0])
}
