// Package looptest gives tests that start servers and processes on loopback
// addresses that do not collide.
package looptest

import (
	"net"
	"sync"
	"testing"
)

// handedOut holds every address FreeAddr returned in this process.
var handedOut struct {
	sync.Mutex
	addrs map[string]bool
}

// FreeAddr returns a 127.0.0.1 address nothing listens on. The port is
// released before the caller's server binds it, and the kernel may hand a
// released port out again at once: FreeAddr never returns the same address
// twice in a process, so the ports one test gives its processes cannot
// collide with each other. It is safe for concurrent use.
func FreeAddr(t testing.TB) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.addrs == nil {
		handedOut.addrs = map[string]bool{}
	}
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if !handedOut.addrs[addr] {
			handedOut.addrs[addr] = true
			return addr
		}
	}
	t.Fatal("looptest: no unused loopback port after 100 tries")
	return ""
}
