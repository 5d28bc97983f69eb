package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformedHash reports a stored hash that is not an argon2id PHC string
// this package can verify: wrong shape, wrong algorithm or version, bad
// base64, or parameters outside the bounds of Params.Validate. Errors wrap it
// with the reason; they never quote the hash.
var ErrMalformedHash = errors.New("malformed password hash")

// maxPHCLen bounds the input of parsePHC. The longest valid string (maximal
// parameters, 64-byte salt and key) is under 220 bytes.
const maxPHCLen = 256

// b64 is the PHC string format's base64: standard alphabet, no padding, and
// (Strict) no stray bits in the last character, so each hash has one spelling.
var b64 = base64.RawStdEncoding.Strict()

// phc is a parsed argon2id hash.
type phc struct {
	params Params
	salt   []byte
	key    []byte
}

// encode returns h as
// $argon2id$v=19$m=<memory>,t=<iterations>,p=<parallelism>$<salt>$<key>.
func (h phc) encode() string {
	var b strings.Builder
	b.Grow(48 + b64.EncodedLen(len(h.salt)) + b64.EncodedLen(len(h.key)))
	b.WriteString("$argon2id$v=19$m=")
	b.WriteString(strconv.FormatUint(uint64(h.params.Memory), 10))
	b.WriteString(",t=")
	b.WriteString(strconv.FormatUint(uint64(h.params.Iterations), 10))
	b.WriteString(",p=")
	b.WriteString(strconv.FormatUint(uint64(h.params.Parallelism), 10))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(h.salt))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(h.key))
	return b.String()
}

// parsePHC parses the canonical form that encode writes and nothing else:
// fields in that order, decimal numbers without sign or leading zeros. The
// parsed parameters pass Params.Validate, so verifying the hash costs a
// bounded amount of memory and time. Errors wrap ErrMalformedHash.
func parsePHC(s string) (phc, error) {
	if len(s) > maxPHCLen {
		return phc{}, malformed("longer than %d bytes", maxPHCLen)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return phc{}, malformed("want 5 fields separated by '$'")
	}
	if parts[1] != "argon2id" {
		return phc{}, malformed("algorithm is not argon2id")
	}
	if parts[2] != "v=19" {
		return phc{}, malformed("version is not v=19")
	}
	p, err := parseCost(parts[3])
	if err != nil {
		return phc{}, err
	}

	salt, ok := decodeB64(parts[4])
	if !ok {
		return phc{}, malformed("salt is not unpadded base64")
	}
	key, ok := decodeB64(parts[5])
	if !ok {
		return phc{}, malformed("key is not unpadded base64")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.Validate(); err != nil {
		return phc{}, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	return phc{params: p, salt: salt, key: key}, nil
}

// decodeB64 decodes s, accepting only the one spelling that b64 encodes to:
// the decoder alone would skip line breaks.
func decodeB64(s string) ([]byte, bool) {
	b, err := b64.DecodeString(s)
	if err != nil || b64.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}

// parseCost parses "m=<memory>,t=<iterations>,p=<parallelism>". Range checks
// beyond the width of each field are left to Params.Validate.
func parseCost(s string) (Params, error) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return Params{}, malformed("want parameters m, t and p")
	}
	m, err := parseField(fields[0], "m=", 32)
	if err != nil {
		return Params{}, err
	}
	t, err := parseField(fields[1], "t=", 32)
	if err != nil {
		return Params{}, err
	}
	p, err := parseField(fields[2], "p=", 8)
	if err != nil {
		return Params{}, err
	}
	return Params{Memory: uint32(m), Iterations: uint32(t), Parallelism: uint8(p)}, nil
}

// parseField parses one "<name>=<decimal>" parameter that must fit in bits.
func parseField(s, name string, bits int) (uint64, error) {
	digits, ok := strings.CutPrefix(s, name)
	if !ok {
		return 0, malformed("want parameter %q", name[:1])
	}
	if digits == "" || digits[0] < '0' || digits[0] > '9' ||
		(digits[0] == '0' && len(digits) > 1) {
		return 0, malformed("parameter %q is not a canonical decimal", name[:1])
	}
	n, err := strconv.ParseUint(digits, 10, bits)
	if err != nil {
		return 0, malformed("parameter %q out of range", name[:1])
	}
	return n, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedHash, fmt.Sprintf(format, args...))
}
