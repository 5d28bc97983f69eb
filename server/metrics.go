package server

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/authd/authd/server/password"
)

// metrics holds the server's Prometheus collectors.
type metrics struct {
	gatherer prometheus.Gatherer
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, h *password.Hasher) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authd_http_requests_total",
			Help: "HTTP requests answered, by endpoint and status code.",
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "authd_http_request_duration_seconds",
			Help: "Time from routing a request to writing its response, by endpoint.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01,
				.025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"endpoint"}),
	}
	collectors := []prometheus.Collector{
		m.requests, m.latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "authd_password_hash_queue",
			Help: "Password hashes waiting for a hashing slot.",
		}, func() float64 { return float64(h.Queued()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "authd_password_hash_running",
			Help: "Password hashes running now.",
		}, func() float64 { return float64(h.Running()) }),
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	if g, ok := reg.(prometheus.Gatherer); ok {
		m.gatherer = g
	} else {
		m.gatherer = prometheus.DefaultGatherer
	}
	return m, nil
}

// handler serves the Prometheus exposition.
func (m *metrics) handler() fasthttp.RequestHandler {
	return fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{}))
}

// endpointMetrics records one endpoint's requests. Counters per status code
// are resolved once and kept, so recording a request costs no label lookup.
type endpointMetrics struct {
	name     string
	requests *prometheus.CounterVec
	latency  prometheus.Observer
	byStatus [600]atomic.Pointer[prometheus.Counter]
}

func (m *metrics) endpoint(name string) *endpointMetrics {
	return &endpointMetrics{
		name: name, requests: m.requests, latency: m.latency.WithLabelValues(name),
	}
}

func (e *endpointMetrics) observe(status int, d time.Duration) {
	e.latency.Observe(d.Seconds())
	if status < 100 || status >= len(e.byStatus) {
		e.requests.WithLabelValues(e.name, strconv.Itoa(status)).Inc()
		return
	}
	c := e.byStatus[status].Load()
	if c == nil {
		counter := e.requests.WithLabelValues(e.name, strconv.Itoa(status))
		c = &counter
		e.byStatus[status].Store(c)
	}
	(*c).Inc()
}
