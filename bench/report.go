package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"mfaportal/authmethods"
)

// report prints each section as soon as it is measured, so a long or
// interrupted run still shows what it found.
type report struct {
	w io.Writer
}

func (r *report) printf(format string, args ...any) { fmt.Fprintf(r.w, format, args...) }

func (r *report) header(o options, e *env) {
	r.printf("mfaportal benchmark: the portal against a minimal BFF baseline and an oauth2-proxy peer\n")
	r.printf("%s %s/%s, %d CPUs, GOMAXPROCS %d (each process). The tenant emulator and the load client share the bench's process;\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	r.printf("each side runs as its own process (")
	for i, p := range e.processes() {
		if i > 0 {
			r.printf(", ")
		}
		r.printf("%s pid %d", p.name, p.cmd.Process.Pid)
	}
	r.printf("), all on the same CPUs.\n")
	r.printf("%d virtual users; concurrencies %v; per concurrency, each side is measured for %s in all, in slices of %s,\n", o.users, o.concurrencies, o.duration, sliceLength)
	r.printf("the sides alternating (after %s of warm-up each), so outside load hits all alike. Requests offer \"%s\", as a browser does.\n\n", o.warmup, browserAcceptEncoding)
}

func (r *report) signIns(label string, s signInResult) {
	r.printf("Sign-in (%s): %d of %d signed in through the real flow (its start, the tenant's login + OTP, its callback) in %s (%d failed)",
		label, s.ok, s.total, s.elapsed.Round(time.Millisecond), s.failed)
	if s.firstErr != nil {
		r.printf("; first error: %v", s.firstErr)
	}
	r.printf("\n")
}

func (r *report) loadTable(sides []side, rows []loadRow) {
	r.printf("\nThroughput: GET /factors on the portal (session, MFA API call, cached Management API details, HTML page, compressed);\n")
	r.printf("the peer's page (oauth2-proxy's session cookie, then its app's one upstream call, JSON); the baseline's (fixed token, one call, JSON)\n")
	tw := tabwriter.NewWriter(r.w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "conc\t")
	for _, s := range sides {
		fmt.Fprintf(tw, "%s req/s\tp50\tp99\t", s.name)
	}
	for _, s := range sides[:len(sides)-1] {
		fmt.Fprintf(tw, "ratio %s\t", s.name)
	}
	fmt.Fprintln(tw, "MFA/view\tMgmt/view\tJWKS\tM2M token\terrors\t")
	for _, row := range rows {
		fmt.Fprintf(tw, "%d\t", row.concurrency)
		base := row.stats[len(row.stats)-1]
		errs := make([]string, len(row.stats))
		var jwks, tokens int
		for i, st := range row.stats {
			fmt.Fprintf(tw, "%.0f\t%s\t%s\t", st.rps(), ms(st.p50), ms(st.p99))
			errs[i] = fmt.Sprint(st.errors)
			jwks += st.jwks
			tokens += st.tokenCalls
		}
		for _, st := range row.stats[:len(row.stats)-1] {
			fmt.Fprintf(tw, "%.2f\t", ratio(st.rps(), base.rps()))
		}
		p := row.stats[0]
		fmt.Fprintf(tw, "%.3f\t%.4f\t%d\t%d\t%s\t\n", p.upstreamPerView(), p.methodsPerView(), jwks, tokens, strings.Join(errs, "/"))
	}
	_ = tw.Flush()
	r.printf("  ratio = req/s / the baseline's req/s in the same row; MFA/view and Mgmt/view = the tenant's GET /mfa/authenticators and\n")
	r.printf("  GET …/authentication-methods calls per portal view (the per-user details cache lives %s); JWKS and M2M token = tenant\n", authmethods.Lifetime)
	r.printf("  calls during the whole row; errors = non-200 or transport errors, per side.\n")
	for _, row := range rows {
		for i, st := range row.stats {
			if st.firstErr != "" {
				r.printf("  first error at concurrency %d (%s): %s\n", row.concurrency, sides[i].name, st.firstErr)
			}
		}
	}
	for i, s := range sides[:len(sides)-1] {
		worst, worstConc := 0.0, 0
		for _, row := range rows {
			if q := ratio(row.stats[i].rps(), row.stats[len(row.stats)-1].rps()); worstConc == 0 || q < worst {
				worst, worstConc = q, row.concurrency
			}
		}
		r.printf("  %s: %.2f of the baseline's throughput at worst (concurrency %d)\n", s.name, worst, worstConc)
	}
	r.printf("\n")
}

// cpuTable is each side's own CPU time per view, read off its processes,
// and the bench process's (tenant and load client) during its slices.
func (r *report) cpuTable(sides []side, rows []loadRow) {
	r.printf("CPU per view, each side's own processes (utime + stime from /proc/PID/stat over its slices / its requests), and bytes per view\n")
	tw := tabwriter.NewWriter(r.w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "conc\t")
	for _, s := range sides {
		fmt.Fprintf(tw, "%s\t", s.name)
	}
	fmt.Fprint(tw, "tenant + load client\t")
	for _, s := range sides {
		fmt.Fprintf(tw, "%s idle\t", s.name)
	}
	for _, s := range sides {
		fmt.Fprintf(tw, "%s B/view\t", s.name)
	}
	fmt.Fprintln(tw)
	for _, row := range rows {
		fmt.Fprintf(tw, "%d\t", row.concurrency)
		var bench time.Duration
		var n int
		for _, st := range row.stats {
			fmt.Fprintf(tw, "%s\t", us(st.cpuPerView()))
			bench += st.benchCPU
			n += st.requests
		}
		if n > 0 {
			bench /= time.Duration(n)
		}
		fmt.Fprintf(tw, "%s\t", us(bench))
		for _, st := range row.stats {
			fmt.Fprintf(tw, "%.0f%%\t", 100*st.idleShare())
		}
		for _, st := range row.stats {
			fmt.Fprintf(tw, "%d\t", st.bytesPerView())
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
	r.printf("  idle = the machine's CPUs left unused during that side's slices (/proc/stat). (/proc counts CPU in 10 ms ticks:\n")
	r.printf("  over thousands of views per slice, the error is well under 1 µs per view.)\n\n")
}

func (r *report) stages(shares []stageShare, err error) {
	r.printf("Where the portal's CPU goes, from its CPU profile over the whole table (each sample to the first stage named on its stack)\n")
	if err != nil {
		r.printf("  profile unavailable: %v\n\n", err)
		return
	}
	tw := tabwriter.NewWriter(r.w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\tshare\tper view\t")
	for _, s := range shares {
		fmt.Fprintf(tw, "%s\t%.1f%%\t%s\t\n", s.name, 100*s.share, us(s.perView))
	}
	_ = tw.Flush()
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

func (r *report) latency(sides []side, l latencyResult) {
	r.printf("With %s injected on the tenant's GET /mfa/authenticators, concurrency %d\n", l.injected, l.concurrency)
	tw := tabwriter.NewWriter(r.w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\treq/s\tp50\tp99\tp99 - injected\terrors\t")
	for i, st := range l.stats {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%d\t\n", sides[i].name, st.rps(), ms(st.p50), ms(st.p99), ms(st.p99-l.injected), st.errors)
	}
	_ = tw.Flush()
	r.printf("\n")
}

func (r *report) memory(m memoryResult) {
	r.printf("Memory of the portal's own process (cookie sessions), RSS after it collected its garbage and returned free pages\n")
	r.memoryLines(m)
	r.printf("  In cookie mode the portal keeps no session (the session is the sealed cookie, held by the browser). What grows is\n")
	r.printf("  bounded or lapses: the opened-seal and decoded-details caches (at most 1,024 entries each, about 2.5 MB together),\n")
	r.printf("  each user's cached details and view count (a minute), each sign-in's spent round-trip mark (15 minutes), and\n")
	r.printf("  a sign-out's revocation entry (until the cookie would have expired).\n\n")
}

func (r *report) memoryLines(m memoryResult) {
	s := m.signIn
	then := ""
	if m.visited {
		then = ", each followed by one GET /factors,"
	}
	r.printf("  sign-ins: %d of %d%s in %s (%d failed, %.0f sign-ins/s)", s.ok, s.total, then, s.elapsed.Round(time.Millisecond), s.failed, float64(s.ok)/max(s.elapsed.Seconds(), 0.001))
	if s.timedOut {
		r.printf("; stopped at the -memtimeout limit")
	}
	if s.firstErr != nil {
		r.printf("; first error: %v", s.firstErr)
	}
	r.printf("\n")
	if m.err != nil {
		r.printf("  memory unavailable: %v\n", m.err)
		return
	}
	r.printf("  RSS before %s, after %s: %+d B per 10,000 signed-in users\n", mb(m.before), mb(m.after), m.perUsers(10000))
	if m.settled > 0 {
		r.printf("  %s later, once what lasts a minute has lapsed (and a write let the store sweep it): RSS %s, %+d B per 10,000 users\n",
			m.settle, mb(m.settled), m.settledPerUsers(10000))
	}
}

func (r *report) redis(x redisResult) {
	r.printf("Redis-backed sessions (REDIS_URL set: the cookie holds a random id, the sealed session is a Redis key)\n")
	if x.skipped != "" {
		r.printf("  Redis: %s\n\n", x.skipped)
		return
	}
	r.memoryLines(x.mem)
	if x.infoErr != nil {
		r.printf("  Redis INFO failed: %v\n\n", x.infoErr)
		return
	}
	r.printf("  Redis used_memory: before %d B, after %d B, keys %d\n", x.before, x.after, x.keys)
	if x.mem.signIn.ok > 0 {
		r.printf("  Redis memory per session: %d B (target: under 2048 B) = (used_memory after - before) / sessions\n", x.perSession())
	}
	r.printf("\n")
}

func (r *report) footer(total time.Duration) {
	r.printf("Allocations per request of the list handler: go test -run '^$' -bench BenchmarkFactorsPage -benchmem ./handlers\n")
	r.printf("Total run time: %s\n", total.Round(100*time.Millisecond))
}

func us(d time.Duration) string { return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
