// Command bench measures the portal against the physical limit of a
// backend-for-frontend on this machine (issue 7).
//
// It starts the emulated tenant and the real portal on loopback, signs in
// virtual users through the real sign-in flow, and drives GET /factors at
// fixed concurrencies next to a baseline: a minimal net/http proxy that makes
// the same single upstream call with a token it already holds. Everything
// runs in one process, so the load client, the tenant, the portal and the
// baseline share the same CPUs; the ratio portal/baseline is the figure that
// holds on a noisy machine.
//
// When redis-server is on PATH it also starts one (no persistence, loopback)
// and a second portal with REDIS_URL set, for Redis memory per session and
// the load on Redis-backed sessions.
//
//	go run ./bench [-users 200] [-duration 5s] [-memusers 10000] [-redisusers 10000] [-latency 50ms]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
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
	attrUsers     int
	redisUsers    int
	redisConc     int
	latency       time.Duration
	latencyConc   int
	cpuProfile    string
	memProfile    string
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
	fs.IntVar(&o.attrUsers, "attrusers", 1000, "sign-ins (of the -memusers users, again) with every allocation recorded, to attribute heap growth to the portal (0 skips)")
	fs.IntVar(&o.redisUsers, "redisusers", 10000, "users signed in to the Redis-backed portal for Redis memory per session (0 skips Redis)")
	fs.IntVar(&o.redisConc, "redis-concurrency", 64, "concurrency of the Redis-backed portal's load run")
	fs.DurationVar(&o.latency, "latency", 0, "if set, also run with this much latency injected on GET /mfa/authenticators")
	fs.IntVar(&o.latencyConc, "latency-concurrency", 64, "concurrency of the -latency run")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the load runs (whole process) to this file")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile after the memory sign-ins to this file")
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
	if o.signInPool < 1 || o.latencyConc < 1 || o.redisConc < 1 {
		problems = append(problems, "-signin-pool, -latency-concurrency and -redis-concurrency must be at least 1")
	}
	if o.attrUsers < 0 {
		problems = append(problems, "-attrusers must not be negative")
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
	env, err := startEnv(ctx, max(opts.users, opts.memUsers, opts.redisUsers), redisURL)
	if err != nil {
		return err
	}
	defer env.close()
	r := &report{w: stdout}
	r.header(opts)

	signed := signInAll(ctx, env, signInPlan{portal: env.portalURL, n: opts.users, pool: opts.signInPool, limit: 2 * time.Minute, keep: true})
	r.signIns("load users", signed)
	cookies := signed.cookieList()
	if len(cookies) == 0 {
		return fmt.Errorf("no user could sign in: %v", signed.firstErr)
	}
	if err := checkFactorsPage(ctx, env, cookies[0]); err != nil {
		return err
	}

	stopProfile, err := startCPUProfile(opts.cpuProfile)
	if err != nil {
		return err
	}
	rows := runLoadTable(ctx, env, cookies, opts)
	if err := stopProfile(); err != nil {
		return err
	}
	r.loadTable(rows)
	r.regeneration(runRegeneration(ctx, env, cookies, opts.signInPool*4))
	weight, err := measurePageWeight(ctx, env, cookies[0])
	if err != nil {
		return err
	}
	r.pageWeight(weight)
	if opts.latency > 0 {
		r.latency(runWithLatency(ctx, env, cookies, opts))
	}
	if opts.memUsers > 0 {
		r.memory(measureMemory(ctx, env, opts))
		if err := writeHeapProfile(opts.memProfile); err != nil {
			return err
		}
	}
	if rs != nil {
		r.redis(measureRedis(ctx, env, rs, cookies, opts))
	} else {
		r.redis(redisResult{skipped: redisSkipped})
	}
	r.footer(time.Since(started))
	return ctx.Err()
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

// startCPUProfile profiles the process into path until the returned func is
// called; an empty path profiles nothing.
func startCPUProfile(path string) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// writeHeapProfile writes the live heap to path; an empty path writes nothing.
func writeHeapProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
