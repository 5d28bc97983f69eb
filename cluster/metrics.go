package cluster

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a forwarded lookup fell back to the store.
const (
	reasonUnhealthy = iota // the owner answered no lease ping within a lease
	reasonTimeout          // no answer within ForwardTimeout
	reasonError            // the connection failed or the owner could not answer
	reasonDropped          // fault injection
	reasonCount
)

var reasonNames = [reasonCount]string{"unhealthy", "timeout", "error", "dropped"}

// metrics are the authd_cluster_* series.
type metrics struct {
	ownershipChanges prometheus.Counter
	forwarded        prometheus.Counter
	fallbacks        [reasonCount]prometheus.Counter
	bypass           prometheus.Counter
	sent, retries    prometheus.Counter
	applied          prometheus.Counter
	flushes          prometheus.Counter
	pingFailures     prometheus.Counter
	revokeFailures   prometheus.Counter
	revocation       prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, n *Node) (*metrics, error) {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "authd_cluster_" + name, Help: help})
	}
	fallbacks := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authd_cluster_forward_fallbacks_total",
		Help: "Lookups owned by another node that read the store instead, by reason.",
	}, []string{"reason"})
	m := &metrics{
		ownershipChanges: c("ownership_changes_total", "Ring rebuilds that changed the members."),
		forwarded:        c("forwarded_lookups_total", "Lookups answered by their owner node."),
		bypass: c("cache_bypass_total",
			"Lookups owned here that read the store because a lease was missing."),
		sent:    c("invalidations_sent_total", "Invalidation messages sent to peers."),
		retries: c("invalidation_retries_total", "Invalidation messages sent again."),
		applied: c("invalidations_applied_total", "Invalidations from peers applied here."),
		flushes: c("cache_flushes_total", "Cache flushes after missed invalidations."),
		pingFailures: c("lease_ping_failures_total",
			"Lease pings that got no answer."),
		revokeFailures: c("revocation_failures_total",
			"Revocations not confirmed by every node (answered 503)."),
		revocation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "authd_cluster_revocation_seconds",
			Help:    "Time from an Invalidate call to the last node's confirmation.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5},
		}),
	}
	for i := range m.fallbacks {
		m.fallbacks[i] = fallbacks.WithLabelValues(reasonNames[i])
	}
	cs := []prometheus.Collector{m.ownershipChanges, m.forwarded, fallbacks, m.bypass, m.sent,
		m.retries, m.applied, m.flushes, m.pingFailures, m.revokeFailures, m.revocation,
		stateCollector{n}}
	for _, col := range cs {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) fallback(reason int) { m.fallbacks[reason].Inc() }

var (
	membersDesc = prometheus.NewDesc("authd_cluster_members",
		"Live members of the ownership ring, this node included.", nil, nil)
	leasePeersDesc = prometheus.NewDesc("authd_cluster_lease_peers",
		"Peers in the lease set: the cache is used only with a lease from each.", nil, nil)
	leasesDesc = prometheus.NewDesc("authd_cluster_leases_held",
		"Peers of the lease set whose lease this node holds now.", nil, nil)
	usableDesc = prometheus.NewDesc("authd_cluster_cache_usable",
		"1 while this node holds every lease and answers from its cache.", nil, nil)
)

// stateCollector reports the node's membership and lease state at scrape
// time.
type stateCollector struct{ n *Node }

func (s stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- membersDesc
	ch <- leasePeersDesc
	ch <- leasesDesc
	ch <- usableDesc
}

func (s stateCollector) Collect(ch chan<- prometheus.Metric) {
	n := s.n
	now := n.now()
	n.mu.Lock()
	set, held := 0, 0
	for _, p := range n.peers {
		if p.inSet {
			set++
			if p.lease.granted > now {
				held++
			}
		}
	}
	n.mu.Unlock()
	usable := 0.0
	if n.usable() {
		usable = 1
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	gauge(membersDesc, float64(n.owners.Load().ring.Len()))
	gauge(leasePeersDesc, float64(set))
	gauge(leasesDesc, float64(held))
	gauge(usableDesc, usable)
}
