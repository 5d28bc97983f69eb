package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"runtime"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/bench/internal/authapi"
	"github.com/authd/authd/bench/internal/scenario"
)

// selfTestTokens is the size of the stand-in endpoint's token set.
const selfTestTokens = 1000

// selfTest measures how many requests one benchmark process generates on
// one core: it serves a stand-in introspection endpoint (parse the form,
// look a SHA-256 digest up in a map, write a fixed JSON answer) on loopback
// from the same process, drives it with the real introspect worker, and
// reports CPU time and allocations per request. Client and stand-in share
// the core, so the rate is a lower bound of the client's own capacity.
func selfTest(ctx context.Context, c config, stdout, stderr io.Writer) int {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)

	auth := authapi.Client{ID: "selftest", Secret: "selftest-secret"}.BasicAuth()
	tokens, digests := selfTestTokenSet()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(stderr, "bench: self-test:", err)
		return exitFailed
	}
	srv := &fasthttp.Server{Handler: standIn(auth, digests), Name: "stand-in"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // returns when Shutdown closes the listener
	}()
	defer func() { _ = srv.Shutdown(); <-done }()

	c.scenario = "self-test"
	c.targets = []string{"http://" + ln.Addr().String()}
	targets, _, err := connect(config{targets: c.targets, model: c.model})
	if err != nil {
		fmt.Fprintln(stderr, "bench: self-test:", err)
		return exitFailed
	}
	defer closeAll(targets, nil)
	s := scenario.NewFixedIntrospect(scenarioConfig(c, targets, nil, stderr), auth, tokens)

	cpu0, mallocs0 := cpuTime(), mallocs()
	r := measure(ctx, c, s, stderr)
	cpu, allocs := cpuTime()-cpu0, mallocs()-mallocs0
	if r.Requests > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf(
			"self-test: one process on GOMAXPROCS=1, client and stand-in endpoint together: "+
				"%.0f req/s, %.1f µs CPU and %.2f heap allocations per request",
			r.ThroughputRPS, float64(cpu.Microseconds())/float64(r.Requests),
			float64(allocs)/float64(r.Requests)))
	}
	return finish(r, c, stdout, stderr)
}

// selfTestTokenSet returns random access-token-like strings and the set of
// their digests.
func selfTestTokenSet() ([]string, map[[32]byte]bool) {
	tokens := make([]string, selfTestTokens)
	digests := make(map[[32]byte]bool, selfTestTokens)
	for i := range tokens {
		b := make([]byte, 32)
		_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
		tokens[i] = "at_" + base64.RawURLEncoding.EncodeToString(b)
		digests[sha256.Sum256([]byte(tokens[i]))] = true
	}
	return tokens, digests
}

// standIn is the self-test endpoint: POST /introspect with the expected
// Basic credentials answers whether the token's digest is known.
func standIn(auth []byte, digests map[[32]byte]bool) fasthttp.RequestHandler {
	active := []byte(`{"active":true,"sub":"u_selftest","client_id":"selftest","scope":"read",` +
		`"exp":4102444800,"iat":1700000000,"token_type":"Bearer","iss":"http://selftest"}`)
	inactive := []byte(`{"active":false}`)
	return func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) != "/introspect" || !ctx.IsPost() {
			ctx.SetStatusCode(fasthttp.StatusNotFound)
			return
		}
		if !bytes.Equal(ctx.Request.Header.Peek(fasthttp.HeaderAuthorization), auth) {
			ctx.SetStatusCode(fasthttp.StatusUnauthorized)
			return
		}
		ctx.SetContentType("application/json")
		if digests[sha256.Sum256(ctx.PostArgs().Peek("token"))] {
			ctx.SetBody(active)
			return
		}
		ctx.SetBody(inactive)
	}
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}
