package wire

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	writeTimeout = 5 * time.Second
	// staleAfter: a call that times out on a connection that has read
	// nothing for this long closes it, so that the next call dials afresh
	// instead of queueing behind a peer that vanished without a reset.
	staleAfter = time.Second
)

// conn is one multiplexed connection. Requests and replies are appended to
// wbuf under mu and written by one writer goroutine, so that many small
// frames queued while a write is in progress go out in one write.
type conn struct {
	nc       net.Conn
	kick     chan struct{} // wakes the writer; capacity 1
	done     chan struct{} // closed by close
	lastRead atomic.Int64  // monoNow of the last frame read

	// mu guards the fields below.
	mu      sync.Mutex
	wbuf    []byte
	spare   []byte
	nextID  uint32
	pending map[uint32]*call // client side: calls waiting for a reply
	err     error            // why the connection closed; nil while open
}

// call is one request waiting for its reply. Calls are pooled.
type call struct {
	ch    chan result // capacity 1; written once, under conn.mu
	timer *time.Timer
}

type result struct {
	payload []byte
	err     error
}

var callPool = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &call{ch: make(chan result, 1), timer: t}
}}

func newConn(nc net.Conn) *conn {
	c := &conn{nc: nc, kick: make(chan struct{}, 1), done: make(chan struct{}),
		pending: make(map[uint32]*call)}
	c.lastRead.Store(monoNow())
	return c
}

// handler serves one request; see Handler.
type handler func(typ byte, payload []byte, r Replier)

// run reads frames until the connection fails or is closed, handing
// requests to h (nil on the dialing side) and replies to their calls. It
// owns the writer goroutine and returns after it has stopped.
func (c *conn) run(h handler) {
	var wg sync.WaitGroup
	wg.Go(c.writeLoop)
	c.close(c.readLoop(h))
	wg.Wait()
}

func (c *conn) readLoop(h handler) error {
	br := bufio.NewReaderSize(c.nc, 32<<10)
	var hdr [headerLen]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(hdr[0:])
		if n < 5 || n-5 > MaxPayload {
			return errFrame
		}
		typ, id := hdr[4], binary.BigEndian.Uint32(hdr[5:])
		payload := make([]byte, n-5)
		if _, err := io.ReadFull(br, payload); err != nil {
			return err
		}
		c.lastRead.Store(monoNow())
		switch {
		case typ == typeReply || typ == typeFail:
			c.deliver(typ, id, payload)
		case typ < 0x80 && h != nil:
			h(typ, payload, Replier{c: c, id: id})
		default:
			return errFrame
		}
	}
}

func (c *conn) writeLoop() {
	for {
		select {
		case <-c.kick:
		case <-c.done:
			return
		}
		// Let the goroutines that are about to queue frames do so, so that
		// one write (one TLS record, one syscall) carries them all.
		runtime.Gosched()
		c.mu.Lock()
		buf := c.wbuf
		c.wbuf, c.spare = c.spare, nil
		c.mu.Unlock()
		if len(buf) == 0 {
			continue
		}
		c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := c.nc.Write(buf); err != nil {
			c.close(err)
			return
		}
		if cap(buf) <= 256<<10 { // a burst's huge buffer is not kept
			c.mu.Lock()
			c.spare = buf[:0]
			c.mu.Unlock()
		}
	}
}

// send queues one frame.
func (c *conn) send(typ byte, id uint32, payload []byte) error {
	c.mu.Lock()
	err := c.queueLocked(typ, id, payload)
	c.mu.Unlock()
	if err == nil {
		c.wake()
	}
	return err
}

func (c *conn) queueLocked(typ byte, id uint32, payload []byte) error {
	switch {
	case c.err != nil:
		return ErrClosed
	case len(c.wbuf) > maxPending:
		return ErrBusy
	}
	c.wbuf = appendFrame(c.wbuf, typ, id, payload)
	return nil
}

func (c *conn) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// call sends a request and waits for its reply or the timeout.
func (c *conn) call(typ byte, payload []byte, timeout time.Duration) ([]byte, error) {
	cl := callPool.Get().(*call)
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	err := c.queueLocked(typ, id, payload)
	if err == nil {
		c.pending[id] = cl
	}
	c.mu.Unlock()
	if err != nil {
		callPool.Put(cl)
		return nil, err
	}
	c.wake()

	cl.timer.Reset(timeout)
	var r result
	select {
	case r = <-cl.ch:
		cl.timer.Stop()
	case <-cl.timer.C:
		c.mu.Lock()
		_, waiting := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if !waiting {
			// The reply was delivered between the timer firing and the
			// lock: it is in the channel.
			r = <-cl.ch
			break
		}
		if time.Duration(monoNow()-c.lastRead.Load()) > staleAfter {
			c.close(errStale)
		}
		r = result{err: ErrTimeout}
	}
	callPool.Put(cl)
	return r.payload, r.err
}

// deliver hands a reply to the call waiting for it, if it still waits.
func (c *conn) deliver(typ byte, id uint32, payload []byte) {
	r := result{payload: payload}
	if typ == typeFail {
		r = result{err: &RemoteError{Msg: string(payload)}}
	}
	c.mu.Lock()
	if cl, ok := c.pending[id]; ok {
		delete(c.pending, id)
		cl.ch <- r
	}
	c.mu.Unlock()
}

// close closes the connection for reason and fails every waiting call with
// ErrClosed. Only the first call has an effect.
func (c *conn) close(reason error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	if reason == nil {
		reason = ErrClosed
	}
	c.err = reason
	for id, cl := range c.pending {
		delete(c.pending, id)
		cl.ch <- result{err: ErrClosed}
	}
	c.mu.Unlock()
	close(c.done)
	c.nc.Close()
}

func (c *conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Replier answers one request. It may be used from any goroutine, once.
type Replier struct {
	c  *conn
	id uint32
}

// Reply sends payload as the answer. It fails only when the connection is
// gone or congested; the caller then sees a timeout.
func (r Replier) Reply(payload []byte) error { return r.c.send(typeReply, r.id, payload) }

// Fail refuses the request; the caller's Call returns a *RemoteError.
func (r Replier) Fail(msg string) error { return r.c.send(typeFail, r.id, []byte(msg)) }
