package storetest

import (
	"bytes"
	"sync"
	"testing"

	"github.com/authd/authd/tokenstore"
)

func testSecret(t *testing.T, open Opener) {
	subtest(t, open, "GetOrCreate", testSecretGetOrCreate)
	subtest(t, open, "Concurrent", testSecretConcurrent)
}

func testSecretGetOrCreate(t *testing.T, f *fixture) {
	_, err := f.s.Secret(f.ctx, "token-key", nil)
	wantErr(t, "Secret without candidate", err, tokenstore.ErrNotFound)

	first, second := []byte(randomHex(32)), []byte(randomHex(32))
	got, err := f.s.Secret(f.ctx, "token-key", first)
	wantErr(t, "Secret", err, nil)
	if !bytes.Equal(got, first) {
		t.Fatalf("Secret of a new name did not store the candidate")
	}
	// The caller owns both the candidate and the result: changing either
	// afterwards changes nothing stored.
	want := bytes.Clone(first)
	got[0] ^= 0xff
	first[1] ^= 0xff

	for _, candidate := range [][]byte{second, nil} {
		got, err = f.s.Secret(f.ctx, "token-key", candidate)
		wantErr(t, "Secret again", err, nil)
		if !bytes.Equal(got, want) {
			t.Errorf("Secret again = %q, want the first candidate %q", got, want)
		}
	}

	got, err = f.s.Secret(f.ctx, "admin-key", second)
	wantErr(t, "Secret of another name", err, nil)
	if !bytes.Equal(got, second) {
		t.Errorf("Secret of another name did not store its own candidate")
	}
}

// Callers racing to create one secret all get the same value, one of the
// candidates.
func testSecretConcurrent(t *testing.T, f *fixture) {
	const n = 16
	got := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = f.s.Secret(f.ctx, "shared", []byte(randomHex(32))) })
	}
	wg.Wait()
	for i := range n {
		wantErr(t, "Secret", errs[i], nil)
		if len(got[i]) != 64 || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("Secret results differ: %q and %q", got[i], got[0])
		}
	}
}
