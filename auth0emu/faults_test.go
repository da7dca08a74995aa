package auth0emu

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestInjectStatus(t *testing.T) {
	e := newEnv(t)
	tok := e.mfaToken("auth0|alice", scopeReadAuthenticators, scopeRemoveAuthenticators)
	e.tenant.Inject(RouteListAuthenticators, Fault{Status: 503, Times: 2})
	for i := range 2 {
		status, _, body := e.call(http.MethodGet, "/mfa/authenticators", tok, nil)
		wantAuthError(t, status, body, 503, "temporarily_unavailable")
		_ = i
	}
	if status, _, _ := e.call(http.MethodGet, "/mfa/authenticators", tok, nil); status != 200 {
		t.Fatalf("third call = %d, fault should be used up", status)
	}
	if got := e.tenant.Calls(RouteListAuthenticators); got != 3 {
		t.Fatalf("Calls = %d, want 3 (faulted calls count)", got)
	}

	e.tenant.Inject(RouteDeleteAuthenticator, Fault{Status: 429, Times: 1})
	id := e.tenant.Authenticators("auth0|alice")[0].ID
	status, h, body := e.call(http.MethodDelete, "/mfa/authenticators/"+id, tok, nil)
	wantAuthError(t, status, body, 429, "too_many_requests")
	reset, _ := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64)
	if h.Get("X-Ratelimit-Remaining") != "0" || h.Get("X-Ratelimit-Limit") == "" || reset < e.clock.Now().Unix() {
		t.Fatalf("429 headers %v", h)
	}
	if _, still := findAuthenticator(e.tenant.Authenticators("auth0|alice"), id); !still {
		t.Fatal("a faulted delete was applied")
	}

	e.tenant.Inject(RouteRegenerateRecoveryCode, Fault{Status: 500, Times: 1})
	status, _, body = e.call(http.MethodPost, "/api/v2/users/auth0%7Calice/recovery-code-regeneration", e.mgmtToken("update:users"), nil)
	if m := decodeObject(t, body); status != 500 || m["statusCode"] != float64(500) {
		t.Fatalf("management fault: %d %s", status, body)
	}

	e.tenant.ResetCalls()
	if e.tenant.Calls(RouteListAuthenticators) != 0 || e.tenant.Calls("GET /nope") != 0 {
		t.Fatal("ResetCalls left counts")
	}
}

func TestInjectLatency(t *testing.T) {
	e := newEnv(t)
	tok := e.mfaToken("auth0|bob", scopeReadAuthenticators)
	e.tenant.Inject(RouteListAuthenticators, Fault{Latency: 150 * time.Millisecond})
	start := time.Now()
	if status, _, _ := e.call(http.MethodGet, "/mfa/authenticators", tok, nil); status != 200 || time.Since(start) < 150*time.Millisecond {
		t.Fatalf("status %d after %v", status, time.Since(start))
	}
	// A cancelled request stops waiting.
	e.tenant.Inject(RouteListAuthenticators, Fault{Latency: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req := httptest.NewRequest(http.MethodGet, "/mfa/authenticators", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+tok)
	done := make(chan struct{})
	go func() { e.tenant.ServeHTTP(httptest.NewRecorder(), req); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("latency ignored request cancellation")
	}
	e.tenant.ClearFaults()
	start = time.Now()
	if e.call(http.MethodGet, "/mfa/authenticators", tok, nil); time.Since(start) > time.Second {
		t.Fatal("ClearFaults left latency")
	}
}

func TestDropAfterApply(t *testing.T) {
	e := newEnv(t)
	tok := e.mfaToken("auth0|bob", scopeRemoveAuthenticators)
	id := e.tenant.Authenticators("auth0|bob")[0].ID
	e.tenant.Inject(RouteDeleteAuthenticator, Fault{DropAfterApply: 1})
	req, _ := http.NewRequest(http.MethodDelete, e.srv.URL+"/mfa/authenticators/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := e.srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got a response (%d); want a dropped connection", resp.StatusCode)
	}
	if len(e.tenant.Authenticators("auth0|bob")) != 0 {
		t.Fatal("the delete was not applied before the drop")
	}
	// The retry sees the applied state.
	status, _, body := e.call(http.MethodDelete, "/mfa/authenticators/"+id, tok, nil)
	wantAuthError(t, status, body, 404, "not_found")
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.RateLimits = map[string]RateLimit{RouteListAuthenticators: {Limit: 2, Window: time.Minute}}
	})
	tok := e.mfaToken("auth0|bob", scopeReadAuthenticators)
	for want := 1; want >= 0; want-- {
		status, h, _ := e.call(http.MethodGet, "/mfa/authenticators", tok, nil)
		if status != 200 || h.Get("X-Ratelimit-Limit") != "2" || h.Get("X-Ratelimit-Remaining") != strconv.Itoa(want) {
			t.Fatalf("status %d headers %v", status, h)
		}
	}
	status, h, body := e.call(http.MethodGet, "/mfa/authenticators", tok, nil)
	wantAuthError(t, status, body, 429, "too_many_requests")
	if h.Get("X-Ratelimit-Reset") != strconv.FormatInt(e.clock.Now().Add(time.Minute).Unix(), 10) {
		t.Fatalf("reset %s", h.Get("X-Ratelimit-Reset"))
	}
	e.clock.Advance(time.Minute)
	if status, _, _ := e.call(http.MethodGet, "/mfa/authenticators", tok, nil); status != 200 {
		t.Fatalf("after the window: %d", status)
	}
	// Other routes are not limited by this one.
	if status, _, _ := e.call(http.MethodGet, "/.well-known/jwks.json", "", nil); status != 200 {
		t.Fatal("jwks limited")
	}
}

func TestAdminEndpoint(t *testing.T) {
	e := newEnv(t)
	asJSON := []string{"Content-Type", "application/json"}
	status, _, body := e.call(http.MethodPost, "/_emulator/faults", "", strings.NewReader(`{"route":"GET /mfa/authenticators","status":502,"times":1}`), asJSON...)
	if status != 204 {
		t.Fatalf("inject: %d %s", status, body)
	}
	tok := e.mfaToken("auth0|bob", scopeReadAuthenticators)
	if status, _, _ := e.call(http.MethodGet, "/mfa/authenticators", tok, nil); status != 502 {
		t.Fatalf("injected status not served: %d", status)
	}
	status, _, body = e.call(http.MethodGet, "/_emulator/calls", "", nil)
	var calls map[string]int
	if err := json.Unmarshal(body, &calls); status != 200 || err != nil || calls[RouteListAuthenticators] != 1 {
		t.Fatalf("calls: %d %s", status, body)
	}
	for _, bad := range []string{`{"route":"GET /nope","status":500,"times":1}`, `{"route":"GET /mfa/authenticators","bogus":1}`, `{"route":"GET /mfa/authenticators","status":200,"times":1}`, `nope`} {
		if status, _, _ := e.call(http.MethodPost, "/_emulator/faults", "", strings.NewReader(bad), asJSON...); status != 400 {
			t.Errorf("%s: %d", bad, status)
		}
	}
	// What a page on another site could make the developer's browser send:
	// a text/plain POST (no preflight), marked cross-site by the browser.
	for _, h := range [][]string{{"Content-Type", "text/plain"}, {"Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"},
		{"Content-Type", "text/plain", "Origin", "https://evil.example"}} {
		if status, _, _ := e.call(http.MethodPost, "/_emulator/faults", "", strings.NewReader(`{"route":"GET /mfa/authenticators","status":500,"times":5}`), h...); status != 415 && status != 403 {
			t.Errorf("POST with %v: %d, want refused", h, status)
		}
	}
	if status, _, _ := e.call(http.MethodPost, "/_emulator/rotate-keys", "", nil, "Sec-Fetch-Site", "cross-site"); status != 403 || len(e.tenant.keys.published()) != 1 {
		t.Errorf("a cross-site key rotation: %d", status)
	}
	if status, _, _ := e.call(http.MethodGet, "/mfa/authenticators", tok, nil); status != 200 {
		t.Errorf("a refused fault was set: %d", status)
	}
	e.call(http.MethodPost, "/_emulator/faults", "", strings.NewReader(`{"route":"GET /mfa/authenticators","latency_ms":5000}`), asJSON...)
	if status, _, _ := e.call(http.MethodDelete, "/_emulator/faults", "", nil); status != 204 {
		t.Fatal("clear faults")
	}
	if status, _, _ := e.call(http.MethodPost, "/_emulator/calls/reset", "", nil); status != 204 || e.tenant.Calls(RouteListAuthenticators) != 0 {
		t.Fatal("reset calls")
	}
	if status, _, _ := e.call(http.MethodPost, "/_emulator/rotate-keys", "", nil); status != 204 || len(e.tenant.keys.published()) != 2 {
		t.Fatal("rotate keys")
	}
	// Not from loopback: refused.
	req := httptest.NewRequest(http.MethodPost, "/_emulator/rotate-keys", nil)
	req.RemoteAddr = "192.0.2.7:4444"
	rec := httptest.NewRecorder()
	e.tenant.ServeHTTP(rec, req)
	if rec.Code != 403 || len(e.tenant.keys.published()) != 2 {
		t.Fatalf("remote admin call: %d", rec.Code)
	}
}

func TestRotateKeys(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.KeyGracePeriod = 10 * time.Minute })
	oldTok, _ := e.tenant.MintAccessToken("auth0|bob", e.tenant.MFAAudience(), []string{scopeReadAuthenticators}, time.Hour)
	e.tenant.RotateKeys()
	newTok, _ := e.tenant.MintAccessToken("auth0|bob", e.tenant.MFAAudience(), []string{scopeReadAuthenticators}, time.Hour)
	_, _, body := e.call(http.MethodGet, "/.well-known/jwks.json", "", nil)
	var jwks struct {
		Keys []struct{ Kid, Kty, Alg, Use, N, E string }
	}
	if err := json.Unmarshal(body, &jwks); err != nil || len(jwks.Keys) != 2 || jwks.Keys[0].Kid == jwks.Keys[1].Kid || jwks.Keys[0].Alg != "RS256" {
		t.Fatalf("jwks after rotation: %s", body)
	}
	for _, tok := range []string{oldTok, newTok} {
		if status, _, _ := e.call(http.MethodGet, "/mfa/authenticators", tok, nil); status != 200 {
			t.Fatalf("token refused during grace: %d", status)
		}
	}
	e.clock.Advance(11 * time.Minute)
	_, _, body = e.call(http.MethodGet, "/.well-known/jwks.json", "", nil)
	if err := json.Unmarshal(body, &jwks); err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("jwks after grace: %s", body)
	}
	status, _, body := e.call(http.MethodGet, "/mfa/authenticators", oldTok, nil)
	wantAuthError(t, status, body, 401, "invalid_token")
	if status, _, _ := e.call(http.MethodGet, "/mfa/authenticators", newTok, nil); status != 200 {
		t.Fatal("new token refused")
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:9010": true, "[::1]:9010": true, "localhost:9010": true,
		"0.0.0.0:9010": false, ":9010": false, "192.0.2.1:9010": false, "example.com:80": false, "nonsense": false} {
		if err := CheckLoopback(addr); (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v", addr, err)
		}
	}
}
