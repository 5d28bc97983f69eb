package looptest

import (
	"net"
	"testing"
)

func TestFreeAddrIsFreeAndNeverRepeats(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		addr := FreeAddr(t)
		if seen[addr] {
			t.Fatalf("%s handed out twice", addr)
		}
		seen[addr] = true
	}
	l, err := net.Listen("tcp", FreeAddr(t))
	if err != nil {
		t.Fatalf("listening on a free address: %v", err)
	}
	l.Close()
}
