// Package metrics holds the portal's Prometheus collectors. Every label
// comes from a small fixed set: route templates, method names, status
// classes, endpoint names, error classes; never a user id, factor id, raw
// path or anything a client chose.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the portal's Prometheus collectors on a registry of its own
// (no global default registry), so tests and several portals in one process
// never collide. A nil *Metrics records nothing: every method is nil-safe.
type Metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.HistogramVec
	upstream    *prometheus.HistogramVec
	m2mTokens   *prometheus.CounterVec
	rateLimits  *prometheus.CounterVec
	readyChecks *prometheus.CounterVec
	errors      *prometheus.CounterVec
}

// New registers the portal's collectors, plus the Go runtime and
// process collectors, on a new registry.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mfaportal_http_request_duration_seconds",
			Help:    "Latency of the portal's HTTP responses by route template, method and status class.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mfaportal_upstream_request_duration_seconds",
			Help:    "Latency of calls to Auth0 by endpoint and HTTP status (\"error\" when no answer came).",
			Buckets: prometheus.DefBuckets,
		}, []string{"endpoint", "status"}),
		m2mTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfaportal_m2m_token_fetches_total",
			Help: "Client-credentials token requests for the Management API, by outcome.",
		}, []string{"outcome"}),
		rateLimits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfaportal_rate_limited_total",
			Help: "Requests refused by the portal's per-user rate limits, by action.",
		}, []string{"action"}),
		readyChecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfaportal_readiness_failures_total",
			Help: "Failed readiness checks, by check.",
		}, []string{"check"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfaportal_errors_total",
			Help: "Error pages shown, by error class.",
		}, []string{"class"}),
	}
	m.registry.MustRegister(m.requests, m.upstream, m.m2mTokens, m.rateLimits, m.readyChecks, m.errors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format. It belongs on
// its own listener (METRICS_ADDR), never on the public one.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// RateLimited counts one request refused by a per-user limit on action
// (one of the portal's fixed rule names).
func (m *Metrics) RateLimited(action string) {
	if m == nil {
		return
	}
	m.rateLimits.WithLabelValues(action).Inc()
}

// ReadinessFailed counts one failed readiness check (a fixed name).
func (m *Metrics) ReadinessFailed(check string) {
	if m == nil {
		return
	}
	m.readyChecks.WithLabelValues(check).Inc()
}

// knownMethods are the HTTP methods that get a label of their own; any
// other (a client can send any token) is "other", so the series stay few.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// ObserveRequest times one answer of the portal. route is the route
// template (e.g. "/factors/:id/delete") or "unmatched", never a raw path.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	if !knownMethods[method] {
		method = "other"
	}
	m.requests.WithLabelValues(route, method, statusClass(status)).Observe(d.Seconds())
}

// Error counts one error page by its class (see the error table in
// package handlers; the classes are a fixed list).
func (m *Metrics) Error(class string) {
	if m == nil {
		return
	}
	m.errors.WithLabelValues(class).Inc()
}

func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// Instrument wraps an upstream transport so every call to Auth0 is timed by
// endpoint (see UpstreamEndpoint) and status.
func (m *Metrics) Instrument(next http.RoundTripper, classify func(*http.Request) string) http.RoundTripper {
	if m == nil {
		return next
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := next.RoundTrip(r)
		endpoint, status := classify(r), "error"
		if err == nil {
			status = strconv.Itoa(resp.StatusCode)
		}
		m.upstream.WithLabelValues(endpoint, status).Observe(time.Since(start).Seconds())
		if endpoint == EndpointM2MToken {
			outcome := "success"
			if err != nil || resp.StatusCode != http.StatusOK {
				outcome = "failure"
			}
			m.m2mTokens.WithLabelValues(outcome).Inc()
		}
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// EndpointM2MToken labels the M2M client's token requests, which look like
// sign-in's code exchange from the path alone.
const EndpointM2MToken = "m2m_token"

// UpstreamEndpoint names an Auth0 call by what it is for. It looks only at
// the method and the path's shape, so no factor id or user id becomes a
// label value. The M2M client is labelled by its own transport
// (EndpointM2MToken), because its token request looks like the sign-in one.
func UpstreamEndpoint(r *http.Request) string {
	path := r.URL.Path
	switch {
	case r.Method == http.MethodGet && path == "/mfa/authenticators":
		return "list_authenticators"
	case r.Method == http.MethodDelete && strings.HasPrefix(path, "/mfa/authenticators/"):
		return "delete_authenticator"
	case r.Method == http.MethodPost && path == "/mfa/associate":
		return "associate_authenticator"
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/api/v2/users/") && strings.HasSuffix(path, "/recovery-code-regeneration"):
		return "regenerate_recovery_code"
	case strings.HasPrefix(path, "/api/v2/users/") && strings.HasSuffix(path, "/authentication-methods") && r.Method == http.MethodGet:
		return "list_authentication_methods"
	case strings.HasPrefix(path, "/api/v2/users/") && strings.Contains(path, "/authentication-methods/") && r.Method == http.MethodPatch:
		return "update_authentication_method"
	case strings.HasPrefix(path, "/api/v2/users/") && strings.Contains(path, "/authentication-methods/") && r.Method == http.MethodDelete:
		return "delete_authentication_method"
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/api/v2/guardian/factors"):
		return "read_factor_settings"
	case r.Method == http.MethodPost && path == "/oauth/token":
		return "sign_in_token"
	case path == "/.well-known/openid-configuration":
		return "discovery"
	case path == "/.well-known/jwks.json":
		return "jwks"
	}
	return "other"
}
