package token

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/authd/authd/tokenstore"
)

func testKeys(t testing.TB, seeds ...byte) *Keys {
	t.Helper()
	var secrets [][]byte
	for _, s := range seeds {
		secrets = append(secrets, bytes.Repeat([]byte{s}, 32))
	}
	k, err := NewKeys(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewCheckRoundTrip(t *testing.T) {
	k := testKeys(t, 1)
	tests := []struct {
		kind   tokenstore.Kind
		prefix string
	}{
		{tokenstore.KindAccess, "at_"},
		{tokenstore.KindRefresh, "rt_"},
		{tokenstore.KindCode, "ac_"},
	}
	for _, tt := range tests {
		s, err := k.New(tt.kind)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(s, tt.prefix) || len(s) != Len {
			t.Errorf("New(%v) = %q, want prefix %q and length %d", tt.kind, s, tt.prefix, Len)
		}
		got, err := k.Check(s)
		if err != nil || got != tt.kind {
			t.Errorf("Check(New(%v)) = %v, %v", tt.kind, got, err)
		}
		if !LooksLike(s) {
			t.Errorf("LooksLike(%q) = false", s)
		}
	}
}

func TestNewIsRandom(t *testing.T) {
	k := testKeys(t, 1)
	seen := map[string]bool{}
	for range 1000 {
		s, _ := k.New(tokenstore.KindAccess)
		if seen[s] {
			t.Fatalf("token %q minted twice", s)
		}
		seen[s] = true
	}
}

func TestCheckRejects(t *testing.T) {
	k := testKeys(t, 1)
	good, _ := k.New(tokenstore.KindAccess)
	other := testKeys(t, 2)
	foreign, _ := other.New(tokenstore.KindAccess)

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name string
		give string
	}{
		{"empty", ""},
		{"short", good[:Len-1]},
		{"long", good + "A"},
		{"unknown prefix", "xx_" + good[3:]},
		{"wrong prefix kind", "rt_" + good[3:]},
		{"bad alphabet", good[:10] + "+" + good[11:]},
		{"flipped random", flip(good, 5)},
		{"flipped mac", flip(good, 50)},
		{"flipped checksum", flip(good, Len-2)},
		{"foreign key", foreign},
		{"nul", good[:20] + "\x00" + good[21:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := k.Check(tt.give); err != ErrMalformed {
				t.Errorf("Check(%q) err = %v, want ErrMalformed", tt.give, err)
			}
		})
	}
}

// A forger who knows the format can fix up the public checksum, but not the
// MAC.
func TestCheckRejectsValidChecksumWithoutKey(t *testing.T) {
	k := testKeys(t, 1)
	good, _ := k.New(tokenstore.KindAccess)
	var raw [rawLen]byte
	enc.Decode(raw[:], []byte(good[3:]))
	raw[0] ^= 1
	crc := checksum("at_", raw[:rawLen-crcLen])
	raw[rawLen-4], raw[rawLen-3], raw[rawLen-2], raw[rawLen-1] =
		byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc)
	forged := "at_" + enc.EncodeToString(raw[:])
	if !LooksLike(forged) {
		t.Fatal("forged string should pass the public checksum")
	}
	if _, err := k.Check(forged); err != ErrMalformed {
		t.Errorf("Check(forged) err = %v, want ErrMalformed", err)
	}
}

func TestRotation(t *testing.T) {
	old := testKeys(t, 1)
	rotated := testKeys(t, 2, 1)
	s, _ := old.New(tokenstore.KindRefresh)
	if _, err := rotated.Check(s); err != nil {
		t.Errorf("token of the previous key rejected after rotation: %v", err)
	}
	retired := testKeys(t, 2)
	if _, err := retired.Check(s); err != ErrMalformed {
		t.Errorf("token of a retired key accepted: %v", err)
	}
}

func TestDerive(t *testing.T) {
	k := testKeys(t, 1)
	parent, _ := k.New(tokenstore.KindRefresh)
	a := k.Derive(tokenstore.KindRefresh, parent, "refresh")
	if b := k.Derive(tokenstore.KindRefresh, parent, "refresh"); a != b {
		t.Errorf("Derive is not deterministic: %q != %q", a, b)
	}
	if c := k.Derive(tokenstore.KindAccess, parent, "access"); c[3:] == a[3:] {
		t.Error("different labels derived the same random part")
	}
	if _, err := k.Check(a); err != nil {
		t.Errorf("derived token rejected: %v", err)
	}
	other := testKeys(t, 2)
	if other.Derive(tokenstore.KindRefresh, parent, "refresh") == a {
		t.Error("a different server key derived the same token")
	}
}

func TestNewKeysErrors(t *testing.T) {
	if _, err := NewKeys(); err == nil {
		t.Error("NewKeys() with no secret succeeded")
	}
	if _, err := NewKeys([]byte("short")); err == nil {
		t.Error("NewKeys with a 5-byte secret succeeded")
	}
	s := bytes.Repeat([]byte{7}, 32)
	if _, err := NewKeys(s, s); err == nil {
		t.Error("NewKeys with a duplicate secret succeeded")
	}
}

func FuzzCheck(f *testing.F) {
	k := testKeys(f, 1)
	good, _ := k.New(tokenstore.KindAccess)
	f.Add(good)
	f.Add("")
	f.Add("at_")
	f.Add(strings.Repeat("A", Len))
	f.Fuzz(func(t *testing.T, s string) {
		kind, err := k.Check(s)
		if err == nil && (kind == 0 || len(s) != Len) {
			t.Fatalf("Check(%q) accepted with kind %v", s, kind)
		}
		if err == nil && !LooksLike(s) {
			t.Fatalf("Check accepted %q but LooksLike rejects it", s)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	k := testKeys(b, 1)
	s, _ := k.New(tokenstore.KindAccess)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Check(s); err != nil {
			b.Fatal(err)
		}
	}
}

// The checksum is the public contract secret scanners rely on: the CRC-32
// (IEEE) of the prefix and the first 43 decoded bytes, big-endian in the
// last four.
func TestChecksumIsStandardCRC32(t *testing.T) {
	k := testKeys(t, 1)
	s, _ := k.New(tokenstore.KindRefresh)
	raw, err := base64.RawURLEncoding.DecodeString(s[3:])
	if err != nil {
		t.Fatal(err)
	}
	want := crc32.ChecksumIEEE(append([]byte(s[:3]), raw[:43]...))
	if got := binary.BigEndian.Uint32(raw[43:]); got != want {
		t.Errorf("embedded checksum %08x, standard CRC-32 %08x", got, want)
	}
}

// Each token has exactly one spelling: a last character differing only in
// the unused low bits is rejected.
func TestCheckRejectsNonCanonicalEncoding(t *testing.T) {
	k := testKeys(t, 1)
	s, _ := k.New(tokenstore.KindAccess)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	alias := s[:len(s)-1] + string(alphabet[last|1])
	if alias == s {
		t.Fatal("test token already has a low bit set")
	}
	if _, err := k.Check(alias); err != ErrMalformed {
		t.Errorf("non-canonical spelling accepted: %v", err)
	}
}

func TestCheckAllocatesNothing(t *testing.T) {
	k := testKeys(t, 1)
	s, _ := k.New(tokenstore.KindAccess)
	if n := testing.AllocsPerRun(100, func() { k.Check(s) }); n != 0 {
		t.Errorf("Check allocates %v times per call", n)
	}
}
