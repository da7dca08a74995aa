package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a throwaway redis-server subprocess on a loopback port,
// with persistence off: it holds the Redis-backed portal's sessions for the
// length of the run and nothing else.
type redisServer struct {
	url    string
	cmd    *exec.Cmd
	dir    string
	client *redis.Client
}

// errNoRedisServer means redis-server is not on PATH: the Redis figures are
// skipped, not failed.
var errNoRedisServer = errors.New("redis-server is not on PATH")

// startRedis starts redis-server and waits until it answers PING. The
// process is killed when ctx ends or stop is called, whichever comes first.
func startRedis(ctx context.Context) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errNoRedisServer
	}
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mfaportal-bench-redis-")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &redisServer{url: fmt.Sprintf("redis://127.0.0.1:%d/0", port), cmd: cmd, dir: dir}
	s.client = redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), DisableIdentity: true})
	if err := s.waitReady(ctx, 10*time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// freeLoopbackPort asks the kernel for a free port. Another process could
// take it before redis-server binds; then startup fails and says so.
func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *redisServer) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		err := s.client.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("redis-server did not answer PING within %s: %w", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop kills the subprocess, reaps it and removes its directory.
func (s *redisServer) stop() {
	_ = s.client.Close()
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	_ = os.RemoveAll(s.dir)
}

// usedMemory is INFO memory's used_memory: the bytes Redis's allocator holds.
func (s *redisServer) usedMemory(ctx context.Context) (int64, error) {
	info, err := s.client.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	return infoField(info, "used_memory")
}

// infoField reads one integer field of an INFO reply.
func infoField(info, name string) (int64, error) {
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), name+":")
		if ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in INFO", name)
}

// redisResult is the Redis-backed portal's memory: in Redis per session,
// and in its own process.
type redisResult struct {
	skipped       string // why there are no figures, or ""
	mem           memoryResult
	before, after int64 // used_memory
	keys          int64 // DBSIZE after the sign-ins
	infoErr       error
}

// measureRedis signs o.redisUsers users in to the Redis-backed portal p
// and reads Redis's used_memory and p's RSS before and after.
func measureRedis(ctx context.Context, e *env, rs *redisServer, p *process, o options) redisResult {
	var res redisResult
	var err error
	if res.before, err = rs.usedMemory(ctx); err != nil {
		res.infoErr = err
		return res
	}
	// Sign-ins alone, as the Redis figure has always been taken: a view
	// would add the user's cached details (about 1 KB, for a minute).
	res.mem = measureMemory(ctx, e, p, o.memTimeout, options{memUsers: o.redisUsers, signInPool: o.signInPool}, false)
	if res.after, err = rs.usedMemory(ctx); err != nil {
		res.infoErr = err
		return res
	}
	if res.keys, err = rs.client.DBSize(ctx).Result(); err != nil {
		res.infoErr = err
	}
	return res
}

// perSession is the growth of used_memory per signed-in session.
func (r redisResult) perSession() int64 {
	if r.mem.signIn.ok == 0 {
		return 0
	}
	return (r.after - r.before) / int64(r.mem.signIn.ok)
}
