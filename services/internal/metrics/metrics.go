// Package metrics holds what every service tells Prometheus: its requests per route (count,
// outcome, latency), the events it consumes (outcome and delay, which is the consumer's lag in
// time) and the dead letters waiting for a replay. The collectors are this package's own; Handler
// serves them, labelled with the service's name, on the service's ops listener (boot).
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/doutok/doutok/services/internal/logging"
)

// Latency buckets from a cached read (a millisecond) to an upload (tens of seconds).
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

var (
	requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "doutok_http_requests_total",
		Help: "HTTP requests answered, by route template, method and HTTP status.",
	}, []string{"route", "method", "code"})
	requestSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "doutok_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route template and method.",
		Buckets: latencyBuckets,
	}, []string{"route", "method"})
	events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "doutok_events_total",
		Help: "Events delivered to this service, by topic and outcome (processed, redelivered, dead_lettered).",
	}, []string{"topic", "outcome"})
	eventDelaySeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "doutok_event_delay_seconds",
		Help:    "Time from an event's publication to its delivery here: the consumer's lag, in time.",
		Buckets: latencyBuckets,
	}, []string{"topic"})
	deadLettersWaiting = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "doutok_dead_letters_waiting",
		Help: "Dead letters this service keeps until `make replay-dead-letters` publishes them again.",
	})
)

// Outcomes of a delivered event.
const (
	Processed    = "processed"
	Redelivered  = "redelivered"
	DeadLettered = "dead_lettered"
)

// Handler serves the metrics of this process in Prometheus's text format, each labelled
// service=<service>, with the Go runtime's and the process's own.
func Handler(service string) http.Handler {
	reg := prometheus.NewRegistry()
	labelled := prometheus.WrapRegistererWith(prometheus.Labels{"service": service}, reg)
	labelled.MustRegister(requests, requestSeconds, events, eventDelaySeconds, deadLettersWaiting)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// Routes is gorilla/mux middleware counting and timing every request of a matched route under
// its path template (so /media/<file> is one series, not one per file). Unknown routes and
// methods never reach it: the envelope fallbacks answer them.
func Routes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, err := mux.CurrentRoute(r).GetPathTemplate()
		if err != nil {
			route = "unknown"
		}
		start := time.Now()
		rec := logging.Record(w)
		defer func() {
			requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.Status())).Inc()
			requestSeconds.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(rec, r)
	})
}

// Event records the outcome of one delivered event of topic, published at published (zero when
// the event does not say).
func Event(topic, outcome string, published time.Time) {
	events.WithLabelValues(topic, outcome).Inc()
	if !published.IsZero() {
		eventDelaySeconds.WithLabelValues(topic).Observe(max(time.Since(published).Seconds(), 0))
	}
}

// DeadLettersWaiting sets how many dead letters this service keeps.
func DeadLettersWaiting(n int) { deadLettersWaiting.Set(float64(n)) }
