// Package boltstore is the embedded tokenstore backend: one file, written
// through go.etcd.io/bbolt, for a laptop or a single node.
//
// Every method runs in one bbolt transaction, so a crash can never leave a
// partial write, and every write is fsynced before the method returns.
// Writes that many requests issue at once (tokens, exchanges, logins) go
// through bbolt's batching, which lets concurrent callers share one commit
// and one fsync.
package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/authd/authd/tokenstore"
)

var _ tokenstore.Store = (*Store)(nil)

// Defaults for the zero Options.
const (
	DefaultLockTimeout   = 5 * time.Second
	DefaultMaxBatchDelay = time.Millisecond
	DefaultMaxBatchSize  = 1000
)

// schemaVersion is the layout of buckets and keys this code reads and
// writes. Open refuses a file with a newer one.
const schemaVersion = 1

// Options configures Open. The zero value is ready to use.
type Options struct {
	// LockTimeout bounds how long Open waits for the file lock while
	// another process holds the file open; it then fails rather than hang.
	// Zero means DefaultLockTimeout.
	LockTimeout time.Duration
	// MaxBatchDelay is how long a write waits for concurrent writes to
	// join its commit, so that they share one fsync. A lone write waits this
	// long on top of its commit. Under load a commit of many writes takes
	// longer than this anyway, and a longer delay only leaves the disk idle:
	// measured with 32 writers, 10ms commits fewer tokens per second than
	// 1ms. Zero means DefaultMaxBatchDelay.
	MaxBatchDelay time.Duration
	// MaxBatchSize caps the writes sharing one commit; a full batch commits
	// at once. Zero means DefaultMaxBatchSize.
	MaxBatchSize int
}

// Bucket names.
var (
	bucketMeta         = []byte("meta")
	bucketUsers        = []byte("users")         // user ID -> user
	bucketEmails       = []byte("emails")        // lower-cased email -> user ID
	bucketClients      = []byte("clients")       // client ID -> client or tombstone
	bucketFamilies     = []byte("families")      // family ID -> family
	bucketFamilyExpiry = []byte("family_expiry") // timeKey(ExpiresAt) || family ID -> nil
	bucketTokens       = []byte("tokens")        // digest -> token
	bucketTokenExpiry  = []byte("token_expiry")  // timeKey(ExpiresAt) || digest -> nil
	bucketThrottle     = []byte("throttle")      // account key -> throttle
	// timeKey(LockedUntil) || account key -> nil
	bucketThrottleExpiry = []byte("throttle_expiry")
	bucketSecrets        = []byte("secrets") // name -> secret
)

var allBuckets = [][]byte{
	bucketMeta, bucketUsers, bucketEmails, bucketClients, bucketFamilies,
	bucketFamilyExpiry, bucketTokens, bucketTokenExpiry, bucketThrottle, bucketThrottleExpiry,
	bucketSecrets,
}

var keySchema = []byte("schema")

// Store is a tokenstore.Store kept in one bbolt file. It is safe for
// concurrent use by many goroutines; one process at a time may open a file.
type Store struct {
	db *bolt.DB
}

// Open opens the store in the file at path, creating the file (mode 0600)
// and its directory (mode 0700) when missing. It fails after
// opts.LockTimeout when another process has the file open, and fails when
// the file was written by a newer schema.
func Open(path string, opts Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	timeout := cmpOr(opts.LockTimeout, DefaultLockTimeout)
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: timeout,
		// The free-page list is rebuilt from the file on open instead of
		// being written on every commit: less to write per commit, and
		// nothing a crash can lose.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: another process has it open (waited %v): %w",
			path, timeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.MaxBatchDelay = cmpOr(opts.MaxBatchDelay, DefaultMaxBatchDelay)
	db.MaxBatchSize = cmpOr(opts.MaxBatchSize, DefaultMaxBatchSize)

	if err := db.Update(initSchema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// cmpOr returns v, or def when v is zero.
func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// initSchema creates missing buckets and records or checks the schema
// version.
func initSchema(tx *bolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	v := meta.Get(keySchema)
	switch {
	case v == nil:
		return meta.Put(keySchema, binary.BigEndian.AppendUint32(nil, schemaVersion))
	case len(v) != 4:
		return fmt.Errorf("schema version: %w", errCorrupt)
	case binary.BigEndian.Uint32(v) > schemaVersion:
		return fmt.Errorf("schema version %d is newer than this build reads (%d)",
			binary.BigEndian.Uint32(v), schemaVersion)
	}
	return nil
}

// Close waits for running transactions and closes the file. Later calls
// fail with an error wrapping tokenstore.ErrUnavailable. Close is
// idempotent.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Ping reports whether the store is open.
func (s *Store) Ping(ctx context.Context) error {
	return s.view(ctx, func(*bolt.Tx) error { return nil })
}

// isOutcome reports whether err is an answer for the caller rather than a
// failure of the store: a tokenstore sentinel or a context error.
func isOutcome(err error) bool {
	return errors.Is(err, tokenstore.ErrNotFound) || errors.Is(err, tokenstore.ErrExists) ||
		errors.Is(err, tokenstore.ErrEmailTaken) || errors.Is(err, tokenstore.ErrConflict) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// storeErr returns err from a transaction for the caller. Failures of the
// database itself (closed, I/O) wrap tokenstore.ErrUnavailable; a corrupt
// record or a key or value bbolt refuses is returned as it is.
func storeErr(err error) error {
	switch {
	case err == nil, isOutcome(err):
		return err
	case errors.Is(err, errCorrupt), errors.Is(err, berrors.ErrKeyRequired),
		errors.Is(err, berrors.ErrKeyTooLarge), errors.Is(err, berrors.ErrValueTooLarge):
		return fmt.Errorf("boltstore: %w", err)
	}
	return fmt.Errorf("boltstore: %w: %w", tokenstore.ErrUnavailable, err)
}

// view runs fn in a read-only transaction.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return storeErr(s.db.View(fn))
}

// update runs fn in a write transaction of its own; see write.
func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	return s.write(ctx, s.db.Update, fn)
}

// batch runs fn in a write transaction that concurrent callers may share;
// see write.
func (s *Store) batch(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	return s.write(ctx, s.db.Batch, fn)
}

// write runs fn in a write transaction started by commit and returns once it
// is durable.
//
// fn may run more than once: bbolt rolls a shared batch back when one of its
// functions fails and runs the rest again. So fn must set every result it
// captures afresh on each run, and must return an outcome error (see
// isOutcome) only before its first write. Such an error is kept as the
// call's result while fn reports success to bbolt, so that a caller's
// ErrExists neither undoes nor replays the others' writes in the batch. Any
// other error rolls the whole transaction back.
func (s *Store) write(ctx context.Context, commit func(func(*bolt.Tx) error) error,
	fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var outcome error
	err := commit(func(tx *bolt.Tx) error {
		outcome = nil
		// The call may have waited for its batch; give up before writing.
		if err := ctx.Err(); err != nil {
			outcome = err
			return nil
		}
		err := fn(tx)
		if isOutcome(err) {
			outcome = err
			return nil
		}
		return err
	})
	if err != nil {
		return storeErr(err)
	}
	return outcome
}
