package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// memSample is the process's memory at one moment, after a full collection.
type memSample struct {
	rssBytes  int64
	heapAlloc uint64 // live heap objects
	heapSys   uint64 // heap memory obtained from the OS
	rssErr    error
}

// memoryResult is the process before and after signing in many users.
type memoryResult struct {
	signIn        signInResult
	before, after memSample
}

// measureMemory signs users in (cookies are not kept: a browser holds them,
// not the server) and samples the process before and after. The process also
// holds the emulated tenant, which keeps one SSO session per sign-in, so the
// growth is an upper bound on what the portal keeps.
func measureMemory(ctx context.Context, e *env, o options) memoryResult {
	var res memoryResult
	res.before = sampleMemory()
	res.signIn = signInAll(ctx, e, o.memUsers, o.signInPool, o.memTimeout, false)
	res.after = sampleMemory()
	return res
}

// sampleMemory collects garbage and returns freed pages to the OS first, so
// RSS shows what is live rather than what the last load run left behind.
func sampleMemory() memSample {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, err := readRSS()
	return memSample{rssBytes: rss, heapAlloc: ms.HeapAlloc, heapSys: ms.HeapSys, rssErr: err}
}

// readRSS reads VmRSS from /proc/self/status (Linux).
func readRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
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
	return 0, fmt.Errorf("no VmRSS in /proc/self/status")
}
