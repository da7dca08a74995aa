package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"mfaportal/auth0emu"
)

// maxRequestsPerWorker bounds a worker's loop in one slice besides the
// deadline, and so the memory the recorded latencies take.
const maxRequestsPerWorker = 1_000_000

// runStats summarises one measured run against one target.
type runStats struct {
	requests int
	errors   int
	firstErr string
	elapsed  time.Duration
	p50, p99 time.Duration
	// Tenant counters during the run.
	upstreamLists int
	methodLists   int // Management API GET …/authentication-methods
	jwks          int
	tokenCalls    int
	// CPU time during the side's slices: its own processes, and the bench
	// process (the tenant and the load client).
	cpu, benchCPU time.Duration
	// idle is the machine's idle CPU time during the side's slices.
	idle  time.Duration
	bytes int64 // response bodies, as sent
}

// idleShare is the share of the machine's CPUs left idle while the side
// ran: above zero, something other than CPU held the side back.
func (s runStats) idleShare() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return s.idle.Seconds() / (s.elapsed.Seconds() * float64(runtime.NumCPU()))
}

// cpuPerView is the side's own CPU time per request served.
func (s runStats) cpuPerView() time.Duration {
	if s.requests == 0 {
		return 0
	}
	return s.cpu / time.Duration(s.requests)
}

// bytesPerView is the response body per request, on the wire.
func (s runStats) bytesPerView() int64 {
	if s.requests == 0 {
		return 0
	}
	return s.bytes / int64(s.requests)
}

func (s runStats) rps() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.requests) / s.elapsed.Seconds()
}

// upstreamPerView is GET /mfa/authenticators calls per request served.
func (s runStats) upstreamPerView() float64 {
	if s.requests == 0 {
		return 0
	}
	return float64(s.upstreamLists) / float64(s.requests)
}

// methodsPerView is Management API list calls per request served: with the
// per-user cache warm, at most one per user per cache lifetime.
func (s runStats) methodsPerView() float64 {
	if s.requests == 0 {
		return 0
	}
	return float64(s.methodLists) / float64(s.requests)
}

// side is one thing measured: its name, its URL, the cookies of its
// signed-in users (none for the baseline) and its processes.
type side struct {
	name    string
	url     string
	cookies []string
	procs   []*process
}

// loadRow is one concurrency of the main table: one runStats per side, in
// the order of the sides.
type loadRow struct {
	concurrency int
	stats       []runStats
}

// sliceLength is how long one side runs before the other takes over. Short
// slices, alternated, make a burst of outside load hit both sides alike, so
// the ratio holds on a shared machine.
const sliceLength = 500 * time.Millisecond

// runLoadTable measures every side at each concurrency.
func runLoadTable(ctx context.Context, e *env, sides []side, o options) []loadRow {
	var rows []loadRow
	for _, c := range o.concurrencies {
		if ctx.Err() != nil {
			break
		}
		rows = append(rows, loadRow{concurrency: c, stats: measureSides(ctx, e, sides, c, o)})
	}
	return rows
}

// latencyResult is the optional run with upstream latency injected.
type latencyResult struct {
	injected    time.Duration
	concurrency int
	stats       []runStats
}

func runWithLatency(ctx context.Context, e *env, sides []side, o options) latencyResult {
	e.tenant.Inject(auth0emu.RouteListAuthenticators, auth0emu.Fault{Latency: o.latency})
	defer e.tenant.ClearFaults()
	return latencyResult{injected: o.latency, concurrency: o.latencyConc, stats: measureSides(ctx, e, sides, o.latencyConc, o)}
}

// target is one side under load, with its own connection pool.
type target struct {
	side
	client  *http.Client
	stats   runStats
	samples []time.Duration
}

// measureSides warms every side up, then runs them in turn, in slices, until
// each has run for o.duration, reading the tenant's counters around every
// slice. The order rotates from slice to slice, so no side always follows
// the same one.
func measureSides(ctx context.Context, e *env, list []side, concurrency int, o options) []runStats {
	sides := make([]*target, len(list))
	for i, s := range list {
		sides[i] = &target{side: s, client: loadClient(concurrency)}
	}
	defer func() {
		for _, t := range sides {
			t.client.CloseIdleConnections()
		}
	}()
	for _, t := range sides {
		if o.warmup > 0 {
			drive(ctx, t.client, t.url, t.cookies, concurrency, o.warmup)
		}
	}
	// Start from a collected heap, so an earlier run's garbage is not billed
	// to this one. No collection between slices: each side pays for its own
	// garbage, whenever the collector runs.
	runtime.GC()
	nSlices := max(1, int(o.duration/sliceLength))
	for i := range nSlices {
		if ctx.Err() != nil {
			break
		}
		for k := range sides {
			t := sides[(i+k)%len(sides)]
			before, cpu0, self0, idle0 := tenantCounts(e), cpuOf(t.procs), selfCPU(), machineIdle()
			sample := drive(ctx, t.client, t.url, t.cookies, concurrency, o.duration/time.Duration(nSlices))
			t.stats.add(sample, tenantCounts(e).minus(before))
			t.stats.cpu += cpuOf(t.procs) - cpu0
			t.stats.benchCPU += selfCPU() - self0
			t.stats.idle += machineIdle() - idle0
			t.samples = append(t.samples, sample.latencies...)
		}
	}
	out := make([]runStats, len(sides))
	for i, t := range sides {
		t.stats.p50, t.stats.p99 = percentile(t.samples, 0.50), percentile(t.samples, 0.99)
		out[i] = t.stats
	}
	return out
}

// counts are the tenant's counters that matter here.
type counts struct{ lists, methods, jwks, tokens int }

func tenantCounts(e *env) counts {
	return counts{
		lists:   e.tenant.Calls(auth0emu.RouteListAuthenticators),
		methods: e.tenant.Calls(auth0emu.RouteListAuthenticationMethods),
		jwks:    e.tenant.Calls(auth0emu.RouteJWKS),
		tokens:  e.tenant.Calls(auth0emu.RouteToken),
	}
}

func (c counts) minus(o counts) counts {
	return counts{c.lists - o.lists, c.methods - o.methods, c.jwks - o.jwks, c.tokens - o.tokens}
}

func (s *runStats) add(x sample, c counts) {
	s.requests += len(x.latencies)
	s.bytes += x.bytes
	s.errors += x.errors
	if s.firstErr == "" {
		s.firstErr = x.firstErr
	}
	s.elapsed += x.elapsed
	s.upstreamLists += c.lists
	s.methodLists += c.methods
	s.jwks += c.jwks
	s.tokenCalls += c.tokens
}

// loadClient keeps one idle connection per worker, so the run measures
// requests, not connection set-up, and never follows a redirect (a redirect
// to /login is an error here).
func loadClient(concurrency int) *http.Client {
	return &http.Client{
		Transport: loadTransport(concurrency),
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func loadTransport(concurrency int) *http.Transport {
	return &http.Transport{
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
}

// sample is what one drive recorded.
type sample struct {
	latencies []time.Duration
	errors    int
	firstErr  string
	elapsed   time.Duration
	bytes     int64
}

// drive runs concurrency workers that each send GETs back to back until d
// has passed. With cookies, worker w uses cookies w, w+concurrency, ... in
// turn, so the load is spread over every signed-in user.
func drive(ctx context.Context, client *http.Client, url string, cookies []string, concurrency int, d time.Duration) sample {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	workers := make([]sample, concurrency)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		ws := &workers[w]
		wg.Go(func() {
			next := w
			for n := 0; n < maxRequestsPerWorker && time.Now().Before(deadline) && ctx.Err() == nil; n++ {
				cookie := ""
				if len(cookies) > 0 {
					cookie = cookies[next%len(cookies)]
					next += concurrency
				}
				t0 := time.Now()
				n, err := getOK(ctx, client, url, cookie)
				ws.latencies = append(ws.latencies, time.Since(t0))
				ws.bytes += n
				if err != nil {
					ws.errors++
					if ws.firstErr == "" {
						ws.firstErr = err.Error()
					}
				}
			}
		})
	}
	wg.Wait()
	out := sample{elapsed: time.Since(start)}
	for _, ws := range workers {
		out.latencies = append(out.latencies, ws.latencies...)
		out.errors += ws.errors
		out.bytes += ws.bytes
		if out.firstErr == "" {
			out.firstErr = ws.firstErr
		}
	}
	return out
}

// getOK sends one GET as a browser would (offering compressed answers)
// and reads the whole body; anything but 200 is an error. n is the body's
// size as sent.
func getOK(ctx context.Context, client *http.Client, url, cookie string) (n int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Accept-Encoding", browserAcceptEncoding)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	n, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("status %d", resp.StatusCode)
	}
	return n, nil
}

// browserAcceptEncoding is what Chromium offers: the portal compresses
// what it sends as it would for a person (measure what users get).
const browserAcceptEncoding = "gzip, deflate, br, zstd"

// percentile sorts d in place and returns its q-quantile (nearest rank).
func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[int(q*float64(len(d)-1)+0.5)]
}

// checkFactorsPage makes sure a cookie really shows the factors page before
// anything is measured, so a broken sign-in cannot pass as a fast redirect.
func checkFactorsPage(ctx context.Context, e *env, cookie string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.portalURL+"/factors", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Cookie", cookie)
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `data-testid="factor-app"`) {
		return fmt.Errorf("GET /factors with a fresh session: status %d, no authenticator app listed", resp.StatusCode)
	}
	return nil
}
