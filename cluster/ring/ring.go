// Package ring is a consistent-hash ring: it maps 64-bit keys to members so
// that adding or removing one member moves only the keys that must move.
//
// A Ring is immutable. When membership changes, build a new one with New
// and swap it in whole (an atomic.Pointer is enough): readers never lock.
package ring

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"sort"
)

// DefaultVnodes is the number of points per member New uses when asked for
// none. With 256 points each of three members owns its third of the keys to
// within a few percent.
const DefaultVnodes = 256

// Ring maps keys to members. The zero Ring has no members. A Ring is safe
// for concurrent use.
type Ring struct {
	members []string // sorted, unique
	hashes  []uint64 // point positions, ascending
	owners  []int32  // owners[i] is the member index of hashes[i]
}

// New returns the ring of members with vnodes points each (DefaultVnodes
// when vnodes <= 0). Duplicate and empty names are ignored; the order of
// members does not matter: equal sets give equal rings on every node.
func New(members []string, vnodes int) *Ring {
	if vnodes <= 0 {
		vnodes = DefaultVnodes
	}
	ms := slices.Clone(members)
	slices.Sort(ms)
	ms = slices.Compact(ms)
	if len(ms) > 0 && ms[0] == "" {
		ms = ms[1:]
	}

	type point struct {
		hash  uint64
		owner int32
	}
	pts := make([]point, 0, len(ms)*vnodes)
	for i, m := range ms {
		for v := range vnodes {
			pts = append(pts, point{pointHash(m, v), int32(i)})
		}
	}
	// Ties (two members on one position) go to the lower member index, so
	// the order is total and the same everywhere.
	sort.Slice(pts, func(a, b int) bool {
		if pts[a].hash != pts[b].hash {
			return pts[a].hash < pts[b].hash
		}
		return pts[a].owner < pts[b].owner
	})

	r := &Ring{members: ms, hashes: make([]uint64, len(pts)), owners: make([]int32, len(pts))}
	for i, p := range pts {
		r.hashes[i], r.owners[i] = p.hash, p.owner
	}
	return r
}

// pointHash places point v of member m on the ring.
func pointHash(m string, v int) uint64 {
	h := sha256.New()
	h.Write([]byte(m))
	var b [5]byte
	b[0] = 0 // separates the name from the index, so "a1"+2 differs from "a"+12
	binary.BigEndian.PutUint32(b[1:], uint32(v))
	h.Write(b[:])
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}

// Owner returns the index in Members of the member that owns key: the one
// with the first point at or after key, wrapping around. It returns -1 when
// the ring has no members. Keys should be uniformly distributed (a slice of
// a cryptographic digest is).
func (r *Ring) Owner(key uint64) int {
	if r == nil || len(r.hashes) == 0 {
		return -1
	}
	i, _ := slices.BinarySearch(r.hashes, key)
	if i == len(r.hashes) {
		i = 0
	}
	return int(r.owners[i])
}

// OwnerName returns the name of the member that owns key, or "" when the
// ring has no members.
func (r *Ring) OwnerName(key uint64) string {
	if i := r.Owner(key); i >= 0 {
		return r.members[i]
	}
	return ""
}

// Members returns the members, sorted. The caller must not modify the slice.
func (r *Ring) Members() []string {
	if r == nil {
		return nil
	}
	return r.members
}

// Len returns the number of members.
func (r *Ring) Len() int { return len(r.Members()) }
