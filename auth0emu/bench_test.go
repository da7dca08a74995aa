package auth0emu

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkListAuthenticators measures GET /mfa/authenticators through the
// tenant's handler (token verification, rate limiting, counters) without
// the network, in parallel on all cores.
func BenchmarkListAuthenticators(b *testing.B) {
	tenant, err := New(Options{BaseURL: "http://127.0.0.1:9010"})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := tenant.MintAccessToken("auth0|alice", tenant.MFAAudience(), []string{scopeReadAuthenticators}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "/mfa/authenticators", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		for pb.Next() {
			rec := httptest.NewRecorder()
			tenant.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// BenchmarkListAuthenticatorsHTTP measures the same call over loopback
// HTTP/1.1 with keep-alive; the client shares the cores, so this is a
// lower bound on what the emulator serves.
func BenchmarkListAuthenticatorsHTTP(b *testing.B) {
	srv := httptest.NewUnstartedServer(nil)
	tenant, err := New(Options{BaseURL: "http://" + srv.Listener.Addr().String()})
	if err != nil {
		b.Fatal(err)
	}
	srv.Config.Handler = tenant
	srv.Start()
	defer srv.Close()
	tok, err := tenant.MintAccessToken("auth0|alice", tenant.MFAAudience(), []string{scopeReadAuthenticators}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	defer transport.CloseIdleConnections()
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/mfa/authenticators", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d err %v", resp.StatusCode, err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
