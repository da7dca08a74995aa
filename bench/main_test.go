package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"golang.org/x/net/html"

	"mfaportal/auth0emu"
	"mfaportal/emulated"
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
	if o.users != 200 || o.duration != 5*time.Second || o.memUsers != 10000 || !reflect.DeepEqual(o.concurrencies, []int{1, 16, 64, 256}) || !o.peer || !o.floor {
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

func TestProcessReadings(t *testing.T) {
	rss, err := readRSSOf("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if rss < 1<<20 {
		t.Errorf("RSS %d bytes, want at least 1 MB for a Go test binary", rss)
	}
	before := selfCPU()
	for deadline := time.Now().Add(50 * time.Millisecond); time.Now().Before(deadline); {
	}
	if spent := selfCPU() - before; spent < 20*time.Millisecond {
		t.Errorf("50 ms of spinning read as %v of CPU", spent)
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

func TestStageOfASample(t *testing.T) {
	stack := func(names ...string) *profile.Sample {
		var s profile.Sample
		for _, n := range names { // leaf first, as pprof records them
			s.Location = append(s.Location, &profile.Location{Line: []profile.Line{{Function: &profile.Function{Name: n}}}})
		}
		return &s
	}
	tests := []struct {
		name   string
		sample *profile.Sample
		want   string
	}{
		{"the session's JSON is session decoding", stack("encoding/json.checkValid", "encoding/json.Unmarshal", "mfaportal/session.(*Store).Load", "mfaportal/handlers.(*portal).accessLog-fm"), stages[0].name},
		{"Auth0's answer is JSON", stack("encoding/json.(*decodeState).object", "mfaportal/mfaapi.decodeJSON", "mfaportal/handlers.(*portal).freshGroups"), stages[4].name},
		{"templates are the page", stack("runtime.memmove", "github.com/a-h/templ.EscapeString", "mfaportal/views.Factors.func1"), stages[3].name},
		{"the page's write is sending", stack("syscall.write", "bufio.(*Writer).Write", "net/http.(*response).Write", "mfaportal/handlers.(*portal).render"), stages[2].name},
		{"gzip is compression", stack("compress/flate.(*compressor).deflate", "mfaportal/handlers.(*portal).render"), stages[1].name},
		{"the access log is middleware", stack("log/slog.(*JSONHandler).Handle", "mfaportal/handlers.(*portal).accessLog.func1"), stages[6].name},
		{"a bare read is the server", stack("syscall.Syscall", "net/http.(*conn).serve"), stages[len(stages)-1].name},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stages[classify(tt.sample)].name; got != tt.want {
				t.Errorf("stage %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFloor checks the floor's contract with the bench: it opens the
// sessions it sealed for the bench users, makes the one upstream call with
// each one's token, and answers with the captured page and headers; without
// a session it answers 401 and calls nothing.
func TestFloor(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tenantURL := "http://" + ln.Addr().String()
	tenant, err := auth0emu.New(auth0emu.Options{BaseURL: tenantURL, Users: benchUsers(2), MFATokenLifetime: benchTokenLifetime})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(tenant)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	e := &env{tenant: tenant, dir: t.TempDir(), portalVars: emulated.Env(tenant, "http://127.0.0.1:1", map[string]string{"UPSTREAM_TIMEOUT": "5s"})}
	page := capturedPage{header: http.Header{"Content-Type": {"text/html; charset=UTF-8"}, "Content-Security-Policy": {"default-src 'none'"}}, body: []byte("<!doctype html><p>the portal's page</p>")}
	vars, err := e.floorVars(page, 2)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
	h, err := newFloor()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(vars["BENCH_COOKIES"])
	if err != nil {
		t.Fatal(err)
	}
	cookies := strings.Fields(string(raw))
	if len(cookies) != 2 {
		t.Fatalf("%d cookies sealed, want 2", len(cookies))
	}

	view := func(cookie string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/factors", nil)
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	before := tenant.Calls(auth0emu.RouteListAuthenticators)
	for _, c := range cookies {
		w := view(c)
		if w.Code != http.StatusOK || w.Body.String() != string(page.body) || w.Header().Get("Content-Security-Policy") != "default-src 'none'" {
			t.Errorf("a sealed session's view: %d %q, CSP %q; want 200, the captured page and header", w.Code, w.Body.String(), w.Header().Get("Content-Security-Policy"))
		}
	}
	if got := tenant.Calls(auth0emu.RouteListAuthenticators) - before; got != 2 {
		t.Errorf("%d GET /mfa/authenticators for 2 views, want 2", got)
	}
	for _, c := range []string{"", strings.Replace(cookies[0], "=", "=x", 1)} {
		if w := view(c); w.Code != http.StatusUnauthorized {
			t.Errorf("view with cookie %.20q: %d, want 401", c, w.Code)
		}
	}
	if got := tenant.Calls(auth0emu.RouteListAuthenticators) - before; got != 2 {
		t.Errorf("views without a session called the tenant: %d calls in all, want 2", got)
	}
}
