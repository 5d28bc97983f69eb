package password

import (
	"errors"
	"strings"
	"testing"
)

// validPHC is a well-formed hash: m=64,t=2,p=1, 16-byte salt, 32-byte key.
const validPHC = "$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQxNmJ5dGVzIQ" +
	"$Y2CJGAr8l7vl1KWsXzelFMkPu0mT2tW2lvmFzUO2n8I"

func TestParsePHCAcceptsCanonical(t *testing.T) {
	got, err := parsePHC(validPHC)
	if err != nil {
		t.Fatalf("parsePHC: %v", err)
	}
	want := Params{Memory: 64, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	if got.params != want {
		t.Errorf("params = %+v, want %+v", got.params, want)
	}
	if string(got.salt) != "somesalt16bytes!" {
		t.Errorf("salt = %q, want %q", got.salt, "somesalt16bytes!")
	}
	if enc := got.encode(); enc != validPHC {
		t.Errorf("encode(parsePHC(s)) = %q, want s", enc)
	}
}

func TestParsePHCRejectsMalformed(t *testing.T) {
	const (
		salt = "c29tZXNhbHQxNmJ5dGVzIQ"
		key  = "Y2CJGAr8l7vl1KWsXzelFMkPu0mT2tW2lvmFzUO2n8I"
		tail = "$" + salt + "$" + key
	)
	tests := []struct {
		name string
		give string
	}{
		{"empty", ""},
		{"no leading dollar", "argon2id$v=19$m=64,t=2,p=1" + tail},
		{"argon2i", "$argon2i$v=19$m=64,t=2,p=1" + tail},
		{"argon2d", "$argon2d$v=19$m=64,t=2,p=1" + tail},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
		{"version 16", "$argon2id$v=16$m=64,t=2,p=1" + tail},
		{"no version", "$argon2id$m=64,t=2,p=1" + tail},
		{"params reordered", "$argon2id$v=19$t=2,m=64,p=1" + tail},
		{"param missing", "$argon2id$v=19$m=64,t=2" + tail},
		{"extra param", "$argon2id$v=19$m=64,t=2,p=1,k=1" + tail},
		{"absurd memory", "$argon2id$v=19$m=4000000000,t=2,p=1" + tail},
		{"memory overflows uint32", "$argon2id$v=19$m=4294967296,t=2,p=1" + tail},
		{"memory over bound", "$argon2id$v=19$m=262145,t=2,p=1" + tail},
		{"memory under 8 per lane", "$argon2id$v=19$m=8,t=2,p=2" + tail},
		{"zero iterations", "$argon2id$v=19$m=64,t=0,p=1" + tail},
		{"absurd iterations", "$argon2id$v=19$m=64,t=100000,p=1" + tail},
		{"zero parallelism", "$argon2id$v=19$m=64,t=2,p=0" + tail},
		{"parallelism overflows uint8", "$argon2id$v=19$m=64,t=2,p=256" + tail},
		{"leading zero", "$argon2id$v=19$m=064,t=2,p=1" + tail},
		{"plus sign", "$argon2id$v=19$m=+64,t=2,p=1" + tail},
		{"minus sign", "$argon2id$v=19$m=-64,t=2,p=1" + tail},
		{"empty number", "$argon2id$v=19$m=,t=2,p=1" + tail},
		{"hex number", "$argon2id$v=19$m=0x40,t=2,p=1" + tail},
		{"padded salt", "$argon2id$v=19$m=64,t=2,p=1$" + salt + "==$" + key},
		{"url alphabet", "$argon2id$v=19$m=64,t=2,p=1$" + salt +
			"$sCKQ5-ZgOoNxgeJQwz_fDZmRCc3hp1X8fsn_MMWFHDc"},
		{"stray bits", "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + key[:len(key)-1] + "J"},
		{"line break in salt", "$argon2id$v=19$m=64,t=2,p=1$" + salt[:5] + "\r\n" + salt[5:] +
			"$" + key},
		{"short salt", "$argon2id$v=19$m=64,t=2,p=1$c2FsdA$" + key},
		{"short key", "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$a2V5a2V5"},
		{"empty key", "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$"},
		{"missing key", "$argon2id$v=19$m=64,t=2,p=1$" + salt},
		{"trailing field", validPHC + "$"},
		{"too long", validPHC + strings.Repeat("A", maxPHCLen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parsePHC(tt.give)
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("parsePHC = %v, want ErrMalformedHash", err)
			}
			if strings.Contains(err.Error(), salt) || strings.Contains(err.Error(), key) {
				t.Errorf("error %q quotes the hash", err)
			}
		})
	}
}

// FuzzParsePHC checks that no input panics the parser, and that whatever it
// accepts is canonical (encodes back to the same string) and within bounds.
func FuzzParsePHC(f *testing.F) {
	f.Add(validPHC)
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA" +
		"$sCKQ5+ZgOoNxgeJQwz/fDZmRCc3hp1X8fsn/MMWFHDc")
	f.Add("$argon2id$v=19$m=4000000000,t=2,p=1$c2FsdA$a2V5")
	f.Add("$argon2id$v=19$m=256,t=3,p=2$YWJjZGVmZ2g$3xttqcH3Lc/8clbAySOc9g")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("parsePHC(%q) error %v does not wrap ErrMalformedHash", s, err)
			}
			return
		}
		if err := h.params.Validate(); err != nil {
			t.Fatalf("parsePHC(%q) accepted out-of-bounds params: %v", s, err)
		}
		if enc := h.encode(); enc != s {
			t.Fatalf("parsePHC(%q) accepted a non-canonical form of %q", s, enc)
		}
		if len(h.salt) != int(h.params.SaltLen) || len(h.key) != int(h.params.KeyLen) {
			t.Fatalf("parsePHC(%q) lengths disagree with params %+v", s, h.params)
		}
	})
}
