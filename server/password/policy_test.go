package password

import (
	"errors"
	"strings"
	"testing"
)

const email = "Jonathan.Smith@Example.com"

func TestPolicyRejects(t *testing.T) {
	tests := []struct {
		name string
		give string
		want Weakness
	}{
		{"empty", "", TooShort},
		{"11 bytes", "k7#vQ9!mZ2x", TooShort},
		{"over 1024 bytes", strings.Repeat("k7#vQ9!mZ2x", 100), TooLong},
		{"invalid UTF-8", "violet tractor \xff lemon", NotUTF8},
		{"contains the email", "my jonathan.smith@example.com!", ContainsEmail},
		{"contains the email, other case", "JONATHAN.SMITH@EXAMPLE.COM", ContainsEmail},

		{"common password with digits", "password1234", Guessable},
		{"one repeated character", "aaaaaaaaaaaa", Guessable},
		{"keyboard row and digits", "qwertyuiop12", Guessable},
		{"digit sequence", "123456789012", Guessable},
		{"keyboard columns", "1qaz2wsx3edc", Guessable},
		{"keyboard walk with shift", "zxcvbnm,./asdf", Guessable},
		{"l33t common password", "P@ssw0rd12345", Guessable},
		{"reversed common password", "drowssap12345", Guessable},
		{"date and word", "19901231abcd", Guessable},
		{"repeated word", "monkeymonkeymonkey", Guessable},
		{"alphabet", "abcdefghijklmnop", Guessable},

		{"local part and digit", "Jonathan.Smith1", Guessable},
		{"local part without dot", "jonathansmith99", Guessable},
		{"local part words reversed", "smith.jonathan42", Guessable},
		{"local part and domain", "jonathan@example", Guessable},

		// A long password is scored on its first scoredPrefix bytes: a weak
		// start is refused whatever follows.
		{"weak prefix of a long password", strings.Repeat("a", 40) + "Xq7#mVb2!pLw9$", Guessable},
		{"long repeat", strings.Repeat("ab", 512), Guessable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DefaultPolicy.Check(tt.give, email)
			var weak *WeakError
			if !errors.As(err, &weak) {
				t.Fatalf("Check = %v, want a *WeakError", err)
			}
			if weak.Weakness != tt.want {
				t.Errorf("Check = %d (%q), want weakness %d", weak.Weakness, weak.Reason, tt.want)
			}
			if weak.Reason == "" || (tt.give != "" && strings.Contains(weak.Reason, tt.give)) {
				t.Errorf("Reason %q is empty or quotes the password", weak.Reason)
			}
		})
	}
}

func TestPolicyAccepts(t *testing.T) {
	tests := []string{
		"violet tractor lemon harbor",
		"Glass otter mountain 42",
		"my cat eats paper clips",
		"correcthorsebatterystaple",
		"k7#vQ9!mZ2xW",
		"ζωντανό φως του βουνού",
		"mot de passe très sûr",
		"smithereens of blue porcelain", // contains "smith", strong without it
		strings.Repeat("Xq7#mVb2!pLw9$k", 68),
	}
	for _, give := range tests {
		if err := DefaultPolicy.Check(give, email); err != nil {
			t.Errorf("Check(%q) = %v, want nil", give, err)
		}
	}
}

func TestPolicyBounds(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		give   string
		want   Weakness // 0: accepted
	}{
		{"zero policy has default min", Policy{}, "k7#vQ9!mZ2x", TooShort},
		{"zero policy has default max", Policy{}, strings.Repeat("x", 1025), TooLong},
		{"custom min", Policy{MinLen: 20}, "violet tractor lemon", 0},
		{"custom min refuses", Policy{MinLen: 21}, "violet tractor lemon", TooShort},
		{"custom max", Policy{MaxLen: 20}, "violet tractor lemon", 0},
		{"custom max refuses", Policy{MaxLen: 19}, "violet tractor lemon", TooLong},
		{"bytes, not characters", Policy{MaxLen: 20}, "ζωντανό φως", TooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Check(tt.give, "")
			var weak *WeakError
			switch {
			case tt.want == 0 && err != nil:
				t.Errorf("Check = %v, want nil", err)
			case tt.want != 0 && (!errors.As(err, &weak) || weak.Weakness != tt.want):
				t.Errorf("Check = %v, want weakness %d", err, tt.want)
			}
		})
	}
}

func TestPolicyReasonNamesBounds(t *testing.T) {
	err := Policy{MinLen: 16, MaxLen: 64}.Check("short", "")
	if err == nil || !strings.Contains(err.Error(), "16") {
		t.Errorf("Check(too short) = %v, want a reason naming 16", err)
	}
	err = Policy{MinLen: 16, MaxLen: 64}.Check(strings.Repeat("x", 65), "")
	if err == nil || !strings.Contains(err.Error(), "64") {
		t.Errorf("Check(too long) = %v, want a reason naming 64", err)
	}
}

func TestPrefixKeepsUTF8(t *testing.T) {
	tests := []struct {
		give string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"}, // é is 2 bytes: cutting at 2 would split it
		{"aé", 3, "aé"},
		{"€€", 4, "€"},
		{"€", 2, ""},
	}
	for _, tt := range tests {
		if got := prefix(tt.give, tt.n); got != tt.want {
			t.Errorf("prefix(%q, %d) = %q, want %q", tt.give, tt.n, got, tt.want)
		}
	}
}

func TestEmailWords(t *testing.T) {
	tests := []struct {
		give string
		want []string
	}{
		{"jane.doe@acme.io", []string{"jane.doe", "janedoe", "jane", "acme", "doe"}},
		{"jd@x.org", nil},
		{"no-at-sign", nil},
		{"", nil},
		{"a.b.c.d.e.f.g.h.i.j.k.lll.mmm.nnn.ooo.ppp.qqq.rrr.sss.ttt@example.com",
			[]string{"a.b.c.d.e.f.g.h.i.j.k.lll.mmm.nnn.ooo.ppp.qqq.rrr.sss.ttt",
				"abcdefghijklllmmmnnnooopppqqqrrrsssttt", "example", "lll", "mmm", "nnn", "ooo",
				"ppp"}},
	}
	for _, tt := range tests {
		got := emailWords(tt.give)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("emailWords(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestRemoveFold(t *testing.T) {
	tests := []struct {
		give    string
		words   []string
		want    string
		wantCut bool
	}{
		{"JaneDoe2024", []string{"janedoe", "jane"}, "2024", true},
		{"doe-jane-doe", []string{"jane", "doe"}, "--", true},
		{"nothing here", []string{"jane"}, "nothing here", false},
		{"", []string{"jane"}, "", false},
	}
	for _, tt := range tests {
		got, cut := removeFold(tt.give, tt.words)
		if got != tt.want || cut != tt.wantCut {
			t.Errorf("removeFold(%q, %q) = %q, %v; want %q, %v",
				tt.give, tt.words, got, cut, tt.want, tt.wantCut)
		}
	}
}

// BenchmarkCheck measures Check on typical and on the costliest inputs found:
// many distinct l33t characters make zxcvbn try every substitution table.
func BenchmarkCheck(b *testing.B) {
	leet := "4@8({[<3691!|70$5+%2"
	tests := []struct {
		name string
		give string
	}{
		{"passphrase", "violet tractor lemon harbor"},
		{"common", "password1234"},
		{"leet 32", strings.Repeat(leet, 2)[:32]},
		{"leet 1024", strings.Repeat(leet, 52)[:1024]},
		{"leet 1024 with email words", "jonathan" + strings.Repeat(leet, 52)[:1016]},
		{"random 1024", strings.Repeat("Xq7#mVb2!pLw9$k", 69)[:1024]},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				_ = DefaultPolicy.Check(tt.give, email)
			}
		})
	}
}
