package main

import (
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(100-i) * time.Millisecond // 100..1 ms, unsorted
	}
	tests := []struct {
		name string
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.99, 0},
		{"one", ms(7), 0.5, 7 * time.Millisecond},
		{"median of unsorted", ms(5, 1, 3), 0.5, 3 * time.Millisecond},
		{"p99 of 1..100 ms", hundred, 0.99, 99 * time.Millisecond},
		{"p50 of 1..100 ms", hundred, 0.50, 51 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.in, tt.q); got != tt.want {
				t.Errorf("percentile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestSubresources(t *testing.T) {
	page := `<!doctype html><html><head>
<link rel="stylesheet" href="/static/style.css?v=1">
<link rel="icon" href="/static/favicon.svg?v=1" type="image/svg+xml">
<link rel="canonical" href="https://example.com/factors">
<script src="/static/app.js?v=1" defer></script>
<script>inline()</script>
</head><body><a href="/recovery-code">x</a><img src="https://cdn.example.net/logo.png"></body></html>`
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/static/style.css?v=1", "/static/favicon.svg?v=1", "/static/app.js?v=1", "https://cdn.example.net/logo.png"}
	if got := subresources(doc); !reflect.DeepEqual(got, want) {
		t.Errorf("subresources = %q, want %q", got, want)
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.users != 200 || o.duration != 5*time.Second || o.memUsers != 10000 || !reflect.DeepEqual(o.concurrencies, []int{1, 16, 64, 256}) {
		t.Errorf("defaults = %+v", o)
	}
	for _, args := range [][]string{
		{"-concurrency", "1,x"},
		{"-concurrency", "0"},
		{"-users", "0"},
		{"-duration", "0s"},
		{"-memusers", "-1"},
	} {
		if _, err := parseOptions(args, io.Discard); err == nil {
			t.Errorf("parseOptions(%q) accepted", args)
		}
	}
}

func TestReadRSS(t *testing.T) {
	rss, err := readRSS()
	if err != nil {
		t.Skipf("no /proc/self/status here: %v", err)
	}
	if rss < 1<<20 {
		t.Errorf("RSS %d bytes, want at least 1 MB for a Go test binary", rss)
	}
}

func TestInfoField(t *testing.T) {
	info := "# Memory\r\nused_memory:1032456\r\nused_memory_human:1008.26K\r\nused_memory_rss:7532544\r\n"
	tests := []struct {
		name    string
		field   string
		want    int64
		wantErr bool
	}{
		{"exact field, not its _human or _rss sibling", "used_memory", 1032456, false},
		{"another field", "used_memory_rss", 7532544, false},
		{"missing", "used_memory_peak", 0, true},
		{"not a number", "used_memory_human", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := infoField(info, tt.field)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("infoField(%q) = %d, %v; want %d, error %v", tt.field, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestAllocatedByLoadClient(t *testing.T) {
	pc := make([]uintptr, 32)
	n := runtime.Callers(0, pc)
	// This test function is in package main, so the stack is the client's.
	if got := allocatedBy(pc[:n]); got != ownerClient {
		t.Errorf("allocatedBy(test stack) = %v, want ownerClient", got)
	}
	if got := allocatedBy(nil); got != ownerOther {
		t.Errorf("allocatedBy(nil) = %v, want ownerOther", got)
	}
}
