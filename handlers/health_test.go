package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mfaportal/session"
	"mfaportal/signin"
)

// opsSettings are the operational dependencies a test sets.
type opsSettings struct {
	ReadinessChecks []ReadinessCheck
	TrustedProxies  []*net.IPNet
}

// newOpsTestRouter is the real router with fakes upstream and ops set.
func newOpsTestRouter(t *testing.T, publicURL string, ops opsSettings, logs *bytes.Buffer) http.Handler {
	t.Helper()
	deps, _ := testDeps(t, time.Now, logs)
	deps.PublicURL = publicURL
	deps.ReadinessChecks, deps.TrustedProxies = ops.ReadinessChecks, ops.TrustedProxies
	e, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestReadiness(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("dial tcp 10.9.8.7:6379: connection refused") }
	tests := []struct {
		name       string
		checks     []ReadinessCheck
		wantStatus int
		wantBody   string
	}{
		{"no checks", nil, http.StatusOK, "ready\n"},
		{"all pass", []ReadinessCheck{{"issuer discovery", ok}, {"redis", ok}}, http.StatusOK, "ready\n"},
		{"redis down", []ReadinessCheck{{"issuer discovery", ok}, {"redis", down}}, http.StatusServiceUnavailable, "not ready: redis unavailable\n"},
		{"both down", []ReadinessCheck{{"issuer discovery", down}, {"redis", down}}, http.StatusServiceUnavailable, "not ready: issuer discovery, redis unavailable\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := newOpsTestRouter(t, "https://mfa.example.com", opsSettings{ReadinessChecks: tt.checks}, &logs)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
				t.Errorf("GET /readyz = %d %q, want %d %q", rec.Code, rec.Body.String(), tt.wantStatus, tt.wantBody)
			}
			if tt.wantStatus != http.StatusOK && !strings.Contains(logs.String(), "connection refused") {
				t.Errorf("the log lacks the failure's cause:\n%s", logs.String())
			}

			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			if rec.Code != http.StatusOK {
				t.Errorf("GET /healthz = %d, want 200 whatever the upstreams", rec.Code)
			}
		})
	}
}

func TestReadinessCheckHasDeadline(t *testing.T) {
	var deadline time.Time
	check := func(ctx context.Context) error { deadline, _ = ctx.Deadline(); return nil }
	var logs bytes.Buffer
	h := newOpsTestRouter(t, "https://mfa.example.com", opsSettings{ReadinessChecks: []ReadinessCheck{{"slow", check}}}, &logs)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if deadline.IsZero() || time.Until(deadline) > readinessTimeout {
		t.Errorf("check deadline = %v, want within %v", deadline, readinessTimeout)
	}
}

// TestDiscoveryReadiness uses the production check: not ready while the
// issuer is down, ready once its discovery loads.
func TestDiscoveryReadiness(t *testing.T) {
	var up bool
	var issuer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up || r.URL.Path != "/.well-known/openid-configuration" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": issuer, "authorization_endpoint": issuer + "authorize", "token_endpoint": issuer + "oauth/token",
			"jwks_uri": issuer + ".well-known/jwks.json", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	}))
	defer srv.Close()
	issuer = srv.URL + "/"
	signIn := signin.New(signin.Config{Issuer: issuer, ClientID: "portal-web", RedirectURL: "https://mfa.example.com/callback", HTTPClient: srv.Client()})
	var logs bytes.Buffer
	h := newOpsTestRouter(t, "https://mfa.example.com", opsSettings{ReadinessChecks: []ReadinessCheck{{"issuer discovery", signIn.Ready}}}, &logs)
	for _, step := range []struct {
		up   bool
		want int
	}{{false, http.StatusServiceUnavailable}, {true, http.StatusOK}, {false, http.StatusOK}} {
		up = step.up // the last step: discovery stays cached once loaded
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != step.want {
			t.Errorf("issuer up=%v: GET /readyz = %d, want %d", step.up, rec.Code, step.want)
		}
	}
}

func TestClientIPAndHSTS(t *testing.T) {
	_, proxies, _ := net.ParseCIDR("10.0.0.0/8")
	tests := []struct {
		name      string
		publicURL string
		trusted   []*net.IPNet
		remote    string
		xff       string
		wantIP    string
		wantHSTS  bool
	}{
		{"no trusted proxies: XFF ignored", "https://mfa.example.com", nil, "10.1.2.3:5000", "203.0.113.7", "10.1.2.3", true},
		{"trusted proxy: XFF honoured", "https://mfa.example.com", []*net.IPNet{proxies}, "10.1.2.3:5000", "203.0.113.7", "203.0.113.7", true},
		{"untrusted peer: XFF ignored", "https://mfa.example.com", []*net.IPNet{proxies}, "198.51.100.1:5000", "203.0.113.7", "198.51.100.1", true},
		{"private peer not listed: XFF ignored", "https://mfa.example.com", []*net.IPNet{proxies}, "192.168.1.1:5000", "203.0.113.7", "192.168.1.1", true},
		{"plain http: no HSTS", "http://127.0.0.1:8080", nil, "127.0.0.1:5000", "", "127.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := newOpsTestRouter(t, tt.publicURL, opsSettings{TrustedProxies: tt.trusted}, &logs)
			req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
			req.RemoteAddr = tt.remote
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var line struct {
				ClientIP string `json:"client_ip"`
			}
			// The access log's line is the last; a warning may come first.
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil {
				t.Fatalf("access log: %v\n%s", err, logs.String())
			}
			if line.ClientIP != tt.wantIP {
				t.Errorf("client_ip = %q, want %q", line.ClientIP, tt.wantIP)
			}
			hsts := rec.Header().Get("Strict-Transport-Security")
			if tt.wantHSTS != (hsts == "max-age=31536000; includeSubDomains") {
				t.Errorf("Strict-Transport-Security = %q, want it: %v", hsts, tt.wantHSTS)
			}
		})
	}
}

// Wherever GET is served, HEAD is too, with the same status and headers
// and no body.
func TestHeadIsServedWhereGetIs(t *testing.T) {
	deps, store := testDeps(t, time.Now, nil)
	deps.FrameAncestors = []string{"https://account.example.com"}
	h, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	cookie := signedIn(t, store, time.Now(), session.TopLevel)
	for _, path := range []string{"/healthz", "/readyz", "/static/style.css", "/", "/login", "/signed-out", "/factors",
		"/factors/totp%7Cdev_WzMZ2sZbUw1wbC2F", "/recovery-code", "/embed/factors", "/embed/login"} {
		get, head := httptest.NewRecorder(), httptest.NewRecorder()
		for method, rec := range map[string]*httptest.ResponseRecorder{http.MethodGet: get, http.MethodHead: head} {
			req := httptest.NewRequest(method, "https://mfa.example.com"+path, nil)
			req.AddCookie(cookie)
			h.ServeHTTP(rec, req)
		}
		if head.Code != get.Code || head.Code == http.StatusMethodNotAllowed {
			t.Errorf("HEAD %s: %d, GET: %d", path, head.Code, get.Code)
		}
		if head.Header().Get("Content-Type") != get.Header().Get("Content-Type") {
			t.Errorf("HEAD %s: Content-Type %q, GET %q", path, head.Header().Get("Content-Type"), get.Header().Get("Content-Type"))
		}
	}
}
