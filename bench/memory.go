package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// memoryResult is one portal process before and after many sign-ins.
type memoryResult struct {
	name          string
	signIn        signInResult
	before, after int64 // RSS after the child collected its garbage
	visited       bool  // each sign-in was followed by one GET /factors
	// settled is the RSS once what lapses within a minute has (each user's
	// cached details and view count), after settle; 0 when not measured.
	settled int64
	settle  time.Duration
	err     error
}

// settledPerUsers is what stays per n users once the minute has passed.
func (m memoryResult) settledPerUsers(n int) int64 {
	if m.signIn.ok == 0 || m.settled == 0 {
		return 0
	}
	return (m.settled - m.before) * int64(n) / int64(m.signIn.ok)
}

// perUsers is the RSS growth per n signed-in users.
func (m memoryResult) perUsers(n int) int64 {
	if m.signIn.ok == 0 {
		return 0
	}
	return (m.after - m.before) * int64(n) / int64(m.signIn.ok)
}

// measureMemory signs o.memUsers users in to the portal process p, each of
// whom then views /factors once when visit (cookies are not kept: a
// browser holds them, not the server), and reads p's RSS before and after, each time
// after p collected its garbage and returned free pages to the OS. The
// tenant runs in the bench's own process: its SSO sessions are not in the
// figure.
func measureMemory(ctx context.Context, e *env, p *process, limit time.Duration, o options, visit bool) memoryResult {
	res := memoryResult{name: p.name}
	read := func() int64 {
		if err := p.control("/gc"); err != nil && res.err == nil {
			res.err = err
		}
		rss, err := p.rss()
		if err != nil && res.err == nil {
			res.err = err
		}
		return rss
	}
	res.before = read()
	res.signIn = signInAll(ctx, e, signInPlan{portal: p.url, n: o.memUsers, pool: o.signInPool, limit: limit, visit: visit})
	res.visited = visit
	res.after = read()
	if o.settle > 0 && ctx.Err() == nil {
		// Wait out the minute, then one more sign-in: any write lets the
		// state store sweep what lapsed.
		select {
		case <-ctx.Done():
			return res
		case <-time.After(o.settle):
		}
		signInAll(ctx, e, signInPlan{portal: p.url, n: 1, pool: 1, limit: limit})
		res.settled, res.settle = read(), o.settle
	}
	return res
}

// readRSSOf reads VmRSS from a /proc/PID/status file (Linux).
func readRSSOf(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		return kb * 1024, err
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmRSS in %s", path)
}
