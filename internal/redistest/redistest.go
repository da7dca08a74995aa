// Package redistest starts a throw-away redis-server for tests: no
// persistence, loopback only, stopped when the test ends. Without
// redis-server on PATH the test is skipped locally and fails under CI=true,
// where .ci/run installs it.
package redistest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is one redis-server process on a fixed loopback port, so it can be
// stopped and started again at the same address.
type Server struct {
	t        *testing.T
	bin      string
	port     int
	password string
	cmd      *exec.Cmd
	// Client talks to it directly, for looking at what the portal stored.
	Client *redis.Client
}

// Start runs a redis-server that requires password (empty: none).
func Start(t *testing.T, password string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed; .ci/run installs Debian's redis-server")
		}
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &Server{t: t, bin: bin, port: port, password: password}
	s.Client = redis.NewClient(&redis.Options{Addr: s.Addr(), Password: password, DisableIdentity: true, MaxRetries: -1})
	t.Cleanup(func() {
		s.Client.Close()
		s.Stop()
	})
	s.Begin()
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is the REDIS_URL that reaches it.
func (s *Server) URL() string {
	if s.password == "" {
		return "redis://" + s.Addr() + "/0"
	}
	return "redis://:" + s.password + "@" + s.Addr() + "/0"
}

// Begin starts the process (again) and waits until it answers.
func (s *Server) Begin() {
	s.t.Helper()
	args := []string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}
	if s.password != "" {
		args = append(args, "--requirepass", s.password)
	}
	s.cmd = exec.Command(s.bin, args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Client.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop ends the process; what it held is gone.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// Keys lists the keys matching pattern.
func (s *Server) Keys(pattern string) []string {
	s.t.Helper()
	keys, err := s.Client.Keys(context.Background(), pattern).Result()
	if err != nil {
		s.t.Fatal(err)
	}
	return keys
}
