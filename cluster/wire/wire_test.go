package wire

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	typeEcho   = 1
	typeSlow   = 2
	typeRefuse = 3
)

// startServer serves echo, slow (replies after 200ms) and refuse requests
// on a loopback port for t, under key.
func startServer(t *testing.T, key string) (addr string, served *atomic.Int64, srv *Server) {
	t.Helper()
	st, _, err := NewTLS([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	served = new(atomic.Int64)
	srv = NewServer(st, func(typ byte, p []byte, r Replier) {
		served.Add(1)
		switch typ {
		case typeEcho:
			r.Reply(p)
		case typeSlow:
			go func() {
				time.Sleep(200 * time.Millisecond)
				r.Reply(p)
			}()
		default:
			r.Fail("no")
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String(), served, srv
}

func newClient(t *testing.T, addr, key string) *Client {
	t.Helper()
	_, ct, err := NewTLS([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	cl := NewClient(addr, ct, 2, time.Second)
	t.Cleanup(cl.Close)
	return cl
}

func TestCallRoundTrip(t *testing.T) {
	addr, _, _ := startServer(t, "0123456789abcdef")
	cl := newClient(t, addr, "0123456789abcdef")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				want := []byte(fmt.Sprintf("g%d-%d", g, i))
				got, err := cl.Call(typeEcho, want, 2*time.Second)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("echo %q = %q, %v", want, got, err)
					return
				}
			}
		})
	}
	wg.Wait()

	_, err := cl.Call(typeRefuse, nil, time.Second)
	var re *RemoteError
	if !errors.As(err, &re) || re.Msg != "no" {
		t.Errorf("refused call: err = %v, want RemoteError no", err)
	}
}

// TestWrongKeyIsRejected: a peer with another cluster key can neither call
// nor be called, and its requests never reach the handler.
func TestWrongKeyIsRejected(t *testing.T) {
	addr, served, _ := startServer(t, "0123456789abcdef")
	cl := newClient(t, addr, "fedcba9876543210")
	if _, err := cl.Call(typeEcho, []byte("hi"), time.Second); err == nil {
		t.Fatal("call with the wrong key succeeded")
	}
	if n := served.Load(); n != 0 {
		t.Fatalf("handler served %d requests from a peer with the wrong key", n)
	}

	// A plain TCP client that speaks the frame format without TLS gets
	// nothing either.
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(appendFrame(nil, typeEcho, 1, []byte("hi")))
	nc.SetReadDeadline(time.Now().Add(time.Second))
	var b [64]byte
	if n, _ := nc.Read(b[:]); n > 0 && bytes.Contains(b[:n], []byte("hi")) {
		t.Fatal("plain connection got an echo")
	}
	if n := served.Load(); n != 0 {
		t.Fatalf("handler served %d requests from a plain connection", n)
	}
}

func TestTimeoutAndLateReply(t *testing.T) {
	addr, _, _ := startServer(t, "0123456789abcdef")
	cl := newClient(t, addr, "0123456789abcdef")
	if _, err := cl.Call(typeSlow, []byte("x"), 50*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("slow call: err = %v, want ErrTimeout", err)
	}
	// The late reply is dropped; the connection keeps working.
	time.Sleep(250 * time.Millisecond)
	if got, err := cl.Call(typeEcho, []byte("y"), time.Second); err != nil || string(got) != "y" {
		t.Fatalf("call after a timeout: %q, %v", got, err)
	}
}

func TestServerCloseFailsCallsAndClientRedials(t *testing.T) {
	addr, _, srv := startServer(t, "0123456789abcdef")
	cl := newClient(t, addr, "0123456789abcdef")
	errc := make(chan error, 1)
	go func() {
		_, err := cl.Call(typeSlow, nil, 5*time.Second)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	srv.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("call across server close: err = %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("call did not fail when the server closed")
	}

	// A new server on the same address: the client dials again once its
	// backoff has passed.
	st, _, _ := NewTLS([]byte("0123456789abcdef"))
	srv2 := NewServer(st, func(_ byte, p []byte, r Replier) { r.Reply(p) })
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("address %s taken meanwhile: %v", addr, err)
	}
	go srv2.Serve(ln)
	defer srv2.Close()
	deadline := time.Now().Add(3 * time.Second)
	for {
		got, err := cl.Call(typeEcho, []byte("z"), time.Second)
		if err == nil && string(got) == "z" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client did not reconnect: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestClosedClientFails(t *testing.T) {
	addr, _, _ := startServer(t, "0123456789abcdef")
	_, ct, _ := NewTLS([]byte("0123456789abcdef"))
	cl := NewClient(addr, ct, 1, time.Second)
	if _, err := cl.Call(typeEcho, nil, time.Second); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	if _, err := cl.Call(typeEcho, nil, time.Second); err == nil {
		t.Fatal("call on a closed client succeeded")
	}
}

func TestOversizedFrameDisconnects(t *testing.T) {
	addr, _, _ := startServer(t, "0123456789abcdef")
	cl := newClient(t, addr, "0123456789abcdef")
	if _, err := cl.Call(typeEcho, make([]byte, MaxPayload+1), time.Second); err == nil {
		t.Fatal("oversized request answered")
	}
}

func BenchmarkCall(b *testing.B) {
	st, ct, _ := NewTLS([]byte("0123456789abcdef"))
	srv := NewServer(st, func(_ byte, p []byte, r Replier) { r.Reply(p) })
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()
	cl := NewClient(ln.Addr().String(), ct, 2, time.Second)
	defer cl.Close()
	payload := make([]byte, 40)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := cl.Call(typeEcho, payload, time.Second); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
