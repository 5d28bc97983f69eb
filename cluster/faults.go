package cluster

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// FaultsEnv is the environment variable authd reads Faults from. It exists
// for tests of the cluster under message loss; a node started with it logs
// a warning. Never set it in production.
const FaultsEnv = "AUTHD_CLUSTER_FAULTS"

// Faults makes the peer transport lose messages on purpose, to test that
// revocations stay enforced when broadcasts are lost. Each field is the
// probability, from 0 to 1, that one send attempt of that kind is dropped
// before it leaves the node (the sender then sees a timeout). The zero
// Faults injects nothing.
type Faults struct {
	DropInvalidations float64 // invalidation messages (revocation broadcasts)
	DropPings         float64 // lease renewals
	DropLookups       float64 // forwarded introspections
}

// ParseFaults parses "drop-invalidations=0.5,drop-pings=0.1,drop-lookups=0.2"
// (any subset, any order). An empty string is the zero Faults.
func ParseFaults(s string) (Faults, error) {
	var f Faults
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		p, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || p < 0 || p > 1 {
			return Faults{}, fmt.Errorf("%s: %q: want name=probability, 0 to 1", FaultsEnv, kv)
		}
		switch k {
		case "drop-invalidations":
			f.DropInvalidations = p
		case "drop-pings":
			f.DropPings = p
		case "drop-lookups":
			f.DropLookups = p
		default:
			return Faults{}, fmt.Errorf("%s: unknown fault %q", FaultsEnv, k)
		}
	}
	return f, nil
}

// Any reports whether f injects anything.
func (f Faults) Any() bool { return f != Faults{} }

// String formats f as ParseFaults reads it.
func (f Faults) String() string {
	var parts []string
	add := func(name string, p float64) {
		if p > 0 {
			parts = append(parts, name+"="+strconv.FormatFloat(p, 'g', -1, 64))
		}
	}
	add("drop-invalidations", f.DropInvalidations)
	add("drop-pings", f.DropPings)
	add("drop-lookups", f.DropLookups)
	return strings.Join(parts, ",")
}

// drop reports whether to drop one message sent with probability p.
func drop(p float64) bool { return p > 0 && rand.Float64() < p }
