package server

import (
	"bytes"
	"net/netip"

	"github.com/valyala/fasthttp"
)

// clientIP returns the address a request comes from, for per-IP limits and
// logs. It is the TCP peer, unless the peer is one of the trusted proxies:
// then the X-Forwarded-For header is read from the right, skipping trusted
// proxies, and the first address that is not one is the client. Addresses a
// client wrote further left are never believed, so a client cannot pick the
// address it is limited under.
func (s *Server) clientIP(ctx *fasthttp.RequestCtx) netip.Addr {
	peer, _ := netip.AddrFromSlice(ctx.RemoteIP())
	peer = peer.Unmap()
	if !s.trusted(peer) {
		return peer
	}
	xff := ctx.Request.Header.Peek("X-Forwarded-For")
	for len(xff) > 0 {
		var hop []byte
		if i := bytes.LastIndexByte(xff, ','); i >= 0 {
			hop, xff = xff[i+1:], xff[:i]
		} else {
			hop, xff = xff, nil
		}
		addr, err := netip.ParseAddr(string(bytes.TrimSpace(hop)))
		if err != nil {
			return peer // a malformed hop: trust nothing beyond the proxy
		}
		if addr = addr.Unmap(); !s.trusted(addr) {
			return addr
		}
		peer = addr
	}
	return peer
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
