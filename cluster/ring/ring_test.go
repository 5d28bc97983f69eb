package ring

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// keys returns n uniformly distributed keys from a fixed seed.
func keys(n int) []uint64 {
	r := rand.New(rand.NewPCG(1, 2))
	ks := make([]uint64, n)
	for i := range ks {
		ks[i] = r.Uint64()
	}
	return ks
}

func names(n int) []string {
	ms := make([]string, n)
	for i := range ms {
		ms[i] = fmt.Sprintf("authd-%d:7946", i)
	}
	return ms
}

func TestEmptyRingOwnsNothing(t *testing.T) {
	for _, r := range []*Ring{nil, New(nil, 0), New([]string{""}, 0)} {
		if got := r.Owner(42); got != -1 {
			t.Errorf("Owner on an empty ring = %d, want -1", got)
		}
		if got := r.OwnerName(42); got != "" {
			t.Errorf("OwnerName on an empty ring = %q", got)
		}
	}
}

func TestBalance(t *testing.T) {
	tests := []struct {
		members int
		maxSkew float64 // largest share / fair share
	}{
		{1, 1.0},
		{2, 1.10},
		{3, 1.15},
		{5, 1.20},
		{10, 1.25},
	}
	ks := keys(200_000)
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.members), func(t *testing.T) {
			r := New(names(tt.members), 0)
			counts := make([]int, tt.members)
			for _, k := range ks {
				counts[r.Owner(k)]++
			}
			fair := float64(len(ks)) / float64(tt.members)
			for i, c := range counts {
				if skew := float64(c) / fair; skew > tt.maxSkew || skew < 2-tt.maxSkew {
					t.Errorf("member %d owns %d keys, %.2fx its fair share", i, c, skew)
				}
			}
		})
	}
}

// TestMinimalMovement: adding a member moves keys only to it; removing one
// moves only its own keys.
func TestMinimalMovement(t *testing.T) {
	ks := keys(50_000)
	three := New(names(3), 0)
	four := New(names(4), 0)
	added := names(4)[3]
	moved := 0
	for _, k := range ks {
		before, after := three.OwnerName(k), four.OwnerName(k)
		if before != after {
			moved++
			if after != added {
				t.Fatalf("key %x moved from %s to %s, not to the new member", k, before, after)
			}
		}
	}
	if share := float64(moved) / float64(len(ks)); share < 0.15 || share > 0.35 {
		t.Errorf("adding a 4th member moved %.2f of the keys, want about 0.25", share)
	}

	removed := names(3)[1]
	two := New([]string{names(3)[0], names(3)[2]}, 0)
	for _, k := range ks {
		before, after := three.OwnerName(k), two.OwnerName(k)
		if before != after && before != removed {
			t.Fatalf("key %x moved from %s to %s though %s stayed", k, before, after, before)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a := New([]string{"c", "a", "b", "a"}, 64)
	b := New([]string{"b", "c", "a"}, 64)
	if fmt.Sprint(a.Members()) != "[a b c]" {
		t.Errorf("members = %v", a.Members())
	}
	for _, k := range keys(10_000) {
		if a.OwnerName(k) != b.OwnerName(k) {
			t.Fatalf("key %x: %s vs %s for the same member set", k, a.OwnerName(k), b.OwnerName(k))
		}
	}
	// A pinned position: a change to the hashing would make nodes of two
	// versions disagree on every owner during a rolling upgrade.
	if got := pointHash("authd-0:7946", 7); got != 0xbe97eb26542abb13 {
		t.Errorf("pointHash changed: %#x", got)
	}
}

func BenchmarkOwner(b *testing.B) {
	r := New(names(3), 0)
	ks := keys(1024)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r.Owner(ks[i&1023])
	}
}
