package cluster

import "testing"

// TestLeaseFrom pins the lease bookkeeping: when a granted lease is usable,
// when it waits for invalidations, and when missing ones call for a flush.
func TestLeaseFrom(t *testing.T) {
	const wait = 100
	type step struct {
		op   string // grant, apply, observe, caughtUp
		a    int64  // until (grant), seq (apply, caughtUp), inc (observe)
		b    uint64 // need (grant)
		now  int64
		want bool // observe: current
	}
	tests := []struct {
		name        string
		steps       []step
		at          int64 // when the checks below are made
		wantGranted int64
		wantApplied uint64
		wantOverdue bool
		wantNeed    uint64
	}{
		{
			name:        "lease with everything applied is usable",
			steps:       []step{{op: "observe", a: 7, want: true}, {op: "grant", a: 1000, b: 0}},
			wantGranted: 1000,
		},
		{
			name: "lease ahead of what was applied waits",
			steps: []step{{op: "observe", a: 7, want: true}, {op: "apply", a: 1},
				{op: "grant", a: 1000, b: 2, now: 10}},
			at: 50, wantApplied: 1,
		},
		{
			name: "the missing invalidation arrives: the lease is promoted",
			steps: []step{{op: "observe", a: 7, want: true}, {op: "grant", a: 1000, b: 2, now: 10},
				{op: "apply", a: 2, now: 20}, {op: "apply", a: 1, now: 30}},
			at: 200, wantGranted: 1000, wantApplied: 2,
		},
		{
			name: "it does not arrive in time: overdue, catch up to the lease's number",
			steps: []step{{op: "observe", a: 7, want: true}, {op: "apply", a: 1},
				{op: "grant", a: 1000, b: 3, now: 10}},
			at: 10 + wait, wantApplied: 1, wantOverdue: true, wantNeed: 3,
		},
		{
			name: "a gap in the sequence is overdue after the wait",
			steps: []step{{op: "observe", a: 7, want: true}, {op: "apply", a: 1, now: 5},
				{op: "apply", a: 3, now: 5}, {op: "apply", a: 4, now: 6}},
			at: 5 + wait, wantApplied: 1, wantOverdue: true, wantNeed: 4,
		},
		{
			name: "a gap filled in time is not",
			steps: []step{{op: "observe", a: 7, want: true}, {op: "apply", a: 2, now: 5},
				{op: "apply", a: 1, now: 50}},
			at: 5 + wait, wantApplied: 2,
		},
		{
			name: "catching up promotes the pending lease and absorbs later numbers",
			steps: []step{{op: "observe", a: 7, want: true}, {op: "grant", a: 900, b: 3, now: 1},
				{op: "apply", a: 5, now: 2}, {op: "caughtUp", a: 4}},
			at: 500, wantGranted: 900, wantApplied: 5,
		},
		{
			name: "a new incarnation drops the old lease and starts numbering again",
			steps: []step{{op: "observe", a: 7, want: true}, {op: "apply", a: 1},
				{op: "grant", a: 1000, b: 1}, {op: "observe", a: 8, want: true}},
			at: 10,
		},
		{
			name: "an older incarnation is stale and changes nothing",
			steps: []step{{op: "observe", a: 8, want: true}, {op: "grant", a: 1000, b: 0},
				{op: "observe", a: 7, want: false}},
			at: 10, wantGranted: 1000,
		},
		{
			name: "leases only ever extend",
			steps: []step{{op: "observe", a: 7, want: true}, {op: "grant", a: 1000, b: 0},
				{op: "grant", a: 800, b: 0}},
			wantGranted: 1000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l leaseFrom
			for _, s := range tt.steps {
				switch s.op {
				case "grant":
					l.grant(s.a, s.b, s.now)
				case "apply":
					l.apply(uint64(s.a), s.now)
				case "caughtUp":
					l.caughtUp(uint64(s.a))
				case "observe":
					if got := l.observe(uint64(s.a)); got != s.want {
						t.Fatalf("observe(%d) = %v, want %v", s.a, got, s.want)
					}
				}
			}
			if l.granted != tt.wantGranted || l.applied != tt.wantApplied {
				t.Errorf("granted %d applied %d, want %d and %d", l.granted, l.applied,
					tt.wantGranted, tt.wantApplied)
			}
			need, overdue := l.overdue(tt.at, wait)
			if overdue != tt.wantOverdue || need != tt.wantNeed {
				t.Errorf("overdue = %d, %v; want %d, %v", need, overdue, tt.wantNeed, tt.wantOverdue)
			}
		})
	}
}

// TestLeaseFromTooManyGaps: past maxAhead numbers out of order, catching up
// is due at once.
func TestLeaseFromTooManyGaps(t *testing.T) {
	var l leaseFrom
	l.observe(1)
	for i := range maxAhead {
		l.apply(uint64(i+2), 0)
	}
	if need, ok := l.overdue(0, 1<<60); !ok || need != maxAhead+1 {
		t.Fatalf("overdue = %d, %v; want %d, true", need, ok, maxAhead+1)
	}
}

// TestMayDrop pins the majority rule for leaving a silent peer out of the
// lease set.
func TestMayDrop(t *testing.T) {
	const now, dropAfter = 100_000, 1000
	silent := func(name string) *peer { return &peer{name: name, inSet: true} }
	live := func(name string) *peer {
		p := &peer{name: name, inSet: true, heardAt: now}
		p.lease.granted = now + 500
		return p
	}
	tests := []struct {
		name  string
		self  string
		peers []*peer
		want  bool
	}{
		{"two of three still reachable", "b", []*peer{silent("a"), live("c")}, true},
		{"one of three: cut off, keeps the set", "b", []*peer{silent("a"), silent("c")}, false},
		{"one of two holding the smallest name", "a", []*peer{silent("b")}, true},
		{"one of two without it", "b", []*peer{silent("a")}, false},
		{"two of four holding the smallest name", "a",
			[]*peer{silent("b"), silent("c"), live("d")}, true},
		{"two of four without it", "b", []*peer{silent("a"), silent("c"), live("d")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &Node{cfg: Config{Name: tt.self}, peers: map[string]*peer{}, dropAfter: dropAfter}
			for _, p := range tt.peers {
				n.peers[p.name] = p
			}
			if got := n.mayDropLocked(tt.peers[0], now); got != tt.want {
				t.Errorf("mayDrop = %v, want %v", got, tt.want)
			}
		})
	}

	// Never a peer memberlist still reports alive, nor one heard from
	// recently.
	n := &Node{cfg: Config{Name: "b"}, peers: map[string]*peer{}, dropAfter: dropAfter}
	alive := silent("a")
	alive.mlAlive = true
	recent := silent("c")
	recent.heardAt = now - dropAfter/2
	n.peers["a"], n.peers["c"], n.peers["d"] = alive, recent, live("d")
	if n.mayDropLocked(alive, now) || n.mayDropLocked(recent, now) {
		t.Error("dropped a peer that is alive or was heard from recently")
	}
}
