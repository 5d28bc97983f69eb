package wire

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Client sends requests to one peer over a small pool of persistent
// connections, dialed on first use and again after a failure. It is safe for
// concurrent use. Close it when the peer goes away.
type Client struct {
	addr        string
	tls         *tls.Config
	dialTimeout time.Duration
	slots       []slot
	next        atomic.Uint32

	ctx    context.Context // cancelled by Close; bounds dials
	cancel context.CancelFunc
	wg     sync.WaitGroup // dial-and-run goroutines
}

// slot is one connection of the pool.
type slot struct {
	mu      sync.Mutex
	c       *conn
	dialing chan struct{} // non-nil while a dial runs; closed when it ends
	retryAt time.Time     // no dial before this after a failure
	backoff time.Duration
}

const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// NewClient returns a client of the peer listening at addr (host:port),
// with conns connections (at least 1), each dial bounded by dialTimeout.
func NewClient(addr string, tlsConf *tls.Config, conns int, dialTimeout time.Duration) *Client {
	ctx, cancel := context.WithCancel(context.Background())
	return &Client{addr: addr, tls: tlsConf, dialTimeout: dialTimeout,
		slots: make([]slot, max(conns, 1)), ctx: ctx, cancel: cancel}
}

// Addr returns the peer's address.
func (cl *Client) Addr() string { return cl.addr }

// Call sends a request of type typ (below 0x80) and returns the reply's
// payload, waiting at most timeout, dial included. Errors: ErrTimeout,
// ErrClosed, ErrBackoff, ErrBusy, a *RemoteError, or a dial error. A call
// that fails may or may not have reached the peer.
func (cl *Client) Call(typ byte, payload []byte, timeout time.Duration) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	c, err := cl.conn(&cl.slots[cl.next.Add(1)%uint32(len(cl.slots))], deadline)
	if err != nil {
		return nil, err
	}
	return c.call(typ, payload, time.Until(deadline))
}

// conn returns s's open connection, dialing one if needed and waiting for
// the dial until deadline.
func (cl *Client) conn(s *slot, deadline time.Time) (*conn, error) {
	s.mu.Lock()
	if s.c != nil && !s.c.closed() {
		c := s.c
		s.mu.Unlock()
		return c, nil
	}
	if s.dialing == nil {
		switch {
		case cl.ctx.Err() != nil:
			s.mu.Unlock()
			return nil, ErrClosed
		case time.Now().Before(s.retryAt):
			s.mu.Unlock()
			return nil, ErrBackoff
		}
		s.dialing = make(chan struct{})
		cl.wg.Add(1)
		go cl.dialAndRun(s, s.dialing)
	}
	dialing := s.dialing
	s.mu.Unlock()

	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-dialing:
	case <-t.C:
		return nil, ErrTimeout
	}
	s.mu.Lock()
	c, err := s.c, error(nil)
	if c == nil || c.closed() {
		c, err = nil, ErrBackoff
	}
	s.mu.Unlock()
	return c, err
}

// dialAndRun dials s's connection, publishes it and serves it until it
// closes.
func (cl *Client) dialAndRun(s *slot, dialing chan struct{}) {
	defer cl.wg.Done()
	ctx, cancel := context.WithTimeout(cl.ctx, cl.dialTimeout)
	d := tls.Dialer{NetDialer: &net.Dialer{KeepAlive: 15 * time.Second}, Config: cl.tls}
	nc, err := d.DialContext(ctx, "tcp", cl.addr)
	cancel()

	s.mu.Lock()
	var c *conn
	if err == nil && cl.ctx.Err() == nil {
		c = newConn(nc)
		s.c, s.backoff = c, 0
	} else {
		if nc != nil {
			nc.Close()
		}
		s.backoff = min(max(2*s.backoff, minBackoff), maxBackoff)
		s.retryAt = time.Now().Add(s.backoff)
	}
	s.dialing = nil
	s.mu.Unlock()
	close(dialing)
	if c != nil {
		c.run(nil)
	}
}

// Close closes every connection, fails the calls in flight with ErrClosed
// and waits for the client's goroutines. Calls after Close fail.
func (cl *Client) Close() {
	cl.cancel()
	for i := range cl.slots {
		s := &cl.slots[i]
		s.mu.Lock()
		if s.c != nil {
			s.c.close(ErrClosed)
		}
		s.mu.Unlock()
	}
	cl.wg.Wait()
}
