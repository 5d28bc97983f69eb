package cluster

import (
	"encoding/binary"
	"errors"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/tokenstore"
)

// Peer request types (wire frame types).
const (
	msgPing       = 1 // pingReq -> pingReply
	msgInvalidate = 2 // invalidateReq -> empty ack
	msgLookup     = 3 // lookupReq -> lookupReply
	msgBye        = 4 // hello (the leaving node) -> empty ack
)

// errMalformed: a peer message could not be decoded.
var errMalformed = errors.New("cluster: malformed peer message")

// hello names the sending node in requests that carry its identity.
type hello struct {
	name string
	inc  uint64 // the sender's incarnation
	addr string // the sender's peer listener, host:port
}

// pingReq asks for a lease. yourInc and applied tell the receiver how far
// the sender has applied the receiver's invalidations (an acknowledgement
// of all of them up to applied, when yourInc is the receiver's incarnation).
type pingReq struct {
	from    hello
	yourInc uint64
	applied uint64
}

// pingReply grants the lease: the grantor's incarnation and the number of
// its latest invalidation.
type pingReply struct {
	inc uint64
	seq uint64
}

// invalidateReq carries invalidation number seq of the sender.
type invalidateReq struct {
	from hello
	seq  uint64
	inv  tokencache.Invalidation
}

// lookupReq asks the owner of a digest for its introspection answer.
type lookupReq struct {
	digest tokenstore.Digest
	now    int64 // the asking node's clock, unix nanoseconds
}

// Lookup reply status.
const (
	lookupInactive    = 0
	lookupActive      = 1
	lookupUnavailable = 2 // the owner could not answer; ask the store
)

type lookupReply struct {
	status byte
	e      tokencache.Entry // when active; Digest is the request's
}

// enc appends fixed-size integers and length-prefixed strings.
type enc []byte

func (e enc) u8(v byte) enc    { return append(e, v) }
func (e enc) u64(v uint64) enc { return binary.BigEndian.AppendUint64(e, v) }
func (e enc) str(s string) enc { return append(binary.AppendUvarint(e, uint64(len(s))), s...) }
func (e enc) bytes(b []byte) enc {
	return append(binary.AppendUvarint(e, uint64(len(b))), b...)
}
func (e enc) hello(h hello) enc {
	return e.str(h.name).u64(h.inc).str(h.addr)
}

// dec reads what enc wrote; the first short read sets err and makes every
// later read return zero values.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail() { d.err, d.b = errMalformed, nil }

func (d *dec) u8() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) u64() uint64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *dec) str() string {
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)-k) {
		d.fail()
		return ""
	}
	s := string(d.b[k : k+int(n)])
	d.b = d.b[k+int(n):]
	return s
}

func (d *dec) fixed(dst []byte) {
	if len(d.b) < len(dst) {
		d.fail()
		return
	}
	d.b = d.b[copy(dst, d.b):]
}

func (d *dec) hello() hello { return hello{name: d.str(), inc: d.u64(), addr: d.str()} }

// done returns the decoding error, or errMalformed for trailing bytes.
func (d *dec) done() error {
	if d.err == nil && len(d.b) != 0 {
		return errMalformed
	}
	return d.err
}

func (m pingReq) encode() []byte {
	return enc(nil).hello(m.from).u64(m.yourInc).u64(m.applied)
}

func decodePingReq(b []byte) (pingReq, error) {
	d := dec{b: b}
	m := pingReq{from: d.hello(), yourInc: d.u64(), applied: d.u64()}
	return m, d.done()
}

func (m pingReply) encode() []byte { return enc(nil).u64(m.inc).u64(m.seq) }

func decodePingReply(b []byte) (pingReply, error) {
	d := dec{b: b}
	m := pingReply{inc: d.u64(), seq: d.u64()}
	return m, d.done()
}

func (m invalidateReq) encode() []byte {
	e := enc(nil).hello(m.from).u64(m.seq).u8(byte(m.inv.Kind))
	e = append(e, m.inv.Digest[:]...)
	return e.str(m.inv.ID).u64(m.inv.Generation)
}

func decodeInvalidateReq(b []byte) (invalidateReq, error) {
	d := dec{b: b}
	m := invalidateReq{from: d.hello(), seq: d.u64()}
	m.inv.Kind = tokencache.InvalidationKind(d.u8())
	d.fixed(m.inv.Digest[:])
	m.inv.ID, m.inv.Generation = d.str(), d.u64()
	return m, d.done()
}

func (m lookupReq) encode() []byte {
	return enc(m.digest[:]).u64(uint64(m.now))
}

func decodeLookupReq(b []byte) (lookupReq, error) {
	d := dec{b: b}
	var m lookupReq
	d.fixed(m.digest[:])
	m.now = int64(d.u64())
	return m, d.done()
}

// appendActiveView encodes the answer for an active token from a cached
// view, without building an Entry.
func appendActiveView(b []byte, v *tokencache.View) []byte {
	e := enc(b).u8(lookupActive).u8(byte(v.Kind)).u64(v.Generation)
	e = e.u64(uint64(v.IssuedAt)).u64(uint64(v.ExpiresAt))
	e = e.bytes(v.UserID).bytes(v.Email).str(v.ClientID).str(v.Scope)
	return e.bytes(v.FamilyID)
}

// appendActiveEntry encodes the answer for an active token.
func appendActiveEntry(b []byte, x tokencache.Entry) []byte {
	e := enc(b).u8(lookupActive).u8(byte(x.Kind)).u64(x.Generation)
	e = e.u64(uint64(x.IssuedAt)).u64(uint64(x.ExpiresAt))
	return e.str(x.UserID).str(x.Email).str(x.ClientID).str(x.Scope).str(x.FamilyID)
}

func decodeLookupReply(b []byte, d tokenstore.Digest) (lookupReply, error) {
	r := dec{b: b}
	m := lookupReply{status: r.u8()}
	if m.status == lookupActive {
		m.e = tokencache.Entry{Digest: d, Kind: tokenstore.Kind(r.u8()), Generation: r.u64(),
			IssuedAt: int64(r.u64()), ExpiresAt: int64(r.u64())}
		m.e.UserID, m.e.Email, m.e.ClientID = r.str(), r.str(), r.str()
		m.e.Scope, m.e.FamilyID = r.str(), r.str()
	}
	if m.status > lookupUnavailable {
		return m, errMalformed
	}
	return m, r.done()
}

func decodeHello(b []byte) (hello, error) {
	d := dec{b: b}
	h := d.hello()
	return h, d.done()
}
