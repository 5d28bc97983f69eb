package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// ErrBusy is returned by Hasher methods, at once and without hashing, when
// every hashing slot is taken and the wait queue is full. The request should
// be answered 503 with Retry-After: the node is at capacity, not broken.
var ErrBusy = errors.New("password hasher busy")

// NoQueue as New's maxQueue makes a Hasher refuse with ErrBusy as soon as all
// its slots are taken, instead of letting callers wait.
const NoQueue = -1

// Hasher hashes and verifies passwords with argon2id, running at most a fixed
// number of hashes at once and letting at most a fixed number of callers wait
// for a slot. An argon2id hash holds Params.Memory KiB for its whole run, so
// the bound on running hashes is a bound on the memory that a login flood can
// take; the bound on waiters keeps a flood from turning into unbounded
// latency: beyond it, callers get ErrBusy at once.
//
// A Hasher is safe for concurrent use. Its zero value is not usable: call New.
type Hasher struct {
	params   Params
	maxQueue int64

	// slots holds one token per running hash. A blocked send waits for a
	// slot; Go hands a freed buffer slot to the longest-waiting sender, so
	// waiters are served first come, first served.
	slots chan struct{}

	queued  atomic.Int64
	running atomic.Int64

	// dummy is what VerifyDummy hashes against: random per Hasher and
	// never stored, so no password can be found to match it.
	dummy phc
}

// New returns a Hasher that makes new hashes with p, runs at most
// maxConcurrent hashes at once (0 or less: GOMAXPROCS) and lets at most
// maxQueue callers wait for a slot (0: four times maxConcurrent; NoQueue or
// any negative value: none). New panics if p.Validate fails; check configured
// parameters with Validate first.
func New(p Params, maxConcurrent, maxQueue int) *Hasher {
	if err := p.Validate(); err != nil {
		panic("password.New: " + err.Error())
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	switch {
	case maxQueue == 0:
		maxQueue = 4 * maxConcurrent
	case maxQueue < 0:
		maxQueue = 0
	}
	return &Hasher{
		params:   p,
		maxQueue: int64(maxQueue),
		slots:    make(chan struct{}, maxConcurrent),
		dummy:    phc{params: p, salt: randomBytes(p.SaltLen), key: randomBytes(p.KeyLen)},
	}
}

// Params returns the parameters of the hashes h makes.
func (h *Hasher) Params() Params { return h.params }

// Queued returns the number of callers waiting for a hashing slot now.
func (h *Hasher) Queued() int64 { return h.queued.Load() }

// Running returns the number of hashes running now.
func (h *Hasher) Running() int64 { return h.running.Load() }

// Hash returns a PHC string of password under a fresh random salt and h's
// Params. It fails with ErrBusy when h is at capacity, or with ctx's error if
// ctx ends before a slot frees up (or had ended before the call); once
// hashing has started, it runs to the end whatever ctx does.
func (h *Hasher) Hash(ctx context.Context, password []byte) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()

	salt := randomBytes(h.params.SaltLen)
	key := derive(password, salt, h.params)
	return phc{params: h.params, salt: salt, key: key}.encode(), nil
}

// Verify reports whether password matches the PHC string stored, comparing
// keys in constant time. needsRehash is true when the password matches but
// stored was made with Params other than h's: the caller should store a fresh
// Hash while it has the plaintext. A malformed stored string fails with an
// error wrapping ErrMalformedHash before any hashing; capacity and ctx behave
// as for Hash. A wrong password is ok == false with a nil error.
func (h *Hasher) Verify(ctx context.Context, password []byte, stored string) (
	ok, needsRehash bool, err error) {
	want, err := parsePHC(stored)
	if err != nil {
		return false, false, err
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()

	got := derive(password, want.salt, want.params)
	if subtle.ConstantTimeCompare(got, want.key) != 1 {
		return false, false, nil
	}
	return true, want.params != h.params, nil
}

// VerifyDummy does the work of a failed Verify against a hash made with h's
// Params, for a login whose email is unknown, so that it takes about as long
// as a login with a wrong password for a real account. It waits for a slot,
// and fails with ErrBusy or ctx's error, exactly as Verify does.
//
// The timing matches users whose stored hash uses h's current Params. A hash
// made with older, cheaper parameters verifies faster until it is rehashed at
// that user's next successful login, so until then a close observer can tell
// such an account from an unknown email.
func (h *Hasher) VerifyDummy(ctx context.Context, password []byte) error {
	release, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()

	// The same work as Verify; the result is meaningless and discarded.
	got := derive(password, h.dummy.salt, h.dummy.params)
	subtle.ConstantTimeCompare(got, h.dummy.key)
	return nil
}

// acquire takes a hashing slot, waiting in the queue if there is room in it.
// The caller must call release exactly once when its hash is done.
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.slots <- struct{}{}:
		return h.started(), nil
	default:
	}

	// All slots are taken: wait if the queue has room.
	if !h.enqueue() {
		return nil, ErrBusy
	}
	defer h.queued.Add(-1)
	select {
	case h.slots <- struct{}{}:
		return h.started(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// enqueue counts one more waiter unless the queue is full. Compare-and-swap
// rather than add-then-undo, so that Queued never reads above the bound, not
// even for a moment while a refused caller backs out.
func (h *Hasher) enqueue() bool {
	for {
		n := h.queued.Load()
		if n >= h.maxQueue {
			return false
		}
		if h.queued.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// started counts a hash that holds a slot and returns its release.
func (h *Hasher) started() (release func()) {
	h.running.Add(1)
	return func() {
		h.running.Add(-1)
		<-h.slots
	}
}

// derive runs argon2id. p must have passed Validate.
func derive(password, salt []byte, p Params) []byte {
	return argon2.IDKey(password, salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
}

// randomBytes returns n bytes from crypto/rand, which never fails (Go 1.24+
// crashes the program instead when the kernel cannot supply randomness).
func randomBytes(n uint32) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("password: crypto/rand: %v", err))
	}
	return b
}
