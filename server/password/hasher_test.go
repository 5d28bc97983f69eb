package password

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"sync"
	"testing"
	"time"
)

// fast are cheap parameters that keep tests quick; production uses DefaultParams.
var fast = Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := New(fast, 2, 0)
	pw := []byte("violet tractor lemon harbor")
	stored, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	shape := regexp.MustCompile(
		`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !shape.MatchString(stored) {
		t.Errorf("Hash = %q, not a PHC string of fast params", stored)
	}

	tests := []struct {
		give string
		want bool
	}{
		{"violet tractor lemon harbor", true},
		{"violet tractor lemon harbour", false},
		{"Violet tractor lemon harbor", false},
		{"", false},
	}
	for _, tt := range tests {
		ok, rehash, err := h.Verify(ctx, []byte(tt.give), stored)
		if err != nil || ok != tt.want || rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want %v, false, nil",
				tt.give, ok, rehash, err, tt.want)
		}
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	h := New(fast, 1, 0)
	a, errA := h.Hash(context.Background(), []byte("same password"))
	b, errB := h.Hash(context.Background(), []byte("same password"))
	if errA != nil || errB != nil {
		t.Fatalf("Hash: %v, %v", errA, errB)
	}
	if a == b {
		t.Errorf("two hashes of one password are equal: %q", a)
	}
}

// TestVerifyReferenceVectors checks compatibility with hashes made by the
// argon2 reference implementation's command-line tool.
func TestVerifyReferenceVectors(t *testing.T) {
	tests := []struct {
		password string
		phc      string
	}{
		{"correct horse battery staple", validPHC},
		{"password", "$argon2id$v=19$m=19456,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA" +
			"$sCKQ5+ZgOoNxgeJQwz/fDZmRCc3hp1X8fsn/MMWFHDc"},
		{"hunter2hunter2", "$argon2id$v=19$m=256,t=3,p=2$YWJjZGVmZ2g$3xttqcH3Lc/8clbAySOc9g"},
	}
	h := New(fast, 1, 0)
	for _, tt := range tests {
		ok, rehash, err := h.Verify(context.Background(), []byte(tt.password), tt.phc)
		if err != nil || !ok || !rehash {
			t.Errorf("Verify(%q, %q) = %v, %v, %v; want true, true, nil",
				tt.password, tt.phc, ok, rehash, err)
		}
		ok, _, err = h.Verify(context.Background(), []byte(tt.password+"x"), tt.phc)
		if err != nil || ok {
			t.Errorf("Verify(wrong password, %q) = %v, %v; want false, nil", tt.phc, ok, err)
		}
	}
}

func TestVerifyNeedsRehash(t *testing.T) {
	ctx := context.Background()
	pw := []byte("glass otter mountain")
	stronger := fast
	stronger.Iterations = 2
	longerKey := fast
	longerKey.KeyLen = 48

	tests := []struct {
		name     string
		old, cur Params
		want     bool
	}{
		{"same params", fast, fast, false},
		{"iterations raised", fast, stronger, true},
		{"iterations lowered", stronger, fast, true},
		{"key length changed", fast, longerKey, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stored, err := New(tt.old, 1, 0).Hash(ctx, pw)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			ok, rehash, err := New(tt.cur, 1, 0).Verify(ctx, pw, stored)
			if err != nil || !ok || rehash != tt.want {
				t.Errorf("Verify = %v, %v, %v; want true, %v, nil", ok, rehash, err, tt.want)
			}
			// A wrong password never asks for a rehash: the caller has no
			// plaintext worth storing.
			if _, rehash, _ := New(tt.cur, 1, 0).Verify(ctx, []byte("wrong"), stored); rehash {
				t.Errorf("Verify(wrong password) needsRehash = true")
			}
		})
	}
}

func TestVerifyMalformedHash(t *testing.T) {
	h := New(fast, 1, 0)
	for _, stored := range []string{
		"", "plaintext", "$argon2id$v=19$m=4000000000,t=2,p=1$c2FsdA$a2V5",
	} {
		ok, _, err := h.Verify(context.Background(), []byte("pw"), stored)
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) = %v, %v; want false, ErrMalformedHash", stored, ok, err)
		}
	}
}

func TestVerifyDummy(t *testing.T) {
	h := New(fast, 1, 0)
	if err := h.VerifyDummy(context.Background(), []byte("anything at all")); err != nil {
		t.Fatalf("VerifyDummy: %v", err)
	}
	if h.Running() != 0 || h.Queued() != 0 {
		t.Errorf("after VerifyDummy: running %d, queued %d; want 0, 0", h.Running(), h.Queued())
	}
}

func TestNewDefaults(t *testing.T) {
	h := New(fast, 0, 0)
	if got, want := cap(h.slots), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("slots = %d, want GOMAXPROCS = %d", got, want)
	}
	if got, want := h.maxQueue, int64(4*runtime.GOMAXPROCS(0)); got != want {
		t.Errorf("maxQueue = %d, want %d", got, want)
	}
	if got := New(fast, 3, NoQueue).maxQueue; got != 0 {
		t.Errorf("maxQueue with NoQueue = %d, want 0", got)
	}
}

func TestNewPanicsOnInvalidParams(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New with Memory 0 did not panic")
		}
	}()
	New(Params{}, 1, 0)
}

// every calls each Hasher method once, for tests of what they share.
var every = []struct {
	name string
	call func(ctx context.Context, h *Hasher) error
}{
	{"Hash", func(ctx context.Context, h *Hasher) error {
		_, err := h.Hash(ctx, []byte("pw"))
		return err
	}},
	{"Verify", func(ctx context.Context, h *Hasher) error {
		_, _, err := h.Verify(ctx, []byte("pw"), validPHC)
		return err
	}},
	{"VerifyDummy", func(ctx context.Context, h *Hasher) error {
		return h.VerifyDummy(ctx, []byte("pw"))
	}},
}

func TestBusyWithoutQueue(t *testing.T) {
	h := New(fast, 1, NoQueue)
	release, err := h.acquire(context.Background())
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	if h.Running() != 1 {
		t.Errorf("Running = %d while the only slot is held, want 1", h.Running())
	}
	for _, m := range every {
		if err := m.call(context.Background(), h); !errors.Is(err, ErrBusy) {
			t.Errorf("%s with all slots taken and no queue = %v, want ErrBusy", m.name, err)
		}
	}

	release()
	for _, m := range every {
		if err := m.call(context.Background(), h); err != nil {
			t.Errorf("%s after release = %v, want nil", m.name, err)
		}
	}
}

func TestQueueBoundAndCancel(t *testing.T) {
	for _, m := range every {
		t.Run(m.name, func(t *testing.T) {
			h := New(fast, 1, 2)
			release, err := h.acquire(context.Background())
			if err != nil {
				t.Fatalf("acquire: %v", err)
			}

			// Fill the queue with two waiters that will be cancelled.
			ctx, cancel := context.WithCancel(context.Background())
			errs := make(chan error, 2)
			for range 2 {
				go func() { errs <- m.call(ctx, h) }()
			}
			waitFor(t, "2 queued", func() bool { return h.Queued() == 2 })
			if err := m.call(context.Background(), h); !errors.Is(err, ErrBusy) {
				t.Errorf("%s with a full queue = %v, want ErrBusy", m.name, err)
			}

			cancel()
			for range 2 {
				if err := <-errs; !errors.Is(err, context.Canceled) {
					t.Errorf("cancelled waiter got %v, want context.Canceled", err)
				}
			}
			if h.Queued() != 0 || h.Running() != 1 {
				t.Errorf("queued %d, running %d; want 0, 1", h.Queued(), h.Running())
			}
			release()
		})
	}
}

func TestQueuedWaiterRunsAfterRelease(t *testing.T) {
	h := New(fast, 1, 1)
	release, err := h.acquire(context.Background())
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), []byte("pw"))
		done <- err
	}()
	waitFor(t, "1 queued", func() bool { return h.Queued() == 1 })
	release()
	if err := <-done; err != nil {
		t.Errorf("queued Hash after release = %v, want nil", err)
	}
}

func TestCancelledContextDoesNotHash(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h := New(fast, 1, 0)
	for _, m := range every {
		if err := m.call(ctx, h); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a done ctx = %v, want context.Canceled", m.name, err)
		}
	}
}

// TestConcurrencyBound hammers a Hasher from many goroutines and checks that
// no more hashes than slots ever run, and that every call either hashes or
// is refused with ErrBusy. Run with -race.
func TestConcurrencyBound(t *testing.T) {
	const slots, queue, workers, calls = 2, 3, 16, 20
	h := New(fast, slots, queue)
	stored, err := h.Hash(context.Background(), []byte("pw"))
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}

	stop := make(chan struct{})
	var maxRunning, maxQueued int64
	var watch sync.WaitGroup
	watch.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			maxRunning = max(maxRunning, h.Running())
			maxQueued = max(maxQueued, h.Queued())
			runtime.Gosched()
		}
	})

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range calls {
				ok, _, err := h.Verify(context.Background(), []byte("pw"), stored)
				if (err != nil && !errors.Is(err, ErrBusy)) || (err == nil && !ok) {
					t.Errorf("worker %d: Verify = %v, %v", w, ok, err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	watch.Wait()

	if maxRunning > slots || maxQueued > queue {
		t.Errorf("saw %d running, %d queued; bounds %d, %d", maxRunning, maxQueued, slots, queue)
	}
	if h.Running() != 0 || h.Queued() != 0 || len(h.slots) != 0 {
		t.Errorf("after all calls: running %d, queued %d, slots %d; want 0",
			h.Running(), h.Queued(), len(h.slots))
	}
}

// waitFor polls cond until it holds, failing the test after 10 s. It waits
// for goroutines to reach a state, and asserts nothing about timing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkHash is the raw argon2id rate of one core at DefaultParams, the
// yardstick for login throughput.
func BenchmarkHash(b *testing.B) {
	salt := randomBytes(DefaultParams.SaltLen)
	pw := []byte("violet tractor lemon harbor")
	for b.Loop() {
		derive(pw, salt, DefaultParams)
	}
}

// BenchmarkHasherParallel hashes through a Hasher at DefaultParams from
// GOMAXPROCS goroutines, with a queue deep enough that none is refused.
func BenchmarkHasherParallel(b *testing.B) {
	h := New(DefaultParams, 0, 1024)
	pw := []byte("violet tractor lemon harbor")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(context.Background(), pw); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerify compares a real failed Verify with VerifyDummy: their
// times should match, so that a login reveals nothing about the email.
func BenchmarkVerify(b *testing.B) {
	h := New(DefaultParams, 1, 0)
	stored, err := h.Hash(context.Background(), []byte("violet tractor lemon harbor"))
	if err != nil {
		b.Fatal(err)
	}
	pw := []byte("wrong password")
	for _, m := range []struct {
		name string
		call func() error
	}{
		{"Verify", func() error {
			_, _, err := h.Verify(context.Background(), pw, stored)
			return err
		}},
		{"VerifyDummy", func() error { return h.VerifyDummy(context.Background(), pw) }},
	} {
		b.Run(m.name, func(b *testing.B) {
			for b.Loop() {
				if err := m.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
