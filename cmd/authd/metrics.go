package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/cluster/tokencache"
)

// cacheCollector exposes a token cache's counters, read once per scrape.
type cacheCollector struct {
	cache                             *tokencache.Cache
	hits, misses, evictions, uncached *prometheus.Desc
	entries, bytes, capacity, floors  *prometheus.Desc
}

func registerCacheMetrics(reg prometheus.Registerer, c *tokencache.Cache) error {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("authd_cache_"+name, help, nil, nil)
	}
	return reg.Register(&cacheCollector{
		cache:     c,
		hits:      d("hits_total", "Token lookups answered from the cache."),
		misses:    d("misses_total", "Token lookups that had to read the store."),
		evictions: d("evictions_total", "Live entries evicted to make room."),
		uncached:  d("uncached_total", "Active tokens too large for a cache record."),
		entries:   d("entries", "Entries cached, including expired ones not yet dropped."),
		bytes:     d("bytes", "Arena bytes in use."),
		capacity:  d("capacity_bytes", "Memory allocated to the cache."),
		floors:    d("revocation_floors", "User, family and client revocations held."),
	})
}

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.hits, c.misses, c.evictions, c.uncached,
		c.entries, c.bytes, c.capacity, c.floors} {
		ch <- d
	}
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.cache.Stats()
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter(c.hits, s.Hits)
	counter(c.misses, s.Misses)
	counter(c.evictions, s.Evictions)
	counter(c.uncached, s.Uncached)
	gauge(c.entries, s.Entries)
	gauge(c.bytes, s.Bytes)
	gauge(c.capacity, s.Capacity)
	gauge(c.floors, s.Floors)
}
