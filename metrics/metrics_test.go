package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	return rec.Body.String()
}

func assertContains(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
}

func TestRequestLabelsAreBounded(t *testing.T) {
	m := New()
	m.ObserveRequest("/healthz", http.MethodGet, 200, time.Millisecond)
	m.ObserveRequest("/healthz", http.MethodGet, 204, time.Millisecond)
	m.ObserveRequest("unmatched", http.MethodHead, 404, time.Millisecond)
	for i := range 5000 {
		m.ObserveRequest("unmatched", "X"+strconv.Itoa(i), 405, time.Millisecond)
	}
	m.ObserveRequest("/factors", http.MethodGet, 999, time.Millisecond)
	out := scrape(t, m)
	assertContains(t, out,
		`mfaportal_http_request_duration_seconds_count{method="GET",route="/healthz",status="2xx"} 2`,
		`mfaportal_http_request_duration_seconds_count{method="HEAD",route="unmatched",status="4xx"} 1`,
		`mfaportal_http_request_duration_seconds_count{method="other",route="unmatched",status="4xx"} 5000`,
		`mfaportal_http_request_duration_seconds_count{method="GET",route="/factors",status="other"} 1`,
	)
	if n := strings.Count(out, "mfaportal_http_request_duration_seconds_count{"); n != 4 {
		t.Errorf("%d request series after 5000 made-up methods, want 4", n)
	}
}

func TestUpstreamEndpoint(t *testing.T) {
	tests := []struct{ method, path, want string }{
		{http.MethodGet, "/mfa/authenticators", "list_authenticators"},
		{http.MethodDelete, "/mfa/authenticators/totp%7Cdev_abc", "delete_authenticator"},
		{http.MethodPost, "/api/v2/users/auth0%7C123/recovery-code-regeneration", "regenerate_recovery_code"},
		{http.MethodPost, "/mfa/associate", "associate_authenticator"},
		{http.MethodGet, "/api/v2/guardian/factors", "read_factor_settings"},
		{http.MethodGet, "/api/v2/guardian/factors/phone/message-types", "read_factor_settings"},
		{http.MethodPost, "/oauth/token", "sign_in_token"},
		{http.MethodGet, "/.well-known/openid-configuration", "discovery"},
		{http.MethodGet, "/.well-known/jwks.json", "jwks"},
		{http.MethodGet, "/api/v2/users/auth0%7C123/authentication-methods", "list_authentication_methods"},
		{http.MethodPatch, "/api/v2/users/auth0%7C123/authentication-methods/phone%7Cdev_X", "update_authentication_method"},
		{http.MethodDelete, "/api/v2/users/auth0%7C123/authentication-methods/passkey%7Cdev_X", "delete_authentication_method"},
		{http.MethodGet, "/api/v2/users/auth0%7C123", "other"},
		{http.MethodPost, "/mfa/authenticators", "other"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, "https://tenant.example.com"+tt.path, nil)
		if got := UpstreamEndpoint(req); got != tt.want {
			t.Errorf("%s %s = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestUpstreamAndM2MMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/oauth/token":
			http.Error(w, `{"error":"access_denied"}`, http.StatusForbidden)
		case "/mfa/authenticators":
			w.Write([]byte("[]"))
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	m := New()
	upstream := &http.Client{Transport: m.Instrument(srv.Client().Transport, UpstreamEndpoint)}
	m2m := &http.Client{Transport: m.Instrument(srv.Client().Transport, func(*http.Request) string { return EndpointM2MToken })}
	do := func(c *http.Client, method, path string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	do(upstream, http.MethodGet, "/mfa/authenticators")
	do(upstream, http.MethodDelete, "/mfa/authenticators/totp%7Cdev_SECRETID")
	do(upstream, http.MethodPost, "/api/v2/users/auth0%7CUSERID/recovery-code-regeneration")
	do(m2m, http.MethodPost, "/oauth/token")

	// A transport error is counted with status "error".
	down := &http.Client{Transport: m.Instrument(roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, io.ErrUnexpectedEOF
	}), UpstreamEndpoint)}
	if _, err := down.Get(srv.URL + "/mfa/authenticators"); err == nil {
		t.Fatal("want a transport error")
	}

	out := scrape(t, m)
	assertContains(t, out,
		`mfaportal_upstream_request_duration_seconds_count{endpoint="list_authenticators",status="200"} 1`,
		`mfaportal_upstream_request_duration_seconds_count{endpoint="list_authenticators",status="error"} 1`,
		`mfaportal_upstream_request_duration_seconds_count{endpoint="delete_authenticator",status="204"} 1`,
		`mfaportal_upstream_request_duration_seconds_count{endpoint="regenerate_recovery_code",status="204"} 1`,
		`mfaportal_upstream_request_duration_seconds_count{endpoint="m2m_token",status="403"} 1`,
		`mfaportal_m2m_token_fetches_total{outcome="failure"} 1`,
	)
	for _, leak := range []string{"SECRETID", "USERID"} {
		if strings.Contains(out, leak) {
			t.Errorf("%s became a label value", leak)
		}
	}
}

func TestRateLimitedCounterIsNilSafe(t *testing.T) {
	var none *Metrics
	none.RateLimited("regenerate") // must not panic
	m := New()
	m.RateLimited("regenerate")
	m.RateLimited("regenerate")
	m.RateLimited("delete")
	assertContains(t, scrape(t, m),
		`mfaportal_rate_limited_total{action="regenerate"} 2`,
		`mfaportal_rate_limited_total{action="delete"} 1`)
}
