package tokencache

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/authd/authd/tokenstore"
)

// collidingDigest returns digest i with its index tag forced to one of four
// values, so that probe runs grow long, share homes and wrap around the end
// of the index.
func collidingDigest(i int) tokenstore.Digest {
	d := digest(i)
	tags := []uint32{0, 7, 0x80000000, 0xffffffff}
	binary.LittleEndian.PutUint32(d[tagOffset:], tags[i%len(tags)])
	return d
}

// checkShard verifies the index and ring invariants of s: every slot is
// reachable by probing for its record's digest, the live count matches the
// slots, and the ring holds no more than the arena.
func checkShard(t *testing.T, s *shard) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	used := 0
	for i, v := range s.slots {
		if v == 0 {
			continue
		}
		used++
		r := s.recordAt(v)
		if r.tag() != uint32(v>>32) {
			t.Fatalf("slot %d has tag %x, its record %x", i, v>>32, r.tag())
		}
		d := tokenstore.Digest(r[recDigest:recFixed])
		if j, ok := s.findLocked(&d); !ok || j != i {
			t.Fatalf("slot %d unreachable: probing finds %d, %v", i, j, ok)
		}
	}
	if used != s.live {
		t.Fatalf("%d slots used, live = %d", used, s.live)
	}
	if s.head-s.tail > uint64(len(s.arena)) {
		t.Fatalf("ring holds %d bytes, arena %d", s.head-s.tail, len(s.arena))
	}
}

func TestShardAgainstModel(t *testing.T) {
	// Random puts, deletes and gets on one small shard, compared with a
	// model of the latest entry put per digest. Evictions make the cache
	// forget entries, never return a wrong or deleted one.
	c, _ := newTestCache(t, Config{MaxBytes: minShardBytes * 2, Shards: 1})
	s := &c.shards[0]
	rng := rand.New(rand.NewPCG(1, 2))
	scopes := []string{"a", "a b", "openid profile email"}
	model := map[tokenstore.Digest]Entry{}
	var puts []tokenstore.Digest

	for op := range 20000 {
		i := rng.IntN(300)
		d := collidingDigest(i)
		switch rng.IntN(4) {
		case 0, 1:
			e := userToken(i, i, i, rng.Uint64N(300))
			e.Digest = d
			e.Email = strings.Repeat("x", rng.IntN(120))
			e.Scope = scopes[rng.IntN(len(scopes))]
			c.Put(e)
			model[d] = e
			puts = append(puts, d)
		case 2:
			c.Delete(d)
			delete(model, d)
		case 3:
			got, ok := c.Get(d, t0)
			if want, in := model[d]; ok && (!in || got != want) {
				t.Fatalf("op %d: Get = %+v, want %+v (in model: %v)", op, got, want, in)
			}
		}
		if op%500 == 0 {
			checkShard(t, s)
		}
	}
	checkShard(t, s)

	// The newest entries survive eviction.
	for _, d := range puts[len(puts)-10:] {
		if want, in := model[d]; in {
			mustGet(t, c, want, t0)
		}
	}
}

func TestCyclicBetween(t *testing.T) {
	tests := []struct {
		h, i, j int
		want    bool
	}{
		{3, 2, 5, true},
		{5, 2, 5, true},
		{2, 2, 5, false},
		{6, 2, 5, false},
		{9, 8, 1, true},
		{0, 8, 1, true},
		{1, 8, 1, true},
		{8, 8, 1, false},
		{4, 8, 1, false},
	}
	for _, tt := range tests {
		if got := cyclicBetween(tt.h, tt.i, tt.j); got != tt.want {
			t.Errorf("cyclicBetween(%d, %d, %d) = %v, want %v", tt.h, tt.i, tt.j, got, tt.want)
		}
	}
}

func TestParseUUID(t *testing.T) {
	tests := []struct {
		give string
		ok   bool
	}{
		{"0193a5c2-7d4e-7f00-8a1b-0123456789ab", true},
		{"0193A5C2-7D4E-7F00-8A1B-0123456789AB", false},
		{"0193a5c27d4e7f008a1b0123456789ab", false},
		{"0193a5c2-7d4e-7f00-8a1b-0123456789a", false},
		{"0193a5c2-7d4e-7f00-8a1b_0123456789ab", false},
		{"0193a5c2-7d4e-7f00-8a1b-0123456789ag", false},
		{"", false},
	}
	for _, tt := range tests {
		var u [16]byte
		ok := parseUUID(&u, tt.give)
		if ok != tt.ok {
			t.Errorf("parseUUID(%q) = %v, want %v", tt.give, ok, tt.ok)
			continue
		}
		if got := string(appendUUID(nil, u[:])); ok && got != tt.give {
			t.Errorf("appendUUID(parseUUID(%q)) = %q", tt.give, got)
		}
	}
}

func TestHex16(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var src [16]byte
	for range 1000 {
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		if got, want := string(appendHex16(nil, src[:])), hex.EncodeToString(src[:]); got != want {
			t.Fatalf("appendHex16(%x) = %s", src, got)
		}
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for i := 0; i < 256; i += 16 {
		got, want := string(appendHex16(nil, all[i:i+16])), hex.EncodeToString(all[i:i+16])
		if got != want {
			t.Fatalf("appendHex16 = %s, want %s", got, want)
		}
	}
}
