package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// process is one side's process (or one of them: the oauth2-proxy peer is
// two), started by the bench and read through /proc.
type process struct {
	name  string
	url   string // where it serves
	admin string // its control listener ("" for oauth2-proxy)
	cmd   *exec.Cmd
	exit  chan error
}

// clockTicks is the unit of /proc/PID/stat's times (USER_HZ: 100 on every
// Linux the bench runs on).
const clockTicks = 100

// startChild runs this binary again as side mode, serving on addr (""
// for any free port), with env added to its environment.
func startChild(ctx context.Context, name, mode, addr string, env map[string]string) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if addr == "" {
		if addr, err = reserveAddr(); err != nil {
			return nil, err
		}
	}
	admin, err := reserveAddr()
	if err != nil {
		return nil, err
	}
	vars := []string{"BENCH_ADDR=" + addr, "BENCH_ADMIN=" + admin}
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	p, err := startProcess(ctx, name, self, []string{"-child", mode}, vars, "http://"+addr)
	if err != nil {
		return nil, err
	}
	p.admin = "http://" + admin
	return p, nil
}

// startProcess starts path with args and env (on top of a minimal
// environment: the child reads its configuration from env alone) and waits
// until url answers.
func startProcess(ctx context.Context, name, path string, args, env []string, url string) (*process, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "GOMAXPROCS=" + os.Getenv("GOMAXPROCS"), "GOGC=" + os.Getenv("GOGC")}, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{buf: &stderr, max: 8 << 10}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, url: url, cmd: cmd, exit: make(chan error, 1)}
	go func() { p.exit <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			return p, nil
		}
		select {
		case err := <-p.exit:
			return nil, fmt.Errorf("%s exited before serving: %v: %s", name, err, strings.TrimSpace(stderr.String()))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s did not answer within a minute: %s", name, strings.TrimSpace(stderr.String()))
		}
	}
}

// reserveAddr finds a free loopback port. Another process could take it
// before the child listens; on a bench machine nothing does.
func reserveAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// cpu is the process's user and system CPU time so far.
func (p *process) cpu() (time.Duration, error) { return cpuOfPID(p.cmd.Process.Pid) }

// cpuOfPID reads a process's user and system CPU time from /proc.
func cpuOfPID(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from its ")".
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(fields) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unreadable /proc stat")
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// rss is the process's resident set size.
func (p *process) rss() (int64, error) {
	return readRSSOf(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
}

// control posts to the child's control listener.
func (p *process) control(path string) error {
	if p.admin == "" {
		return nil
	}
	resp, err := http.Post(p.admin+path, "text/plain", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d", p.name, path, resp.StatusCode)
	}
	return nil
}

func (p *process) stop() {
	_ = p.cmd.Process.Kill()
	<-p.exit
}

// limitedWriter keeps the first max bytes: a child's error output, for a
// failure message, without letting a chatty child grow the bench.
type limitedWriter struct {
	buf *bytes.Buffer
	max int
}

func (w *limitedWriter) Write(b []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(b[:min(len(b), room)])
	}
	return len(b), nil
}

// selfCPU is the bench process's own CPU time (the tenant and the load
// client).
func selfCPU() time.Duration {
	d, _ := cpuOfPID(os.Getpid())
	return d
}

// machineIdle is the whole machine's idle time so far (/proc/stat, all
// CPUs): what no process used.
func machineIdle() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait ...
	if len(f) < 6 || f[0] != "cpu" {
		return 0
	}
	idle, err1 := strconv.ParseInt(f[4], 10, 64)
	iowait, err2 := strconv.ParseInt(f[5], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(idle+iowait) * time.Second / clockTicks
}

// cpuOf is the summed CPU time of procs.
func cpuOf(procs []*process) time.Duration {
	var sum time.Duration
	for _, p := range procs {
		if d, err := p.cpu(); err == nil {
			sum += d
		}
	}
	return sum
}
