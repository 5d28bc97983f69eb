package wire

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// Handler serves one request of type typ. It runs on the connection's read
// goroutine, so it must return quickly: slow work (a store read) belongs on
// a goroutine of its own, which may call r.Reply later. payload is the
// handler's to keep. Every request must be answered with r.Reply or r.Fail,
// or its caller waits for its timeout.
type Handler func(typ byte, payload []byte, r Replier)

// handshakeTimeout bounds the TLS handshake of an accepted connection.
const handshakeTimeout = 5 * time.Second

// Server accepts peer connections and hands their requests to a Handler.
// Create it with NewServer; it is safe for concurrent use.
type Server struct {
	tls *tls.Config
	h   Handler
	wg  sync.WaitGroup // accept loop and connections

	mu     sync.Mutex
	ln     net.Listener
	raw    map[net.Conn]struct{} // connections still in their handshake
	conns  map[*conn]struct{}
	closed bool
}

// NewServer returns a server that authenticates peers with tlsConf (see
// NewTLS) and serves their requests with h.
func NewServer(tlsConf *tls.Config, h Handler) *Server {
	return &Server{tls: tlsConf, h: h, raw: make(map[net.Conn]struct{}),
		conns: make(map[*conn]struct{})}
}

// Serve accepts connections on ln until Close, and returns nil then.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.ln = ln
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		s.wg.Go(func() { s.serveConn(nc) })
	}
}

// serveConn authenticates nc and serves it until it closes. A peer that
// does not hold the cluster key fails the handshake and is dropped.
func (s *Server) serveConn(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.raw[nc] = struct{}{}
	s.mu.Unlock()

	tc := tls.Server(nc, s.tls)
	tc.SetDeadline(time.Now().Add(handshakeTimeout))
	err := tc.Handshake()
	tc.SetDeadline(time.Time{})

	c := newConn(tc)
	s.mu.Lock()
	delete(s.raw, nc)
	if err != nil || s.closed {
		s.mu.Unlock()
		tc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()

	c.run(handler(s.h))

	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Close stops accepting, closes every connection and waits for the
// server's goroutines. Replies sent afterwards are dropped.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	for nc := range s.raw {
		nc.Close()
	}
	for c := range s.conns {
		c.close(ErrClosed)
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}
