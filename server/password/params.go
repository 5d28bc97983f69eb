// Package password hashes and verifies user passwords with argon2id, stores
// them as PHC strings so that parameters can be raised later, bounds how many
// hashes run at once, and judges whether a new password is strong enough.
package password

import (
	"errors"
	"fmt"
)

// Params are the argon2id cost parameters and output sizes of a hash. They are
// encoded into every PHC string, so a stored hash keeps working after the
// configured Params change; Hasher.Verify then reports that it needs a rehash.
type Params struct {
	// Memory is the memory cost in KiB. Each running hash holds this much
	// memory for its whole duration, so Memory times the Hasher's concurrency
	// bounds the memory that hashing can take.
	Memory uint32
	// Iterations is the number of passes over the memory (argon2's t).
	Iterations uint32
	// Parallelism is the number of lanes (argon2's p). x/crypto/argon2 runs
	// one goroutine per lane, so p > 1 makes one hash use p cores.
	Parallelism uint8
	// SaltLen is the length in bytes of the random salt of a new hash.
	SaltLen uint32
	// KeyLen is the length in bytes of the derived key (the hash proper).
	KeyLen uint32
}

// DefaultParams are the parameters of new hashes unless configured otherwise:
// the second of OWASP's equivalent argon2id rows in its Password Storage
// Cheat Sheet, m=19456 KiB (19 MiB), t=2, p=1, with a 16-byte salt and a
// 32-byte key. Treat it as read-only: copy it and change the copy.
var DefaultParams = Params{
	Memory:      19456,
	Iterations:  2,
	Parallelism: 1,
	SaltLen:     16,
	KeyLen:      32,
}

// Bounds on Params, for configured parameters and for those parsed from a
// stored hash alike. They exist so that a corrupted or hostile row cannot make
// one Verify allocate gigabytes or run for minutes; they sit far above any
// sensible setting (MaxMemory is 13x the default).
const (
	MaxMemory      = 256 << 10 // KiB, 256 MiB
	MaxIterations  = 16
	MaxParallelism = 16
	MinSaltLen     = 8
	MaxSaltLen     = 64
	MinKeyLen      = 16
	MaxKeyLen      = 64
)

// ErrInvalidParams reports Params outside the bounds above. Validate wraps it.
var ErrInvalidParams = errors.New("invalid argon2id parameters")

// Validate reports whether p is usable: every field within the bounds above,
// and Memory at least 8 KiB per lane as argon2 requires. The error wraps
// ErrInvalidParams and names the offending field.
func (p Params) Validate() error {
	switch {
	case p.Parallelism < 1 || p.Parallelism > MaxParallelism:
		return fmt.Errorf("%w: parallelism %d not in [1, %d]",
			ErrInvalidParams, p.Parallelism, MaxParallelism)
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > MaxMemory:
		return fmt.Errorf("%w: memory %d KiB not in [%d, %d]",
			ErrInvalidParams, p.Memory, 8*uint32(p.Parallelism), MaxMemory)
	case p.Iterations < 1 || p.Iterations > MaxIterations:
		return fmt.Errorf("%w: iterations %d not in [1, %d]",
			ErrInvalidParams, p.Iterations, MaxIterations)
	case p.SaltLen < MinSaltLen || p.SaltLen > MaxSaltLen:
		return fmt.Errorf("%w: salt length %d not in [%d, %d]",
			ErrInvalidParams, p.SaltLen, MinSaltLen, MaxSaltLen)
	case p.KeyLen < MinKeyLen || p.KeyLen > MaxKeyLen:
		return fmt.Errorf("%w: key length %d not in [%d, %d]",
			ErrInvalidParams, p.KeyLen, MinKeyLen, MaxKeyLen)
	}
	return nil
}
