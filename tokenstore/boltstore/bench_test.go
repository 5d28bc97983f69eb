package boltstore

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/authd/authd/tokenstore"
)

// benchParallelism is goroutines per core in parallel benchmarks: 16 on two
// cores stands for the 32 connections of the performance targets.
const benchParallelism = 16

func randomDigest() tokenstore.Digest {
	var d tokenstore.Digest
	_, _ = rand.Read(d[:])
	return d
}

// clientToken is a client-credentials access token.
func clientToken(now time.Time) tokenstore.Token {
	return tokenstore.Token{
		Digest: randomDigest(), Kind: tokenstore.KindAccess, ClientID: "svc-0123456789",
		Scope: "read write", IssuedAt: now, ExpiresAt: now.Add(time.Hour),
	}
}

// BenchmarkCreateTokens issues client-credentials tokens from many
// goroutines, each call a durable commit shared through batching, for a few
// batch delays. Run it with a fixed count (-benchtime 20000x) so that every
// delay writes to a file of the same size.
func BenchmarkCreateTokens(b *testing.B) {
	delays := []time.Duration{500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond,
		10 * time.Millisecond}
	for _, delay := range delays {
		b.Run(fmt.Sprintf("delay=%v", delay), func(b *testing.B) {
			s := openTemp(b, Options{MaxBatchDelay: delay})
			ctx, now := b.Context(), time.Now()
			b.SetParallelism(benchParallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.CreateTokens(ctx, nil, clientToken(now)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// BenchmarkToken looks up user tokens (with user, family and client) in a
// store of 100,000 tokens.
func BenchmarkToken(b *testing.B) {
	const users, perUser = 1000, 100
	s := openTemp(b, Options{})
	digests := fillStore(b, s, users, perUser)
	ctx := b.Context()

	lookup := func(i uint64) {
		if _, err := s.Token(ctx, digests[i%uint64(len(digests))]); err != nil {
			b.Error(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			lookup(uint64(i) * 7919)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		var next atomic.Uint64
		b.SetParallelism(benchParallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				lookup(next.Add(7919))
			}
		})
	})
}

// BenchmarkExchange rotates refresh tokens from many goroutines, each
// rotation a read-modify-write commit shared through batching.
func BenchmarkExchange(b *testing.B) {
	s := openTemp(b, Options{})
	const users = 64
	digests := fillStore(b, s, users, 1) // one refresh token per user
	ctx, now := b.Context(), time.Now()
	var next atomic.Uint64
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		// Each goroutine rotates its own chain, as one client would.
		cur, err := s.Token(ctx, digests[next.Add(1)%users])
		if err != nil {
			b.Error(err)
			return
		}
		old := cur.Token
		for pb.Next() {
			n := old
			n.Digest, n.IssuedAt, n.UsedAt = randomDigest(), now, time.Time{}
			res, err := s.Exchange(ctx, tokenstore.ExchangeRequest{
				Old: old.Digest, Kind: tokenstore.KindRefresh, Now: now, Grace: time.Second,
				New: []tokenstore.Token{n, clientToken(now)},
			})
			if err != nil || res.Outcome != tokenstore.Exchanged {
				b.Errorf("Exchange: outcome %d, %v", res.Outcome, err)
				return
			}
			old = n
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rotations/s")
}

// fillStore stores users with perUser families each, one refresh token per
// family, and returns the token digests.
func fillStore(b *testing.B, s *Store, users, perUser int) []tokenstore.Digest {
	b.Helper()
	ctx, now := b.Context(), time.Now()
	client := tokenstore.Client{ID: "web-0123456789", Name: "web", CreatedAt: now}
	if err := s.CreateClient(ctx, client); err != nil {
		b.Fatal(err)
	}
	var digests []tokenstore.Digest
	for i := range users {
		u := tokenstore.User{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			Email: fmt.Sprintf("user%d@example.com", i), CreatedAt: now,
			PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}
		if err := s.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		var fams []tokenstore.Family
		var toks []tokenstore.Token
		for j := range perUser {
			var id [16]byte
			binary.BigEndian.PutUint64(id[:], uint64(i*perUser+j))
			fam := tokenstore.Family{ID: fmt.Sprintf("%x", id), UserID: u.ID,
				ClientID: client.ID, ExpiresAt: now.Add(90 * 24 * time.Hour), CreatedAt: now}
			fams = append(fams, fam)
			toks = append(toks, tokenstore.Token{Digest: randomDigest(),
				Kind: tokenstore.KindRefresh, ClientID: client.ID, UserID: u.ID,
				FamilyID: fam.ID, Scope: "openid profile", IssuedAt: now,
				ExpiresAt: now.Add(30 * 24 * time.Hour)})
		}
		if err := createMany(s, b, fams, toks); err != nil {
			b.Fatal(err)
		}
		for _, t := range toks {
			digests = append(digests, t.Digest)
		}
	}
	return digests
}

// createMany stores families and their tokens in one transaction, which
// CreateTokens cannot (one family per call).
func createMany(s *Store, b *testing.B, fams []tokenstore.Family, toks []tokenstore.Token) error {
	return s.update(b.Context(), func(tx *bolt.Tx) error {
		for i := range fams {
			p, err := planTokens(tx, &fams[i], toks[i:i+1])
			if err != nil {
				return err
			}
			if err := p.apply(tx); err != nil {
				return err
			}
		}
		return nil
	})
}
