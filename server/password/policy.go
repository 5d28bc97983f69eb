package password

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
)

// Default bounds of a Policy, in bytes.
const (
	DefaultMinLen = 12
	DefaultMaxLen = 1024
)

// DefaultPolicy is the policy with the default bounds. Treat it as read-only.
var DefaultPolicy = Policy{MinLen: DefaultMinLen, MaxLen: DefaultMaxLen}

// minScore is the zxcvbn score a password needs: 3 means an estimated 10^8
// guesses or more, "safely unguessable" by an online attacker and a modest
// defence against an offline one, which argon2id slows further.
const minScore = 3

// scoredPrefix is how many leading bytes of a password zxcvbn scores. Its cost
// grows faster than the square of the length, and with the number of distinct
// l33t characters (4, @, 3, 1, !, $, ...): measured on one core, the worst
// input found takes 20 to 30 ms at 32 bytes and 100 ms at 64 bytes, and random
// text of 1,024 bytes takes half a minute. Scoring only a prefix keeps Check
// near the cost of one hash and still errs on the safe side: a password is at
// least as hard to guess as its prefix, so a strong prefix makes a strong
// password. The price is that a long passphrase whose first 32 bytes are
// guessable is refused.
const scoredPrefix = 32

// Policy decides whether a new password is acceptable. Lengths count bytes,
// not characters, because bytes are what argon2id hashes. A zero field means
// its default. A Policy is a value, safe for concurrent use.
type Policy struct {
	MinLen int // fewest bytes; 0: DefaultMinLen
	MaxLen int // most bytes, which bounds hashing work; 0: DefaultMaxLen
}

// Weakness is why a password was refused.
type Weakness int

// Weaknesses, in the order Check tests for them.
const (
	TooShort Weakness = iota + 1
	TooLong
	NotUTF8
	ContainsEmail
	Guessable
)

// WeakError is the error Check returns: Reason is a sentence in plain words,
// meant to be shown to the user as is (it never quotes the password).
type WeakError struct {
	Weakness Weakness
	Reason   string
}

func (e *WeakError) Error() string { return e.Reason }

// Check returns nil if password is acceptable for the account with the given
// email, or a *WeakError saying why not: too short, too long, not valid UTF-8,
// containing the email address, or too easy to guess (common passwords, names
// and words, keyboard walks, repeats, sequences, dates, and variations of the
// email address, as zxcvbn finds them in the first 32 bytes). Email may be
// empty. Check runs zxcvbn once, on at most 32 bytes, and so takes at most
// about 30 ms of one core.
func (p Policy) Check(password, email string) error {
	minLen, maxLen := p.bounds()
	switch {
	case len(password) < minLen:
		return weak(TooShort, "password is too short: use at least "+
			strconv.Itoa(minLen)+" characters")
	case len(password) > maxLen:
		return weak(TooLong, "password is too long: use at most "+
			strconv.Itoa(maxLen)+" bytes")
	case !utf8.ValidString(password):
		return weak(NotUTF8, "password is not valid UTF-8 text")
	}

	email = strings.ToLower(strings.TrimSpace(email))
	if email != "" && strings.Contains(strings.ToLower(password), email) {
		return weak(ContainsEmail, "password must not contain your email address")
	}

	// An attacker who targets an account knows its email, so what comes from
	// it adds nothing: score what is left without it. Known gap: cutting a
	// word out of the middle of a common password could, in principle, leave
	// a rest that scores higher than the whole; the rest is always shorter,
	// which in practice makes it weaker. Scoring both would double the worst
	// case cost of Check.
	inputs := emailWords(email)
	rest, cut := removeFold(password, inputs)
	res := score(rest, email, inputs)
	switch {
	case res.Score >= minScore:
		return nil
	case cut:
		return weak(Guessable, "password is too easy to guess: "+emailHint)
	}
	return weak(Guessable, "password is too easy to guess: "+hint(res.Sequence))
}

// score runs zxcvbn on the first scoredPrefix bytes of password, with the
// email and its words as the first guesses.
func score(password, email string, words []string) zxcvbn.Result {
	return zxcvbn.PasswordStrength(prefix(password, scoredPrefix),
		append([]string{email}, words...))
}

func (p Policy) bounds() (minLen, maxLen int) {
	minLen, maxLen = p.MinLen, p.MaxLen
	if minLen == 0 {
		minLen = DefaultMinLen
	}
	if maxLen == 0 {
		maxLen = DefaultMaxLen
	}
	return minLen, maxLen
}

func weak(w Weakness, reason string) *WeakError {
	return &WeakError{Weakness: w, Reason: reason}
}

// prefix returns the first n bytes of s, shortened to end on a character
// boundary so that the result stays valid UTF-8.
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// maxEmailWords bounds how many words of an email Check looks for, so that
// an email made of many short words cannot make Check slow.
const maxEmailWords = 8

// emailWords returns the words of an email that a password should not lean
// on, longest first: the local part, the same without punctuation, its words,
// and the domain's labels but the last ("jane.doe@acme.io" gives "jane.doe",
// "janedoe", "acme", "jane", "doe"). Words under 3 bytes are left out, and
// only the maxEmailWords longest are kept.
func emailWords(email string) []string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return nil
	}
	local, domain := email[:at], email[at+1:]
	notAlnum := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	localWords := strings.FieldsFunc(local, notAlnum)
	words := append([]string{local, strings.Join(localWords, "")}, localWords...)
	if labels := strings.Split(domain, "."); len(labels) > 1 {
		words = append(words, labels[:len(labels)-1]...)
	}

	words = slices.DeleteFunc(words, func(w string) bool { return len(w) < 3 })
	slices.SortStableFunc(words, func(a, b string) int { return len(b) - len(a) })
	words = slices.Compact(words)
	return words[:min(len(words), maxEmailWords)]
}

// removeFold returns s without each occurrence of each word, matched without
// regard to case, removing words in the order given, and whether it removed
// any. Words must be lowercase.
// Matching runs on a lowercased copy and cuts the same byte ranges from s;
// in the rare case where lowercasing changes the length of s, the result is
// the lowercased remainder instead.
func removeFold(s string, words []string) (rest string, cut bool) {
	lower := strings.ToLower(s)
	if len(lower) != len(s) {
		s = lower
	}
	for _, w := range words {
		for {
			i := strings.Index(lower, w)
			if i < 0 {
				break
			}
			s = s[:i] + s[i+len(w):]
			lower = lower[:i] + lower[i+len(w):]
			cut = true
		}
	}
	return s, cut
}

const emailHint = "it is based on your email address"

// hint names the pattern that makes up most of a weak password, from the
// match sequence zxcvbn found cheapest to guess.
func hint(seq []*match.Match) string {
	var longest *match.Match
	for _, m := range seq {
		if m.Pattern != "bruteforce" && (longest == nil || m.J-m.I > longest.J-longest.I) {
			longest = m
		}
	}
	if longest == nil {
		return "add more words or characters"
	}
	switch longest.Pattern {
	case "dictionary":
		return dictionaryHint(longest)
	case "spatial":
		return "keyboard patterns like qwerty or 1qaz are among the first guesses"
	case "repeat":
		return "repeated characters or words add little"
	case "sequence":
		return "sequences like abcd or 1234 are among the first guesses"
	case "date", "regex":
		return "dates and years are easy to guess"
	}
	return "add more words or characters"
}

func dictionaryHint(m *match.Match) string {
	switch {
	case m.DictionaryName == "user_inputs":
		return emailHint
	case m.DictionaryName == "passwords":
		return "it is, or is close to, a commonly used password"
	case m.L33t || m.Reversed:
		return "common words stay easy to guess when spelled backwards or " +
			"with symbols for letters; add more words"
	}
	return "a single common word or name is easy to guess; add more words"
}
