// Package token mints and checks authd's opaque token strings.
//
// A token is a type prefix followed by 63 base64url characters:
//
//	at_<base64url( random[32] | key id[1] | mac[10] | crc32[4] )>
//
// The random part carries 256 bits from crypto/rand. The MAC (HMAC-SHA-256
// under the server key named by the key id, truncated to 80 bits) lets a node
// reject forged or mangled strings before any cache or store lookup. The
// CRC-32 is public: a secret scanner that knows the format can tell a leaked
// authd token from random text without any key. Stores and caches only ever
// see the SHA-256 of the whole string (tokenstore.DigestOf).
package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/authd/authd/tokenstore"
)

// Prefixes of the three token kinds.
const (
	PrefixAccess  = "at_"
	PrefixRefresh = "rt_"
	PrefixCode    = "ac_"
)

const (
	randomLen  = 32
	macLen     = 10
	crcLen     = 4
	rawLen     = randomLen + 1 + macLen + crcLen
	prefixLen  = 3
	encodedLen = (rawLen*8 + 5) / 6
	// Len is the length of every token string.
	Len = prefixLen + encodedLen
)

// ErrMalformed is returned by Keys.Check for a string that is not a token
// minted by a key this node knows.
var ErrMalformed = errors.New("malformed token")

var enc = base64.RawURLEncoding.Strict()

// Keys is a ring of server keys: new tokens are signed with the first, and
// tokens signed by any of them are accepted, so a key can be rotated by
// adding a new first key and dropping the old one once its tokens expired.
// A Keys value is immutable and safe for concurrent use.
type Keys struct {
	current byte
	// macs holds, per key id, the HMAC key already XORed into its inner and
	// outer pads, so that checking a token (on every request) costs two
	// SHA-256 sums over stack buffers and no allocation.
	macs   [256]*pads
	derive [256][]byte
}

type pads struct {
	inner, outer [sha256.BlockSize]byte
}

func newPads(key []byte) *pads {
	p := &pads{}
	for i := range sha256.BlockSize {
		var b byte
		if i < len(key) {
			b = key[i]
		}
		p.inner[i] = b ^ 0x36
		p.outer[i] = b ^ 0x5c
	}
	return p
}

// NewKeys builds a ring from master secrets of at least 32 bytes each; the
// first one signs new tokens. It fails when two secrets map to the same key
// id (one in 256 chance per pair: generate another).
func NewKeys(secrets ...[]byte) (*Keys, error) {
	if len(secrets) == 0 {
		return nil, errors.New("token keys: need at least one secret")
	}
	k := &Keys{}
	for i, s := range secrets {
		if len(s) < 32 {
			return nil, fmt.Errorf("token key %d: %d bytes, need at least 32", i, len(s))
		}
		id := keyID(s)
		if k.macs[id] != nil {
			return nil, fmt.Errorf("token key %d: key id %d already used by another key", i, id)
		}
		k.macs[id] = newPads(subkey(s, "authd token mac"))
		k.derive[id] = subkey(s, "authd token derive")
		if i == 0 {
			k.current = id
		}
	}
	return k, nil
}

func keyID(secret []byte) byte {
	sum := sha256.Sum256(append([]byte("authd key id\x00"), secret...))
	return sum[0]
}

func subkey(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// New mints a token of the given kind with fresh randomness.
func (k *Keys) New(kind tokenstore.Kind) (string, error) {
	var random [randomLen]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return k.encode(kind, random[:]), nil
}

// Derive mints a token of the given kind whose random part is a keyed
// function of parent and label: the same inputs give the same token, and
// nobody without the server key can compute it even knowing parent. Refresh
// rotation uses it so that a retried refresh of the same parent names the
// same successor (see tokenstore.ExchangeRequest).
func (k *Keys) Derive(kind tokenstore.Kind, parent, label string) string {
	m := hmac.New(sha256.New, k.derive[k.current])
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write([]byte(parent))
	return k.encode(kind, m.Sum(nil))
}

func (k *Keys) encode(kind tokenstore.Kind, random []byte) string {
	prefix := prefixOf(kind)
	var raw [rawLen]byte
	copy(raw[:], random)
	raw[randomLen] = k.current
	k.mac(raw[randomLen+1:randomLen+1+macLen], k.current, prefix, random)
	binary.BigEndian.PutUint32(raw[rawLen-crcLen:], checksum(prefix, raw[:rawLen-crcLen]))

	var b strings.Builder
	b.Grow(Len)
	b.WriteString(prefix)
	b.WriteString(enc.EncodeToString(raw[:]))
	return b.String()
}

// mac writes the truncated HMAC-SHA-256 of prefix|random under key id into
// dst. It is HMAC spelled out (RFC 2104) so that it needs no allocation.
func (k *Keys) mac(dst []byte, id byte, prefix string, random []byte) {
	p := k.macs[id]
	var in [sha256.BlockSize + prefixLen + randomLen]byte
	copy(in[:], p.inner[:])
	copy(in[sha256.BlockSize:], prefix)
	copy(in[sha256.BlockSize+prefixLen:], random)
	inner := sha256.Sum256(in[:])

	var out [sha256.BlockSize + sha256.Size]byte
	copy(out[:], p.outer[:])
	copy(out[sha256.BlockSize:], inner[:])
	sum := sha256.Sum256(out[:])
	copy(dst, sum[:])
}

// checksum is the CRC-32 (IEEE) of prefix followed by raw. It runs the
// table by hand: hash/crc32 takes its input through a function value, which
// makes every buffer handed to it escape to the heap.
func checksum(prefix string, raw []byte) uint32 {
	crc := ^uint32(0)
	for i := range len(prefix) {
		crc = crc32.IEEETable[byte(crc)^prefix[i]] ^ crc>>8
	}
	for _, b := range raw {
		crc = crc32.IEEETable[byte(crc)^b] ^ crc>>8
	}
	return ^crc
}

// Check reports the kind of a token string minted by one of the ring's keys.
// It returns ErrMalformed for anything else: wrong length or alphabet,
// unknown prefix, bad checksum, unknown key or wrong MAC. It does not say
// whether the token is active; only the store knows that.
func (k *Keys) Check(s string) (tokenstore.Kind, error) {
	if len(s) != Len {
		return 0, ErrMalformed
	}
	kind := kindOf(s[:prefixLen])
	if kind == 0 {
		return 0, ErrMalformed
	}
	raw, ok := decode(s)
	if !ok {
		return 0, ErrMalformed
	}
	id := raw[randomLen]
	if k.macs[id] == nil {
		return 0, ErrMalformed
	}
	var want [macLen]byte
	k.mac(want[:], id, s[:prefixLen], raw[:randomLen])
	if !hmac.Equal(want[:], raw[randomLen+1:randomLen+1+macLen]) {
		return 0, ErrMalformed
	}
	return kind, nil
}

// LooksLike reports whether s has the shape of an authd token (prefix,
// length, alphabet and checksum) without any key: what a secret scanner
// checks.
func LooksLike(s string) bool {
	if len(s) != Len || kindOf(s[:prefixLen]) == 0 {
		return false
	}
	_, ok := decode(s)
	return ok
}

// decode returns the raw bytes of a token string of length Len and whether
// its encoding and checksum are valid.
func decode(s string) (raw [rawLen]byte, ok bool) {
	if !decodeBase64(raw[:], s[prefixLen:]) {
		return raw, false
	}
	want := checksum(s[:prefixLen], raw[:rawLen-crcLen])
	return raw, binary.BigEndian.Uint32(raw[rawLen-crcLen:]) == want
}

func prefixOf(kind tokenstore.Kind) string {
	switch kind {
	case tokenstore.KindAccess:
		return PrefixAccess
	case tokenstore.KindRefresh:
		return PrefixRefresh
	case tokenstore.KindCode:
		return PrefixCode
	}
	panic(fmt.Sprintf("token: unknown kind %d", kind))
}

func kindOf(prefix string) tokenstore.Kind {
	switch prefix {
	case PrefixAccess:
		return tokenstore.KindAccess
	case PrefixRefresh:
		return tokenstore.KindRefresh
	case PrefixCode:
		return tokenstore.KindCode
	}
	return 0
}

// base64URL maps base64url characters to their 6-bit values, and every other
// byte to 0xff.
var base64URL = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = 0xff
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodeBase64 decodes the unpadded base64url text of a token into dst
// (rawLen bytes from encodedLen characters). It accepts only the canonical
// encoding: the unused low bits of the last character must be zero, so each
// token has exactly one spelling. encoding/base64 would do the same but
// allocates on this path, which runs on every request.
func decodeBase64(dst []byte, text string) bool {
	var acc uint32
	bits, n := 0, 0
	for i := range len(text) {
		v := base64URL[text[i]]
		if v == 0xff {
			return false
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			dst[n] = byte(acc >> bits)
			n++
		}
	}
	return n == len(dst) && acc&(1<<bits-1) == 0
}
