package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestHealthcheckCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	status := http.StatusOK
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	env := map[string]string{
		"LISTEN_ADDR":             ":" + port, // the unspecified host means loopback for the probe
		"PUBLIC_URL":              "http://127.0.0.1:" + port,
		"AUTH0_DOMAIN":            "http://127.0.0.1:9",
		"AUTH0_CLIENT_ID":         "web",
		"AUTH0_CLIENT_SECRET":     "web-secret",
		"AUTH0_M2M_CLIENT_ID":     "m2m",
		"AUTH0_M2M_CLIENT_SECRET": "m2m-secret",
		"SESSION_KEYS":            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}
	getenv := func(k string) string { return env[k] }
	var out strings.Builder
	if err := run(context.Background(), []string{"healthcheck"}, getenv, &out); err != nil {
		t.Errorf("healthcheck with a healthy portal: %v", err)
	}
	status = http.StatusServiceUnavailable
	if err := run(context.Background(), []string{"healthcheck"}, getenv, &out); err == nil {
		t.Error("healthcheck with /healthz answering 503: want an error")
	}
	srv.Close()
	if err := run(context.Background(), []string{"healthcheck"}, getenv, &out); err == nil {
		t.Error("healthcheck with nothing listening: want an error")
	}
}

// freeAddr returns a loopback address nothing listens on (just now).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeMetricsListener: with METRICS_ADDR, /metrics is served there and
// not on the public listener, and both stop on shutdown.
func TestServeMetricsListener(t *testing.T) {
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	env := map[string]string{
		"LISTEN_ADDR":             addr,
		"METRICS_ADDR":            metricsAddr,
		"PUBLIC_URL":              "http://" + addr,
		"AUTH0_DOMAIN":            "http://127.0.0.1:9",
		"AUTH0_CLIENT_ID":         "web",
		"AUTH0_CLIENT_SECRET":     "web-secret",
		"AUTH0_M2M_CLIENT_ID":     "m2m",
		"AUTH0_M2M_CLIENT_SECRET": "m2m-secret",
		"SESSION_KEYS":            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, io.Discard) }()
	get := func(url string) (int, string) {
		var lastErr error
		for range 50 {
			resp, err := http.Get(url)
			if err == nil {
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			lastErr = err
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("GET %s: %v", url, lastErr)
		return 0, ""
	}
	if status, _ := get("http://" + addr + "/healthz"); status != http.StatusOK {
		t.Errorf("GET /healthz = %d", status)
	}
	if status, _ := get("http://" + addr + "/metrics"); status == http.StatusOK {
		t.Error("the public listener serves /metrics")
	}
	status, body := get("http://" + metricsAddr + "/metrics")
	if status != http.StatusOK || !strings.Contains(body, `mfaportal_http_request_duration_seconds_count{method="GET",route="/healthz",status="2xx"} 1`) {
		t.Errorf("GET /metrics = %d, without the /healthz request:\n%.2000s", status, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run = %v after shutdown", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after shutdown")
	}
}
