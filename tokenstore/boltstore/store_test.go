package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/authd/authd/tokenstore"
	"github.com/authd/authd/tokenstore/storetest"
)

// openTemp opens a store in a new file under t.TempDir, closed when t ends.
func openTemp(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "authd.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) tokenstore.Store { return openTemp(t, Options{}) })
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "authd")
	path := filepath.Join(dir, "authd.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()

	for _, tt := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o700 | os.ModeDir}, {path, 0o600}} {
		fi, err := os.Stat(tt.path)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if fi.Mode() != tt.want {
			t.Errorf("%s: mode %v, want %v", tt.path, fi.Mode(), tt.want)
		}
	}
}

// A second Open of a file in use fails after the lock timeout instead of
// waiting forever. bbolt locks with flock, which conflicts between two opens
// in one process just as between two processes.
func TestOpenLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authd.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()

	_, err = Open(path, Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, berrors.ErrTimeout) {
		t.Fatalf("second Open: %v, want a lock timeout", err)
	}
}

// Data written before Close is there after reopening.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authd.db")
	ctx := t.Context()
	u := tokenstore.User{ID: "3f6c1a52-7d1e-4c4a-9a57-0c8f0e6c9f10", Email: "a@example.com",
		CreatedAt: time.Now()}
	tok := tokenstore.Token{Digest: tokenstore.DigestOf("at_x"), Kind: tokenstore.KindAccess,
		UserID: u.ID, IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := s.CreateTokens(ctx, nil, tok); err != nil {
		t.Fatalf("CreateTokens: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openAgain(t, path)
	if _, err := s.UserByEmail(ctx, u.Email); err != nil {
		t.Errorf("UserByEmail after reopen: %v", err)
	}
	if v, err := s.Token(ctx, tok.Digest); err != nil || v.Email != u.Email {
		t.Errorf("Token after reopen: %v (email %q)", err, v.Email)
	}
}

func openAgain(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authd.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		v := binary.BigEndian.AppendUint32(nil, schemaVersion+1)
		return tx.Bucket(bucketMeta).Put(keySchema, v)
	})
	if err != nil {
		t.Fatalf("set schema: %v", err)
	}
	s.Close()

	if s, err := Open(path, Options{}); err == nil {
		s.Close()
		t.Fatalf("Open of a newer schema succeeded")
	}
}

func TestClosedIsUnavailable(t *testing.T) {
	s := openTemp(t, Options{})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err := s.Token(t.Context(), tokenstore.DigestOf("x"))
	if !errors.Is(err, tokenstore.ErrUnavailable) {
		t.Errorf("Token after Close: %v, want ErrUnavailable", err)
	}
	err = s.CreateTokens(t.Context(), nil, tokenstore.Token{Digest: tokenstore.DigestOf("x")})
	if !errors.Is(err, tokenstore.ErrUnavailable) {
		t.Errorf("CreateTokens after Close: %v, want ErrUnavailable", err)
	}
}

// A corrupt record is an error of its own: neither ErrNotFound nor
// ErrUnavailable, and no panic.
func TestCorruptRecord(t *testing.T) {
	s := openTemp(t, Options{})
	d := tokenstore.DigestOf("at_corrupt")
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTokens).Put(d[:], []byte{recordV1, 1, 0, 200})
	})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	_, err = s.Token(t.Context(), d)
	if !errors.Is(err, errCorrupt) || errors.Is(err, tokenstore.ErrUnavailable) {
		t.Errorf("Token of a corrupt record: %v, want errCorrupt only", err)
	}
}

// When bbolt re-runs a batch after one of its functions failed, a call that
// ran in the rolled-back attempt reports only what the committed run did.
func TestBatchRetry(t *testing.T) {
	s := openTemp(t, Options{})
	ctx := t.Context()
	old := tokenstore.Token{Digest: tokenstore.DigestOf("rt_old"), Kind: tokenstore.KindRefresh,
		ExpiresAt: time.Now().Add(time.Hour)}
	next := tokenstore.Token{Digest: tokenstore.DigestOf("rt_new"), Kind: tokenstore.KindRefresh,
		ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateTokens(ctx, nil, old); err != nil {
		t.Fatalf("CreateTokens: %v", err)
	}
	req := tokenstore.ExchangeRequest{Old: old.Digest, Kind: tokenstore.KindRefresh,
		Now: time.Now(), Grace: time.Minute, New: []tokenstore.Token{next}}
	if _, err := s.Exchange(ctx, req); err != nil {
		t.Fatalf("Exchange: %v", err)
	}

	// The next two calls share one batch: a replay, then a function that
	// fails, which makes bbolt run the replay a second time.
	s.db.MaxBatchDelay, s.db.MaxBatchSize = time.Minute, 2
	var res tokenstore.ExchangeResult
	var err error
	var wg sync.WaitGroup
	wg.Go(func() { res, err = s.Exchange(ctx, req) })
	time.Sleep(20 * time.Millisecond) // let the replay join the batch first
	_ = s.batch(ctx, func(tx *bolt.Tx) error { return errors.New("failing") })
	wg.Wait()

	if err != nil || res.Outcome != tokenstore.Replayed || len(res.Successors) != 1 {
		t.Fatalf("replay: outcome %d with %d successors (%v), want Replayed with 1",
			res.Outcome, len(res.Successors), err)
	}
}

func TestCancelledWhileQueued(t *testing.T) {
	s := openTemp(t, Options{MaxBatchDelay: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- s.CreateTokens(ctx, nil, tokenstore.Token{Digest: tokenstore.DigestOf("x"),
			Kind: tokenstore.KindAccess})
	}()
	time.Sleep(20 * time.Millisecond) // let the call join the batch
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateTokens: %v, want context.Canceled", err)
	}
	if _, err := s.Token(t.Context(), tokenstore.DigestOf("x")); !errors.Is(err,
		tokenstore.ErrNotFound) {
		t.Errorf("Token of a cancelled write: %v, want ErrNotFound", err)
	}
}
