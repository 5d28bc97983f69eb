package sqlstore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/tokenstore"
	"github.com/authd/authd/tokenstore/pgtest"
	"github.com/authd/authd/tokenstore/sqlstore"
)

// benchConns is the number of concurrent callers and pool connections in
// the benchmarks, the 32 connections of the product's targets.
// BenchmarkToken also runs with fewer.
const benchConns = 32

// latencies collects per-call latencies from parallel benchmark goroutines.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

// add merges one goroutine's latencies.
func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d...)
	l.mu.Unlock()
}

// report adds throughput (per second, in unit) and latency percentiles to
// b's result.
func (l *latencies) report(b *testing.B, unit string) {
	if len(l.all) == 0 || b.Elapsed() == 0 {
		return
	}
	slices.Sort(l.all)
	at := func(p float64) float64 {
		return float64(l.all[int(p*float64(len(l.all)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(l.all))/b.Elapsed().Seconds(), unit+"/s")
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// runParallel runs op from benchConns goroutines, each with its own state
// from newState, and reports op's throughput and latencies. op returns false
// to stop after an error.
func runParallel[S any](b *testing.B, unit string, newState func() S,
	op func(ctx context.Context, state S) bool) {
	runParallelConns(b, benchConns, unit, newState, op)
}

// runParallelConns is runParallel with conns goroutines (rounded up to a
// multiple of GOMAXPROCS).
func runParallelConns[S any](b *testing.B, conns int, unit string, newState func() S,
	op func(ctx context.Context, state S) bool) {
	var lat latencies
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((conns + procs - 1) / procs)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx, state := context.Background(), newState()
		var mine []time.Duration
		for pb.Next() {
			start := time.Now()
			if !op(ctx, state) {
				return
			}
			mine = append(mine, time.Since(start))
		}
		lat.add(mine)
	})
	b.StopTimer()
	lat.report(b, unit)
}

// noState is the state of a stateless benchmark.
func noState() struct{} { return struct{}{} }

// benchStore opens a store on a fresh database sized for benchConns.
func benchStore(b *testing.B) *sqlstore.Store {
	b.Helper()
	return openStore(b, pgtest.URL(b), sqlstore.Options{MigrateOnOpen: true,
		MaxConns: benchConns})
}

// clientToken returns a new client-credentials access token of client.
func clientToken(client string, now time.Time) tokenstore.Token {
	var d tokenstore.Digest
	_, _ = rand.Read(d[:])
	return tokenstore.Token{Digest: d, Kind: tokenstore.KindAccess, ClientID: client,
		Scope: "svc", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
}

// BenchmarkCreateTokens measures client-credentials issuance: one access
// token per durable transaction.
func BenchmarkCreateTokens(b *testing.B) {
	s := benchStore(b)
	now := time.Now()
	l := createLogin(b, s, now)
	runParallel(b, "tokens", noState, func(ctx context.Context, _ struct{}) bool {
		if err := s.CreateTokens(ctx, nil, clientToken(l.client.ID, now)); err != nil {
			b.Error(err)
			return false
		}
		return true
	})
}

// BenchmarkToken measures a cache miss: one token view read from the store,
// by 8 and by 32 concurrent callers.
func BenchmarkToken(b *testing.B) {
	const stored = 5000
	s := benchStore(b)
	now := time.Now()
	l := createLogin(b, s, now)
	digests := make([]tokenstore.Digest, 0, stored)
	for len(digests) < stored {
		batch := make([]tokenstore.Token, 100)
		for i := range batch {
			batch[i] = newToken(tokenstore.KindAccess, l, now)
			digests = append(digests, batch[i].Digest)
		}
		if err := s.CreateTokens(context.Background(), nil, batch...); err != nil {
			b.Fatal(err)
		}
	}
	for _, conns := range []int{8, benchConns} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			runParallelConns(b, conns, "lookups", noState,
				func(ctx context.Context, _ struct{}) bool {
					v, err := s.Token(ctx, digests[mrand.IntN(len(digests))])
					if err != nil || !v.Active(now) {
						b.Errorf("Token: active %v, %v", v.Active(now), err)
						return false
					}
					return true
				})
		})
	}
}

// BenchmarkExchange measures refresh rotation: each caller exchanges its
// refresh token for a new refresh and access token, then uses the new one.
func BenchmarkExchange(b *testing.B) {
	s := benchStore(b)
	now := time.Now()
	l := createLogin(b, s, now)
	// One refresh token per goroutine runParallel starts, stored up front.
	start := make(chan tokenstore.Token, benchConns+runtime.GOMAXPROCS(0))
	for range cap(start) {
		tok := newToken(tokenstore.KindRefresh, l, now)
		if err := s.CreateTokens(context.Background(), nil, tok); err != nil {
			b.Fatal(err)
		}
		start <- tok
	}
	runParallel(b, "rotations", func() *tokenstore.Token {
		tok := <-start
		return &tok
	}, func(ctx context.Context, cur *tokenstore.Token) bool {
		next := []tokenstore.Token{newToken(tokenstore.KindRefresh, l, now),
			newToken(tokenstore.KindAccess, l, now)}
		res, err := s.Exchange(ctx, tokenstore.ExchangeRequest{Old: cur.Digest,
			Kind: tokenstore.KindRefresh, Now: now, New: next})
		if err != nil || res.Outcome != tokenstore.Exchanged {
			b.Errorf("Exchange: outcome %d, %v", res.Outcome, err)
			return false
		}
		*cur = next[0]
		return true
	})
}
