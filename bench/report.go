package main

import (
	"fmt"
	"io"
	"mfaportal/authmethods"
	"runtime"
	"text/tabwriter"
	"time"
)

// report prints each section as soon as it is measured, so a long or
// interrupted run still shows what it found.
type report struct {
	w io.Writer
}

func (r *report) printf(format string, args ...any) { fmt.Fprintf(r.w, format, args...) }

func (r *report) header(o options) {
	r.printf("mfaportal benchmark: the portal against a minimal BFF baseline (issue 7)\n")
	r.printf("%s %s/%s, %d CPUs, GOMAXPROCS %d. Tenant emulator, portal, baseline and load client share this process and its CPUs.\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	r.printf("%d virtual users; concurrencies %v; per concurrency, each side is measured for %s in all, in slices of %s\n", o.users, o.concurrencies, o.duration, sliceLength)
	r.printf("alternating portal and baseline (after %s of warm-up each), so outside load hits both alike.\n\n", o.warmup)
}

func (r *report) signIns(label string, s signInResult) {
	r.printf("Sign-in (%s): %d of %d signed in through portal /login -> tenant login + OTP -> portal /callback in %s (%d failed)",
		label, s.ok, s.total, s.elapsed.Round(time.Millisecond), s.failed)
	if s.firstErr != nil {
		r.printf("; first error: %v", s.firstErr)
	}
	r.printf("\n\n")
}

func (r *report) loadTable(rows []loadRow) {
	r.printf("GET /factors: portal (session cookie, MFA API call, cached Management API details, HTML page) vs. baseline (fixed token, 1 upstream call, JSON copied)\n")
	tw := tabwriter.NewWriter(r.w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "conc\tportal req/s\tp50\tp99\tbaseline req/s\tp50\tp99\tratio\tMFA/view\tMgmt/view\tJWKS\tM2M token\terrors\t")
	for _, row := range rows {
		p, b := row.portal, row.baseline
		fmt.Fprintf(tw, "%d\t%.0f\t%s\t%s\t%.0f\t%s\t%s\t%.2f\t%.3f\t%.4f\t%d\t%d\t%d/%d\t\n",
			row.concurrency, p.rps(), ms(p.p50), ms(p.p99), b.rps(), ms(b.p50), ms(b.p99),
			ratio(p.rps(), b.rps()), p.upstreamPerView(), p.methodsPerView(), p.jwks, p.tokenCalls, p.errors, b.errors)
	}
	_ = tw.Flush()
	r.printf("  ratio = portal req/s / baseline req/s; MFA/view = tenant GET /mfa/authenticators calls / portal requests;\n")
	r.printf("  Mgmt/view = tenant GET …/authentication-methods calls / portal requests (the per-user cache lives %s);\n", authmethods.Lifetime)
	r.printf("  JWKS and M2M token = tenant calls during the portal run; errors = portal/baseline non-200 or transport errors.\n")
	worst := -1
	for i, row := range rows {
		if worst < 0 || ratio(row.portal.rps(), row.baseline.rps()) < ratio(rows[worst].portal.rps(), rows[worst].baseline.rps()) {
			worst = i
		}
		for _, s := range []runStats{row.portal, row.baseline} {
			if s.firstErr != "" {
				r.printf("  first error at concurrency %d: %s\n", row.concurrency, s.firstErr)
			}
		}
	}
	if worst >= 0 {
		w := rows[worst]
		r.printf("Headline: the portal serves %.2f of the baseline's throughput at worst (concurrency %d).\n",
			ratio(w.portal.rps(), w.baseline.rps()), w.concurrency)
	}
	r.printf("\n")
}

func (r *report) regeneration(g regenResult) {
	r.printf("Recovery-code regeneration (each load user once: GET /recovery-code, then POST it with csrf_token and regen_nonce)\n")
	r.printf("  regenerated: %d of %d in %s, errors %d", g.ok, g.users, g.elapsed.Round(time.Millisecond), g.errors)
	if g.firstErr != "" {
		r.printf(" (first: %s)", g.firstErr)
	}
	r.printf("\n  M2M token fetches (tenant POST /oauth/token) in all: %d\n", g.tokenCalls)
	r.printf("  regenerations at the tenant: %d; JWKS fetches: %d\n\n", g.regenerations, g.jwks)
}

func (r *report) pageWeight(w pageWeight) {
	r.printf("Page weight of a visit to /factors (signed in, a browser offering \"gzip, deflate, br\"; gzip column computed here, default level)\n")
	tw := tabwriter.NewWriter(r.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  resource\ttype\tbytes\tgzipped\ton the wire\tContent-Encoding\tkept for a repeat visit")
	for _, res := range w.resources {
		if res.thirdParty {
			fmt.Fprintf(tw, "  %s\tTHIRD PARTY\t-\t-\t-\t-\t-\n", res.path)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\t%s\t%v\n", res.path, res.contentType, res.raw, res.gzipped, res.wire, res.encoding, res.cached)
	}
	_ = tw.Flush()
	raw, gz, third := w.totals()
	first, repeat, repeatRequests := w.onTheWire()
	r.printf("  total: %d requests, %d bytes, %d bytes gzipped; third-party requests: %d\n", len(w.resources), raw, gz, third)
	r.printf("  on the wire: first visit %d bytes in %d requests; repeat visit %d bytes in %d request(s) (the rest is immutable in the cache)\n\n",
		first, len(w.resources), repeat, repeatRequests)
}

func (r *report) latency(l latencyResult) {
	r.printf("With %s injected on the tenant's GET /mfa/authenticators, concurrency %d\n", l.injected, l.concurrency)
	tw := tabwriter.NewWriter(r.w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\treq/s\tp50\tp99\tp99 - injected\terrors\t")
	for _, x := range []struct {
		name string
		s    runStats
	}{{"portal", l.portal}, {"baseline", l.baseline}} {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%d\t\n", x.name, x.s.rps(), ms(x.s.p50), ms(x.s.p99), ms(x.s.p99-l.injected), x.s.errors)
	}
	_ = tw.Flush()
	r.printf("\n")
}

func (r *report) memory(m memoryResult) {
	s := m.signIn
	r.printf("Memory with many signed-in users (whole process: tenant emulator + portal + load client; after GC and FreeOSMemory)\n")
	r.printf("  sign-ins: %d of %d signed in in %s (%d failed, %.0f sign-ins/s)", s.ok, s.total, s.elapsed.Round(time.Millisecond), s.failed, float64(s.ok)/s.elapsed.Seconds())
	if s.timedOut {
		r.printf("; stopped at the -memtimeout limit")
	}
	if s.firstErr != nil {
		r.printf("; first error: %v", s.firstErr)
	}
	r.printf("\n")
	for _, x := range []struct {
		name string
		m    memSample
	}{{"before", m.before}, {"after", m.after}} {
		if x.m.rssErr != nil {
			r.printf("  %-6s RSS unavailable (%v), Go heap live %s, heap from OS %s\n", x.name, x.m.rssErr, mb(int64(x.m.heapAlloc)), mb(int64(x.m.heapSys)))
			continue
		}
		r.printf("  %-6s RSS %s, Go heap live %s, heap from OS %s\n", x.name, mb(x.m.rssBytes), mb(int64(x.m.heapAlloc)), mb(int64(x.m.heapSys)))
	}
	if s.ok > 0 {
		r.printf("  growth per sign-in: RSS %d B, Go heap %d B (whole process, includes the emulator's SSO session per sign-in)\n",
			(m.after.rssBytes-m.before.rssBytes)/int64(s.ok), (int64(m.after.heapAlloc)-int64(m.before.heapAlloc))/int64(s.ok))
	}
	if t := m.tracked; t.ok > 0 {
		g, n := m.growth, int64(t.ok)
		r.printf("  portal alone: %d more sign-ins (users 0..%d again), each followed by one GET /factors, with every allocation's stack\n", t.ok, t.total-1)
		r.printf("  recorded (runtime.MemProfileRate = 1, after the timed runs); live heap growth after GC, per sign-in, by the innermost\n")
		r.printf("  frame on the allocating stack: portal (mfaportal/* but the emulator) %d B, tenant emulator (mfaportal/auth0emu) %d B,\n", g.portal/n, g.tenant/n)
		r.printf("  load client (bench) %d B, other (none of these in the 32 recorded frames: net/http connection buffers, runtime) %d B;\n", g.client/n, g.other/n)
		r.printf("  portal total %+d B over %d sign-ins (%d failed)\n", g.portal, t.ok, t.failed)
	}
	r.printf("  In cookie mode the portal keeps no state per session (the session is the sealed cookie, held by the browser);\n")
	r.printf("  only a sign-out adds an entry, to the revocation list, until the cookie would have expired.\n\n")
}

func (r *report) redis(x redisResult) {
	r.printf("Redis-backed sessions (REDIS_URL set: the cookie holds a random id, the sealed session is a Redis key)\n")
	if x.skipped != "" {
		r.printf("  Redis: %s\n\n", x.skipped)
		return
	}
	s := x.signIn
	r.printf("  sign-ins: %d of %d signed in to the Redis-backed portal in %s (%d failed)", s.ok, s.total, s.elapsed.Round(time.Millisecond), s.failed)
	if s.timedOut {
		r.printf("; stopped at the -memtimeout limit")
	}
	if s.firstErr != nil {
		r.printf("; first error: %v", s.firstErr)
	}
	r.printf("\n")
	if x.infoErr != nil {
		r.printf("  Redis INFO failed: %v\n\n", x.infoErr)
		return
	}
	r.printf("  Redis used_memory: before %d B, after %d B, keys %d\n", x.before, x.after, x.keys)
	if s.ok > 0 {
		r.printf("  Redis memory per session: %d B (target: under 2048 B) = (used_memory after - before) / sessions\n", x.perSession())
	}
	if x.redisPortal.requests == 0 {
		r.printf("\n")
		return
	}
	r.printf("  GET /factors at concurrency %d, the three sides alternating in slices as above:\n", x.concurrency)
	tw := tabwriter.NewWriter(r.w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\treq/s\tp50\tp99\tratio to baseline\tMFA/view\tMgmt/view\terrors\t")
	sides := []struct {
		name string
		s    runStats
	}{{"portal, cookie sessions", x.cookiePortal}, {"portal, Redis sessions", x.redisPortal}, {"baseline", x.baseline}}
	for _, side := range sides {
		fmt.Fprintf(tw, "  %s\t%.0f\t%s\t%s\t%.2f\t%.3f\t%.4f\t%d\t\n", side.name, side.s.rps(), ms(side.s.p50), ms(side.s.p99),
			ratio(side.s.rps(), x.baseline.rps()), side.s.upstreamPerView(), side.s.methodsPerView(), side.s.errors)
	}
	_ = tw.Flush()
	for _, side := range sides {
		if side.s.firstErr != "" {
			r.printf("  first error (%s): %s\n", side.name, side.s.firstErr)
		}
	}
	r.printf("\n")
}

func (r *report) footer(total time.Duration) {
	r.printf("Allocations per request of the list handler: go test -run '^$' -bench BenchmarkFactorsPage -benchmem ./handlers\n")
	r.printf("Total run time: %s\n", total.Round(100*time.Millisecond))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
