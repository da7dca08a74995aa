// Command bench measures the portal against the physical limit of a
// backend-for-frontend on this machine, and against the session layer
// people would put in front of a small app instead (oauth2-proxy).
//
// The emulated tenant and the load client run in this process; each side
// runs as its own process: the real portal (cookie sessions), the portal
// with REDIS_URL set (when redis-server is on PATH: one is started, no
// persistence, loopback), oauth2-proxy in front of a minimal app that makes
// the same GET /mfa/authenticators with the token it is passed, and a
// baseline: a minimal net/http proxy that makes that call with a token it
// already holds. Users sign in through the real flows; GET /factors (or
// the peer's and baseline's one page) is driven at fixed concurrencies,
// the sides alternating in short slices, so the ratios to the baseline
// hold on a noisy machine. Each side's CPU time is read off its own
// processes, and the portal's is split by stage from its CPU profile.
//
//	go run ./bench [-users 200] [-duration 5s] [-memusers 10000] [-redisusers 10000] [-latency 50ms] [-peer=false]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) == 3 && os.Args[1] == "-child" {
		if err := runChild(ctx, os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		return
	}
	err := run(ctx, os.Args[1:], os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	users         int
	duration      time.Duration
	warmup        time.Duration
	concurrencies []int
	signInPool    int
	memUsers      int
	memTimeout    time.Duration
	redisUsers    int
	latency       time.Duration
	latencyConc   int
	peer          bool
	floor         bool
	profileDir    string
	settle        time.Duration
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var conc string
	fs.IntVar(&o.users, "users", 200, "virtual users signed in for the load runs and the regeneration run")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured time per concurrency and per target")
	fs.DurationVar(&o.warmup, "warmup", 300*time.Millisecond, "unmeasured warm-up before each measured run")
	fs.StringVar(&conc, "concurrency", "1,16,64,256", "comma-separated concurrencies")
	fs.IntVar(&o.signInPool, "signin-pool", 16, "concurrent sign-ins")
	fs.IntVar(&o.memUsers, "memusers", 10000, "users signed in for the memory figure (0 skips it)")
	fs.DurationVar(&o.memTimeout, "memtimeout", 90*time.Second, "time limit for the memory sign-ins (and for the Redis ones)")
	fs.IntVar(&o.redisUsers, "redisusers", 10000, "users signed in to the Redis-backed portal for its memory figures (0 skips Redis)")
	fs.DurationVar(&o.latency, "latency", 0, "if set, also run with this much latency injected on GET /mfa/authenticators")
	fs.IntVar(&o.latencyConc, "latency-concurrency", 64, "concurrency of the -latency run")
	fs.BoolVar(&o.peer, "peer", true, "build and measure the oauth2-proxy peer")
	fs.BoolVar(&o.floor, "floor", true, "measure the portal's floor: its session and MFA API call with the page already made")
	fs.DurationVar(&o.settle, "settle", 61*time.Second, "after the memory sign-ins, wait this long (past the per-user details' minute) and read the portal's RSS again (0 skips)")
	fs.StringVar(&o.profileDir, "profiledir", "", "keep the portal's CPU profile of the load runs in this directory (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var problems []string
	for _, s := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 4096 {
			problems = append(problems, fmt.Sprintf("-concurrency: %q is not a number from 1 to 4096", s))
			continue
		}
		o.concurrencies = append(o.concurrencies, n)
	}
	if o.users < 1 || o.users > 100_000 {
		problems = append(problems, "-users: must be from 1 to 100000")
	}
	if o.duration <= 0 || o.warmup < 0 {
		problems = append(problems, "-duration must be positive and -warmup not negative")
	}
	if o.signInPool < 1 || o.latencyConc < 1 {
		problems = append(problems, "-signin-pool and -latency-concurrency must be at least 1")
	}
	if o.redisUsers < 0 || o.redisUsers > 1_000_000 {
		problems = append(problems, "-redisusers: must be from 0 to 1000000")
	}
	if o.memUsers < 0 || o.memUsers > 1_000_000 {
		problems = append(problems, "-memusers: must be from 0 to 1000000")
	}
	if len(problems) > 0 {
		return o, errors.New(strings.Join(problems, "; "))
	}
	return o, nil
}

// run is the whole benchmark; main only wires signals and the exit code.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	opts, err := parseOptions(args, os.Stderr)
	if err != nil {
		return err
	}
	started := time.Now()
	rs, redisSkipped, err := maybeStartRedis(ctx, opts)
	if err != nil {
		return err
	}
	redisURL := ""
	if rs != nil {
		defer rs.stop()
		redisURL = rs.url
	}
	buildDir, err := os.MkdirTemp("", "mfaportal-bench-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(buildDir)
	peerBinary := ""
	if opts.peer {
		if peerBinary, err = buildOAuth2Proxy(ctx, buildDir); err != nil {
			return fmt.Errorf("%w (or run with -peer=false)", err)
		}
	}
	env, err := startEnv(ctx, envPlan{users: max(opts.users, opts.memUsers, opts.redisUsers), redisURL: redisURL, peer: peerBinary})
	if err != nil {
		return err
	}
	defer env.close()
	r := &report{w: stdout}
	r.header(opts, env)

	sides, err := signInSides(ctx, env, r, opts)
	if err != nil {
		return err
	}
	if err := checkFactorsPage(ctx, env, sides[0].cookies[0]); err != nil {
		return err
	}
	profileDir := opts.profileDir
	if profileDir == "" {
		profileDir = buildDir
	}
	profilePath, err := filepath.Abs(filepath.Join(profileDir, "portal.cpu.pprof"))
	if err != nil {
		return err
	}
	if err := env.portal.control("/cpu/start?path=" + url.QueryEscape(profilePath)); err != nil {
		return err
	}
	rows := runLoadTable(ctx, env, sides, opts)
	if err := env.portal.control("/cpu/stop"); err != nil {
		return err
	}
	r.loadTable(sides, rows)
	r.cpuTable(sides, rows)
	shares, err := attributeStages(profilePath, portalCPUPerView(rows))
	r.stages(shares, err)
	r.regeneration(runRegeneration(ctx, env, sides[0].cookies, opts.signInPool*4))
	weight, err := measurePageWeight(ctx, env, sides[0].cookies[0])
	if err != nil {
		return err
	}
	r.pageWeight(weight)
	if opts.latency > 0 {
		r.latency(sides, runWithLatency(ctx, env, sides, opts))
	}
	if opts.memUsers > 0 {
		r.memory(measureMemory(ctx, env, env.portal, opts.memTimeout, opts, true))
	}
	if rs != nil {
		r.redis(measureRedis(ctx, env, rs, env.redisPortal, opts))
	} else {
		r.redis(redisResult{skipped: redisSkipped})
	}
	r.footer(time.Since(started))
	return ctx.Err()
}

// signInSides signs the load users in to each side that has sessions and
// returns the sides in the table's order: the portal, the portal with
// Redis, the peer, the baseline.
func signInSides(ctx context.Context, e *env, r *report, o options) ([]side, error) {
	var sides []side
	add := func(name string, p *process, path string, peer bool, procs ...*process) error {
		s := signInAll(ctx, e, signInPlan{portal: p.url, n: o.users, pool: o.signInPool, limit: 2 * time.Minute, keep: true, peer: peer})
		r.signIns(name, s)
		cookies := s.cookieList()
		if len(cookies) == 0 {
			return fmt.Errorf("no user could sign in to the %s: %v", name, s.firstErr)
		}
		sides = append(sides, side{name: name, url: p.url + path, cookies: cookies, procs: append([]*process{p}, procs...)})
		return nil
	}
	if err := add("portal", e.portal, "/factors", false); err != nil {
		return nil, err
	}
	if e.redisPortal != nil {
		if err := add("portal, Redis", e.redisPortal, "/factors", false); err != nil {
			return nil, err
		}
	}
	if e.peerProxy != nil {
		if err := add("oauth2-proxy peer", e.peerProxy, "/", true, e.peerApp); err != nil {
			return nil, err
		}
	}
	if o.floor {
		page, err := capturePage(ctx, sides[0].url, sides[0].cookies[0])
		if err != nil {
			return nil, err
		}
		var cookies []string
		if e.floor, cookies, err = e.startFloor(ctx, page, o.users); err != nil {
			return nil, err
		}
		r.printf("The portal's floor: the portal's page (%d bytes) and its %d headers; %d sessions sealed by the floor for the same users (cookie %d bytes; the portal's: %d)\n",
			len(page.body), len(page.header), len(cookies), len(cookies[0]), len(sides[0].cookies[0]))
		sides = append(sides, side{name: "portal's floor", url: e.floor.url + "/factors", cookies: cookies, procs: []*process{e.floor}})
	}
	return append(sides, side{name: "baseline", url: e.baseline.url + "/", procs: []*process{e.baseline}}), nil
}

// portalCPUPerView is the portal's CPU per view over the whole table.
func portalCPUPerView(rows []loadRow) time.Duration {
	var cpu time.Duration
	var n int
	for _, row := range rows {
		cpu += row.stats[0].cpu
		n += row.stats[0].requests
	}
	if n == 0 {
		return 0
	}
	return cpu / time.Duration(n)
}

// maybeStartRedis starts redis-server for the Redis figures, unless they are
// switched off or redis-server is not installed; then it says why instead.
func maybeStartRedis(ctx context.Context, o options) (*redisServer, string, error) {
	if o.redisUsers == 0 {
		return nil, "skipped (-redisusers 0)", nil
	}
	rs, err := startRedis(ctx)
	if errors.Is(err, errNoRedisServer) {
		return nil, "skipped: redis-server is not on PATH (Debian: apt-get install redis-server)", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("starting redis-server: %w", err)
	}
	return rs, "", nil
}
