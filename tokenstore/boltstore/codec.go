package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/authd/authd/tokenstore"
)

// Records are encoded by hand: a version byte, then the fields in a fixed
// order as uvarints, varints and length-prefixed bytes. A token record is
// about 150 bytes; JSON would be three times that and cost an order of
// magnitude more CPU to decode on every Token lookup. A field added later
// gets a new version number and the decoder keeps reading the old ones.
const recordV1 = 1

// errCorrupt reports a record that cannot be decoded.
var errCorrupt = errors.New("corrupt record")

// encoder appends fields to b.
type encoder struct{ b []byte }

func (e *encoder) byte(v byte)       { e.b = append(e.b, v) }
func (e *encoder) uvarint(v uint64)  { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) bool(v bool)       { e.byte(boolByte(v)) }
func (e *encoder) str(s string)      { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) raw(p []byte)      { e.uvarint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *encoder) digest(d [32]byte) { e.b = append(e.b, d[:]...) }

func (e *encoder) strs(list []string) {
	e.uvarint(uint64(len(list)))
	for _, s := range list {
		e.str(s)
	}
}

// time encodes t to the nanosecond as nanoseconds+1 (0 for the zero time)
// and Unix seconds. The location is not kept.
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(t.Nanosecond()) + 1)
	e.b = binary.AppendVarint(e.b, t.Unix())
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// decoder reads fields from b. The first failure sticks: later reads return
// zero values and err reports it. Strings and byte slices are copied, since
// b is only valid inside its transaction.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bool() bool { return d.byte() != 0 }

// next returns the next n bytes, not copied.
func (d *decoder) next(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) str() string { return string(d.next(d.uvarint())) }

// raw returns a copy of a length-prefixed byte string; nil when empty.
func (d *decoder) raw() []byte {
	p := d.next(d.uvarint())
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

func (d *decoder) digest() (v tokenstore.Digest) {
	copy(v[:], d.next(32))
	return v
}

// strs returns a list of strings; nil when empty.
func (d *decoder) strs() []string {
	n := d.uvarint()
	if n > uint64(len(d.b)) { // every string takes at least one byte
		d.fail()
		return nil
	}
	var list []string
	for range n {
		list = append(list, d.str())
	}
	return list
}

func (d *decoder) time() time.Time {
	ns := d.uvarint()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(d.varint(), int64(ns-1)).UTC()
}

// version reads the version byte and fails unless it is one this code
// reads.
func (d *decoder) version(what string) {
	if v := d.byte(); d.err == nil && v != recordV1 {
		d.err = fmt.Errorf("%s record version %d not supported", what, v)
	}
}

// done returns the first decoding failure, naming what was decoded.
func (d *decoder) done(what string) error {
	if d.err != nil {
		return fmt.Errorf("decode %s: %w", what, d.err)
	}
	return nil
}

func encodeUser(u tokenstore.User) []byte {
	e := encoder{make([]byte, 0, 64+len(u.Email)+len(u.PasswordHash))}
	e.byte(recordV1)
	e.str(u.Email)
	e.str(u.PasswordHash)
	e.bool(u.Disabled)
	e.uvarint(u.Generation)
	e.time(u.CreatedAt)
	return e.b
}

func decodeUser(id string, p []byte) (tokenstore.User, error) {
	d := decoder{b: p}
	d.version("user")
	u := tokenstore.User{ID: id}
	u.Email = d.str()
	u.PasswordHash = d.str()
	u.Disabled = d.bool()
	u.Generation = d.uvarint()
	u.CreatedAt = d.time()
	return u, d.done("user")
}

// clientRecord is a stored client; a deleted client stays as a tombstone so
// that its ID is never reused and its tokens never revive.
type clientRecord struct {
	tokenstore.Client
	Deleted bool
}

// Client flag bits.
const (
	clientPublic = 1 << iota
	clientFirstParty
	clientDeleted
)

func encodeClient(c clientRecord) []byte {
	e := encoder{make([]byte, 0, 128)}
	e.byte(recordV1)
	var flags byte
	if c.Public {
		flags |= clientPublic
	}
	if c.FirstParty {
		flags |= clientFirstParty
	}
	if c.Deleted {
		flags |= clientDeleted
	}
	e.byte(flags)
	e.raw(c.SecretDigest)
	e.str(c.Name)
	e.strs(c.GrantTypes)
	e.strs(c.Scopes)
	e.strs(c.RedirectURIs)
	e.time(c.CreatedAt)
	return e.b
}

func decodeClient(id string, p []byte) (clientRecord, error) {
	d := decoder{b: p}
	d.version("client")
	c := clientRecord{Client: tokenstore.Client{ID: id}}
	flags := d.byte()
	c.Public = flags&clientPublic != 0
	c.FirstParty = flags&clientFirstParty != 0
	c.Deleted = flags&clientDeleted != 0
	c.SecretDigest = d.raw()
	c.Name = d.str()
	c.GrantTypes = d.strs()
	c.Scopes = d.strs()
	c.RedirectURIs = d.strs()
	c.CreatedAt = d.time()
	return c, d.done("client")
}

// familyRecord is a stored family with the number of its tokens still
// stored, which tells DeleteExpired when an ended family may go.
type familyRecord struct {
	tokenstore.Family
	Tokens uint64
}

func encodeFamily(f familyRecord) []byte {
	e := encoder{make([]byte, 0, 96)}
	e.byte(recordV1)
	e.str(f.UserID)
	e.str(f.ClientID)
	e.time(f.ExpiresAt)
	e.bool(f.Revoked)
	e.time(f.CreatedAt)
	e.uvarint(f.Tokens)
	return e.b
}

func decodeFamily(id string, p []byte) (familyRecord, error) {
	d := decoder{b: p}
	d.version("family")
	f := familyRecord{Family: tokenstore.Family{ID: id}}
	f.UserID = d.str()
	f.ClientID = d.str()
	f.ExpiresAt = d.time()
	f.Revoked = d.bool()
	f.CreatedAt = d.time()
	f.Tokens = d.uvarint()
	return f, d.done("family")
}

// Token flag bits.
const (
	tokenRevoked = 1 << iota
	tokenUsed
)

func encodeToken(t tokenstore.Token) []byte {
	e := encoder{make([]byte, 0, 192)}
	e.byte(recordV1)
	e.byte(byte(t.Kind))
	var flags byte
	if t.Revoked {
		flags |= tokenRevoked
	}
	used := !t.UsedAt.IsZero() || t.Successor != (tokenstore.Digest{})
	if used {
		flags |= tokenUsed
	}
	e.byte(flags)
	e.str(t.ClientID)
	e.str(t.UserID)
	e.str(t.FamilyID)
	e.str(t.Scope)
	e.uvarint(t.UserGeneration)
	e.time(t.IssuedAt)
	e.time(t.ExpiresAt)
	if used {
		e.time(t.UsedAt)
		e.digest(t.Successor)
	}
	e.str(t.RedirectURI)
	e.str(t.CodeChallenge)
	return e.b
}

func decodeToken(digest tokenstore.Digest, p []byte) (tokenstore.Token, error) {
	d := decoder{b: p}
	d.version("token")
	t := tokenstore.Token{Digest: digest}
	t.Kind = tokenstore.Kind(d.byte())
	flags := d.byte()
	t.Revoked = flags&tokenRevoked != 0
	t.ClientID = d.str()
	t.UserID = d.str()
	t.FamilyID = d.str()
	t.Scope = d.str()
	t.UserGeneration = d.uvarint()
	t.IssuedAt = d.time()
	t.ExpiresAt = d.time()
	if flags&tokenUsed != 0 {
		t.UsedAt = d.time()
		t.Successor = d.digest()
	}
	t.RedirectURI = d.str()
	t.CodeChallenge = d.str()
	return t, d.done("token")
}

func encodeThrottle(t tokenstore.Throttle) []byte {
	e := encoder{make([]byte, 0, 16)}
	e.byte(recordV1)
	e.uvarint(uint64(t.Failures))
	e.time(t.LockedUntil)
	return e.b
}

func decodeThrottle(p []byte) (tokenstore.Throttle, error) {
	d := decoder{b: p}
	d.version("throttle")
	var t tokenstore.Throttle
	t.Failures = int(d.uvarint())
	t.LockedUntil = d.time()
	return t, d.done("throttle")
}

// timeKey is the 12-byte prefix of an expiry index key: Unix seconds with
// the sign bit flipped, then nanoseconds, both big-endian, so that byte
// order is time order for every time a Time can hold.
func timeKey(t time.Time) [12]byte {
	var k [12]byte
	binary.BigEndian.PutUint64(k[:8], uint64(t.Unix())^(1<<63))
	binary.BigEndian.PutUint32(k[8:], uint32(t.Nanosecond()))
	return k
}

// expiryKey is the index key of a record that expires at t.
func expiryKey(t time.Time, id []byte) []byte {
	k := timeKey(t)
	return append(k[:], id...)
}
