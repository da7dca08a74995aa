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

// memoryResult is the process before and after signing in many users, and
// the live heap growth of a second, smaller batch split by allocating code.
type memoryResult struct {
	signIn        signInResult
	before, after memSample
	tracked       signInResult
	growth        heapGrowth
}

// measureMemory signs users in, each of whom then views /factors once
// (cookies are not kept: a browser holds them, not the server), and samples
// the process before and after. The process also holds the emulated tenant,
// which keeps one SSO session per sign-in, so the whole-process growth is an
// upper bound on what the portal keeps. A second batch of o.attrUsers
// sign-ins then runs with every allocation recorded, to isolate the
// portal's share of the heap growth; it is separate because recording
// slows the sign-ins about fivefold.
func measureMemory(ctx context.Context, e *env, o options) memoryResult {
	var res memoryResult
	res.before = sampleMemory()
	res.signIn = signInAll(ctx, e, signInPlan{portal: e.portalURL, n: o.memUsers, pool: o.signInPool, limit: o.memTimeout, visit: true})
	res.after = sampleMemory()
	if o.attrUsers == 0 {
		return res
	}
	tracker := startHeapTracking()
	defer tracker.stop()
	base := tracker.snapshot()
	res.tracked = signInAll(ctx, e, signInPlan{portal: e.portalURL, n: min(o.attrUsers, o.memUsers), pool: o.signInPool, limit: o.memTimeout, visit: true})
	res.growth = tracker.snapshot().minus(base)
	return res
}

// heapGrowth is live heap bytes by the code that allocated them.
type heapGrowth struct {
	portal, tenant, client, other int64
}

func (g heapGrowth) minus(o heapGrowth) heapGrowth {
	return heapGrowth{g.portal - o.portal, g.tenant - o.tenant, g.client - o.client, g.other - o.other}
}

// heapTracker records every allocation's stack while it runs, so the live
// heap can be attributed exactly. It is started only for the memory phase,
// after the timed runs: recording every allocation slows the process down.
type heapTracker struct{ previousRate int }

func startHeapTracking() heapTracker {
	t := heapTracker{previousRate: runtime.MemProfileRate}
	runtime.MemProfileRate = 1
	return t
}

func (t heapTracker) stop() { runtime.MemProfileRate = t.previousRate }

// snapshot sums the profile's in-use bytes by allocating code. The profile
// is as of the last completed collection, hence two collections first. Only
// the difference of two snapshots is meaningful: objects allocated before
// tracking began were sampled, so their records are partial.
func (heapTracker) snapshot() heapGrowth {
	runtime.GC()
	runtime.GC()
	var records []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, true)
	for {
		records = make([]runtime.MemProfileRecord, n+64)
		var ok bool
		n, ok = runtime.MemProfile(records, true)
		if ok {
			records = records[:n]
			break
		}
	}
	var g heapGrowth
	for _, r := range records {
		switch allocatedBy(r.Stack()) {
		case ownerPortal:
			g.portal += r.InUseBytes()
		case ownerTenant:
			g.tenant += r.InUseBytes()
		case ownerClient:
			g.client += r.InUseBytes()
		default:
			g.other += r.InUseBytes()
		}
	}
	return g
}

type owner int

const (
	ownerOther owner = iota
	ownerPortal
	ownerTenant
	ownerClient
)

// allocatedBy names the code an allocation stack belongs to: the tenant
// emulator (mfaportal/auth0emu), the portal (any other mfaportal package),
// or this command's load client (package main, or mfaportal/bench in tests). What none of them is on the
// stack of (net/http's connection buffers, the runtime) is "other".
func allocatedBy(stack []uintptr) owner {
	frames := runtime.CallersFrames(stack)
	for {
		f, more := frames.Next()
		switch {
		case strings.HasPrefix(f.Function, "mfaportal/auth0emu."):
			return ownerTenant
		case strings.HasPrefix(f.Function, "main."), strings.HasPrefix(f.Function, "mfaportal/bench."):
			// Package main when run, mfaportal/bench when tested.
			return ownerClient
		case strings.HasPrefix(f.Function, "mfaportal/"):
			return ownerPortal
		}
		if !more {
			return ownerOther
		}
	}
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
