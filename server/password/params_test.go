package password

import (
	"errors"
	"testing"
)

func TestDefaultParamsAreOWASPMinimum(t *testing.T) {
	if err := DefaultParams.Validate(); err != nil {
		t.Fatalf("DefaultParams.Validate: %v", err)
	}
	p := DefaultParams
	if p.Memory < 19456 || p.Iterations < 2 || p.Parallelism < 1 || p.SaltLen < 16 {
		t.Errorf("DefaultParams %+v below OWASP's m=19456 KiB, t=2, p=1, 16-byte salt", p)
	}
}

func TestValidate(t *testing.T) {
	ok := Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	tests := []struct {
		name   string
		change func(*Params)
		valid  bool
	}{
		{"baseline", func(*Params) {}, true},
		{"largest", func(p *Params) {
			*p = Params{MaxMemory, MaxIterations, MaxParallelism, MaxSaltLen, MaxKeyLen}
		}, true},
		{"memory 8 per lane", func(p *Params) { p.Memory, p.Parallelism = 16, 2 }, true},
		{"memory under 8 per lane", func(p *Params) { p.Memory, p.Parallelism = 15, 2 }, false},
		{"memory over max", func(p *Params) { p.Memory = MaxMemory + 1 }, false},
		{"zero iterations", func(p *Params) { p.Iterations = 0 }, false},
		{"iterations over max", func(p *Params) { p.Iterations = MaxIterations + 1 }, false},
		{"zero parallelism", func(p *Params) { p.Parallelism = 0 }, false},
		{"parallelism over max", func(p *Params) { p.Parallelism = MaxParallelism + 1 }, false},
		{"salt too short", func(p *Params) { p.SaltLen = MinSaltLen - 1 }, false},
		{"salt too long", func(p *Params) { p.SaltLen = MaxSaltLen + 1 }, false},
		{"key too short", func(p *Params) { p.KeyLen = MinKeyLen - 1 }, false},
		{"key too long", func(p *Params) { p.KeyLen = MaxKeyLen + 1 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			tt.change(&p)
			err := p.Validate()
			if (tt.valid && err != nil) || (!tt.valid && !errors.Is(err, ErrInvalidParams)) {
				t.Errorf("Validate(%+v) = %v, want valid %v", p, err, tt.valid)
			}
		})
	}
}
