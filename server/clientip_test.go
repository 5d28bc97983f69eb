package server

import (
	"net"
	"net/netip"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestClientIP(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"),
	}}}
	tests := []struct {
		name string
		peer string
		xff  string
		want string
	}{
		{"direct client", "203.0.113.7", "", "203.0.113.7"},
		{"untrusted peer's header ignored", "203.0.113.7", "198.51.100.1", "203.0.113.7"},
		{"one trusted proxy", "10.1.2.3", "198.51.100.1", "198.51.100.1"},
		{"client-written hops ignored", "10.1.2.3", "1.1.1.1, 198.51.100.1", "198.51.100.1"},
		{"chain of trusted proxies", "10.1.2.3", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"only proxies", "10.1.2.3", "10.9.9.9", "10.9.9.9"},
		{"trusted proxy, no header", "10.1.2.3", "", "10.1.2.3"},
		{"malformed hop", "10.1.2.3", "198.51.100.1, garbage", "10.1.2.3"},
		{"IPv6 proxy", "fd00::1", "2001:db8::5", "2001:db8::5"},
		{"IPv4-mapped", "10.1.2.3", "::ffff:198.51.100.1", "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ctx fasthttp.RequestCtx
			var req fasthttp.Request
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			ctx.Init(&req, &net.TCPAddr{IP: net.ParseIP(tt.peer), Port: 1234}, nil)
			if got := s.clientIP(&ctx).String(); got != tt.want {
				t.Errorf("clientIP = %s, want %s", got, tt.want)
			}
		})
	}
}
