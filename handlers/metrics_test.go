package handlers

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"mfaportal/metrics"
)

// Thousands of made-up methods and paths leave the request metric with a
// handful of series: every label comes from a bounded set.
func TestRequestMetricsStayBounded(t *testing.T) {
	m := metrics.New()
	deps, _ := testDeps(t, time.Now, nil)
	deps.Metrics = m
	h, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		method := "M" + strconv.Itoa(i)
		if i%3 == 0 {
			method = http.MethodGet
		}
		req := httptest.NewRequest(method, "/no/such/page/"+strconv.Itoa(i)+"?x="+strconv.Itoa(i), nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	series := 0
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "mfaportal_http_request_duration_seconds_count{") {
			series++
			if strings.Contains(line, "M1") || strings.Contains(line, "/no/such") {
				t.Errorf("a client's method or path became a label: %s", line)
			}
		}
	}
	if series == 0 || series > 4 {
		t.Errorf("%d request series after 3000 made-up requests, want a handful", series)
	}
}
