package tokencache

// Flush empties the cache, as when it may have missed revocations: a Get
// or Lookup that starts after Flush returns finds nothing cached before it.
// Each shard's epoch advances, as for a Delete, so a Lookup fill that
// started before Flush leaves its result uncached (see Lookup). Floors are
// kept: they stay correct, and they keep testing entries cached afterwards.
// The memory bound is unchanged; the counters of Stats keep counting.
func (c *Cache) Flush() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.slots)
		s.live = 0
		s.tail = s.head // the whole ring is free
		s.epoch++
		s.syncStatsLocked()
		s.mu.Unlock()
	}
}
