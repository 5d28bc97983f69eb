// Package wire carries authd's node-to-node requests: small binary frames,
// multiplexed over a few persistent TLS connections per peer, with the
// replies matched to their requests by id.
//
// Every connection is TLS 1.3, mutually authenticated by a certificate whose
// key is derived from the cluster key (see NewTLS): only a holder of the
// cluster key can open a connection or answer one, and every frame is
// encrypted and authenticated by the TLS record layer.
//
// A frame is a 4-byte big-endian length of what follows, a type byte, a
// 4-byte request id and the payload. Request types are below 0x80; a reply
// carries its request's id and type Reply or Fail.
package wire

import (
	"encoding/binary"
	"errors"
	"time"
)

// MaxPayload bounds a frame's payload. A peer that sends a longer frame is
// disconnected.
const MaxPayload = 64 << 10

const (
	headerLen  = 9
	typeReply  = 0x80
	typeFail   = 0x81
	maxPending = 4 << 20 // bytes queued for one connection before senders get ErrBusy
)

// Errors a Call returns besides a *RemoteError.
var (
	// ErrClosed: the connection or the Client was closed before the reply.
	ErrClosed = errors.New("wire: connection closed")
	// ErrTimeout: no reply within the call's timeout.
	ErrTimeout = errors.New("wire: timeout")
	// ErrBackoff: the last dial failed recently; the call was not tried.
	ErrBackoff = errors.New("wire: peer unreachable, backing off")
	// ErrBusy: too many bytes are queued for the connection.
	ErrBusy = errors.New("wire: connection busy")
	// errFrame: the peer sent a malformed frame.
	errFrame = errors.New("wire: malformed frame")
	// errStale: the peer sent nothing for a while although calls waited.
	errStale = errors.New("wire: connection stale")
)

// RemoteError is a request the peer's handler refused with Replier.Fail.
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string { return "wire: peer refused: " + e.Msg }

// appendFrame appends one frame to b.
func appendFrame(b []byte, typ byte, id uint32, payload []byte) []byte {
	var h [headerLen]byte
	binary.BigEndian.PutUint32(h[0:], uint32(len(payload)+5))
	h[4] = typ
	binary.BigEndian.PutUint32(h[5:], id)
	return append(append(b, h[:]...), payload...)
}

// monoNow is a monotonic clock reading in nanoseconds.
func monoNow() int64 { return int64(time.Since(epoch)) }

var epoch = time.Now()
