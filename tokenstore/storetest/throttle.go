package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/tokenstore"
)

func testThrottle(t *testing.T, open Opener) {
	subtest(t, open, "UnknownKey", testThrottleUnknown)
	subtest(t, open, "FailedAndSucceeded", testLoginFailed)
	subtest(t, open, "ConcurrentFailures", testConcurrentLoginFailed)
}

// lockSeconds locks for as many seconds as there were failures.
func lockSeconds(failures int) time.Duration {
	return time.Duration(failures) * time.Second
}

func testThrottleUnknown(t *testing.T, f *fixture) {
	got, err := f.s.Throttle(f.ctx, "unknown")
	wantErr(t, "Throttle", err, nil)
	if got.Failures != 0 || !got.LockedUntil.IsZero() {
		t.Errorf("Throttle of unknown key = %+v, want zero", got)
	}
	wantErr(t, "LoginSucceeded of unknown key", f.s.LoginSucceeded(f.ctx, "unknown"), nil)
}

func testLoginFailed(t *testing.T, f *fixture) {
	const key, other = "account:a", "account:b"
	var seen []int
	lock := func(failures int) time.Duration {
		seen = append(seen, failures)
		return lockSeconds(failures)
	}
	for want := 1; want <= 3; want++ {
		at := f.now.Add(time.Duration(want) * time.Minute)
		seen = seen[:0]
		got, err := f.s.LoginFailed(f.ctx, key, at, lock)
		wantErr(t, "LoginFailed", err, nil)
		// The lock func may run more than once (a retried transaction), but
		// only ever with the new failure count.
		if len(seen) == 0 || seen[len(seen)-1] != want {
			t.Errorf("lock called with %v, want %d", seen, want)
		}
		wantThrottle(t, "LoginFailed", got, want, at.Add(lockSeconds(want)))
		stored, err := f.s.Throttle(f.ctx, key)
		wantErr(t, "Throttle", err, nil)
		wantThrottle(t, "Throttle", stored, want, at.Add(lockSeconds(want)))
	}

	got, err := f.s.Throttle(f.ctx, other)
	wantErr(t, "Throttle", err, nil)
	wantThrottle(t, "other key", got, 0, time.Time{})

	wantErr(t, "LoginSucceeded", f.s.LoginSucceeded(f.ctx, key), nil)
	got, err = f.s.Throttle(f.ctx, key)
	wantErr(t, "Throttle", err, nil)
	wantThrottle(t, "after LoginSucceeded", got, 0, time.Time{})

	got, err = f.s.LoginFailed(f.ctx, key, f.now, lockSeconds)
	wantErr(t, "LoginFailed", err, nil)
	wantThrottle(t, "failure after success", got, 1, f.now.Add(time.Second))
}

func wantThrottle(t *testing.T, op string, got tokenstore.Throttle, failures int,
	lockedUntil time.Time) {
	t.Helper()
	if got.Failures != failures || !sameTime(got.LockedUntil, lockedUntil) {
		t.Errorf("%s = {%d %v}, want {%d %v}", op, got.Failures, got.LockedUntil,
			failures, lockedUntil)
	}
}

// Concurrent failures for one key are all counted: none is lost to a
// read-modify-write race.
func testConcurrentLoginFailed(t *testing.T, f *fixture) {
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := f.s.LoginFailed(f.ctx, "account:busy", f.now, lockSeconds)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		wantErr(t, "LoginFailed", err, nil)
	}
	got, err := f.s.Throttle(f.ctx, "account:busy")
	wantErr(t, "Throttle", err, nil)
	wantThrottle(t, "Throttle", got, n, f.now.Add(lockSeconds(n)))
}
