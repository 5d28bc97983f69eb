package tokencache

import (
	"encoding/binary"
	"math"

	"github.com/authd/authd/tokenstore"
)

// A record is one cached entry as it lies in a shard's arena. Integers are
// little-endian; reads are unaligned, which amd64 and arm64 do at full speed.
//
//	offset size  field
//	0      1     head: kind (bits 0-3), headUser (bit 4), headFamily (bit 5)
//	1      1     email length
//	2      2     pair: reference to the interned (client id, scope)
//	4      4     IssuedAt, unix seconds
//	8      4     lifetime: ExpiresAt - IssuedAt, seconds
//	12     4     until, unix seconds: min(ExpiresAt, cached at + MaxAge)
//	16     32    digest
//	48     1-10  Generation, uvarint (one byte below 128)
//	then   16    user UUID, raw bytes, when headUser is set
//	then   16    family id, raw bytes, when headFamily is set
//	then   n     email
//
// Kinds start at 1, so a head byte is never 0: a 0 where a record would start
// marks padding up to the end of the arena (the ring wrapped there).
//
// A typical user token (client id and scope interned, generation below 128,
// 20-byte email) takes 48 + 1 + 16 + 16 + 20 = 101 bytes; a client
// credentials token takes 49.
const (
	recFixed     = 48
	recDigest    = 16
	headKindMask = 0x0f
	headUser     = 0x10
	headFamily   = 0x20

	maxEmailLen  = 255
	maxRecordLen = recFixed + binary.MaxVarintLen64 + 16 + 16 + maxEmailLen
)

// packed is an Entry checked and converted to its record form, ready to be
// written into an arena.
type packed struct {
	head     byte
	pair     uint16
	issued   uint32
	lifetime uint32
	until    uint32
	digest   tokenstore.Digest
	gen      uint64
	user     [16]byte
	family   [16]byte
	email    string
}

// packable converts e to record form without interning its pair. It
// reports false for an entry the record format cannot hold exactly (see
// Entry) or that is already past its deadline at cachedAt (unix seconds).
func packable(e *Entry, cachedAt, maxAge int64) (packed, bool) {
	p := packed{digest: e.Digest, gen: e.Generation, email: e.Email}
	switch {
	case e.Kind == 0 || e.Kind > headKindMask:
		return p, false
	case e.IssuedAt < 0 || e.ExpiresAt > math.MaxUint32 || e.ExpiresAt < e.IssuedAt:
		return p, false
	case len(e.Email) > maxEmailLen:
		return p, false
	}
	p.head = byte(e.Kind)
	p.issued = uint32(e.IssuedAt)
	p.lifetime = uint32(e.ExpiresAt - e.IssuedAt)

	until := min(e.ExpiresAt, cachedAt+maxAge)
	if until <= cachedAt || until <= 0 {
		return p, false
	}
	p.until = uint32(until)

	if e.UserID != "" {
		if !parseUUID(&p.user, e.UserID) {
			return p, false
		}
		p.head |= headUser
	}
	if e.FamilyID != "" {
		if !parseHex(p.family[:], e.FamilyID) {
			return p, false
		}
		p.head |= headFamily
	}
	return p, true
}

// size returns the length of p's record.
func (p *packed) size() int {
	n := recFixed + uvarintLen(p.gen) + len(p.email)
	if p.head&headUser != 0 {
		n += 16
	}
	if p.head&headFamily != 0 {
		n += 16
	}
	return n
}

// write encodes p into b, which holds exactly p.size() bytes.
func (p *packed) write(b []byte) {
	b[0] = p.head
	b[1] = byte(len(p.email))
	binary.LittleEndian.PutUint16(b[2:], p.pair)
	binary.LittleEndian.PutUint32(b[4:], p.issued)
	binary.LittleEndian.PutUint32(b[8:], p.lifetime)
	binary.LittleEndian.PutUint32(b[12:], p.until)
	copy(b[recDigest:recFixed], p.digest[:])

	i := recFixed + binary.PutUvarint(b[recFixed:], p.gen)
	if p.head&headUser != 0 {
		i += copy(b[i:], p.user[:])
	}
	if p.head&headFamily != 0 {
		i += copy(b[i:], p.family[:])
	}
	copy(b[i:], p.email)
}

// floorKeys returns what the revocation floors test of p.
func (p *packed) floorKeys() floorKeys {
	k := floorKeys{gen: p.gen, pair: p.pair}
	if p.head&headUser != 0 {
		k.user = &p.user
	}
	if p.head&headFamily != 0 {
		k.family = &p.family
	}
	return k
}

// record is a view of an encoded record at the start of the slice; the
// slice may extend past the record's end.
type record []byte

func (r record) head() byte            { return r[0] }
func (r record) kind() tokenstore.Kind { return tokenstore.Kind(r[0] & headKindMask) }
func (r record) pair() uint16          { return binary.LittleEndian.Uint16(r[2:]) }
func (r record) issued() int64         { return int64(binary.LittleEndian.Uint32(r[4:])) }
func (r record) until() int64          { return int64(binary.LittleEndian.Uint32(r[12:])) }

func (r record) expires() int64 {
	return r.issued() + int64(binary.LittleEndian.Uint32(r[8:]))
}

// hasDigest reports whether r is the record of d.
func (r record) hasDigest(d *tokenstore.Digest) bool {
	return tokenstore.Digest(r[recDigest:recFixed]) == *d
}

// tag returns the index tag of r's digest.
func (r record) tag() uint32 {
	return binary.LittleEndian.Uint32(r[recDigest+tagOffset:])
}

// fields locates a record's variable-length part. It holds offsets rather
// than slices so that decoding a record in a caller's stack buffer does not
// make the buffer escape to the heap.
type fields struct {
	gen    uint64
	user   int // offset of the user UUID, 0 when absent
	family int // offset of the family id, 0 when absent
	email  int // offset of the email, which ends the record
	size   int // length of the record
}

// fields decodes the variable-length part of r into f.
func (r record) fields(f *fields) {
	gen, n := binary.Uvarint(r[recFixed:])
	*f = fields{gen: gen}
	i := recFixed + n
	if r[0]&headUser != 0 {
		f.user = i
		i += 16
	}
	if r[0]&headFamily != 0 {
		f.family = i
		i += 16
	}
	f.email = i
	f.size = i + int(r[1])
}

// user returns the user UUID of r, whose fields are f, or nil.
func (r record) user(f *fields) []byte {
	if f.user == 0 {
		return nil
	}
	return r[f.user : f.user+16]
}

// family returns the family id of r, whose fields are f, or nil.
func (r record) family(f *fields) []byte {
	if f.family == 0 {
		return nil
	}
	return r[f.family : f.family+16]
}

// email returns the email of r, whose fields are f.
func (r record) email(f *fields) []byte { return r[f.email:f.size] }

// floorKeys returns what the revocation floors test of r, whose fields are
// f.
func (r record) floorKeys(f *fields) floorKeys {
	k := floorKeys{gen: f.gen, pair: r.pair()}
	if f.user != 0 {
		k.user = (*[16]byte)(r[f.user:])
	}
	if f.family != 0 {
		k.family = (*[16]byte)(r[f.family:])
	}
	return k
}

// textLen returns the length of the text forms of r's user id, email and
// family id together; f are r's fields.
func (f *fields) textLen() int {
	n := f.size - f.email
	if f.user != 0 {
		n += uuidLen
	}
	if f.family != 0 {
		n += 32
	}
	return n
}

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

const uuidLen = 36

// parseUUID decodes a UUID in canonical form (8-4-4-4-12 lowercase hex
// digits) into dst. Any other spelling is refused, so appendUUID gives back
// the very string that was parsed.
func parseUUID(dst *[16]byte, s string) bool {
	if len(s) != uuidLen || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	return parseHex(dst[0:4], s[0:8]) && parseHex(dst[4:6], s[9:13]) &&
		parseHex(dst[6:8], s[14:18]) && parseHex(dst[8:10], s[19:23]) &&
		parseHex(dst[10:16], s[24:36])
}

// appendUUID appends the canonical form of the UUID u to b.
func appendUUID(b []byte, u []byte) []byte {
	var h [32]byte
	hex16(&h, (*[16]byte)(u))
	b = append(b, h[0:8]...)
	b = append(b, '-')
	b = append(b, h[8:12]...)
	b = append(b, '-')
	b = append(b, h[12:16]...)
	b = append(b, '-')
	b = append(b, h[16:20]...)
	b = append(b, '-')
	return append(b, h[20:32]...)
}

// appendHex16 appends the 32 lowercase hex digits of src to b.
func appendHex16(b []byte, src []byte) []byte {
	var h [32]byte
	hex16(&h, (*[16]byte)(src))
	return append(b, h[:]...)
}

// hex16 writes the lowercase hex digits of src to dst. Every hit decodes two
// 16-byte ids, so this turns four bytes into eight digits at a time with
// integer arithmetic, several times faster than a byte-by-byte table.
func hex16(dst *[32]byte, src *[16]byte) {
	for i := 0; i < 16; i += 4 {
		// Spread the four bytes to one per 16-bit lane, then split each
		// into its high nibble (low byte of the lane: it is printed
		// first) and its low nibble.
		x := uint64(binary.LittleEndian.Uint32(src[i:]))
		x = (x | x<<16) & 0x0000ffff0000ffff
		x = (x | x<<8) & 0x00ff00ff00ff00ff
		n := (x>>4)&0x000f000f000f000f | (x&0x000f000f000f000f)<<8

		// Each byte now holds a nibble: add '0', and 'a'-'0'-10 more to
		// those above 9.
		above9 := (n + 0x0606060606060606) >> 4 & 0x0101010101010101
		binary.LittleEndian.PutUint64(dst[2*i:], n+0x3030303030303030+above9*('a'-'0'-10))
	}
}

// parseHex decodes exactly 2*len(dst) lowercase hex digits of s into dst.
// Upper case is refused, for the same reason as in parseUUID.
func parseHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, lo := unhex[s[2*i]], unhex[s[2*i+1]]
		if hi|lo > 0xf {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// unhex maps lowercase hex digits to their values and every other byte to
// 0xff.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()
