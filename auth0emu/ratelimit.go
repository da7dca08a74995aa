package auth0emu

import (
	"sync"
	"time"
)

// defaultRateLimit is high enough that no functional test or benchmark
// reaches it, yet every response still carries Auth0's headers.
var defaultRateLimit = RateLimit{Limit: 10_000_000, Window: time.Minute}

// rateLimiter is a fixed-window counter per route, tenant-wide as Auth0's
// per-endpoint limits are.
type rateLimiter struct {
	now     func() time.Time
	windows map[string]*rateWindow // fixed set of routes; the map is never written after New
	limits  map[string]RateLimit
}

type rateWindow struct {
	mu    sync.Mutex
	start time.Time
	count int
}

func newRateLimiter(limits map[string]RateLimit, now func() time.Time) *rateLimiter {
	rl := &rateLimiter{now: now, windows: map[string]*rateWindow{}, limits: map[string]RateLimit{}}
	for route, l := range limits {
		if l.Limit > 0 && l.Window > 0 {
			rl.limits[route] = l
		}
	}
	return rl
}

// register prepares the window of route; called while building the mux.
func (rl *rateLimiter) register(route string) {
	rl.windows[route] = &rateWindow{}
	if _, ok := rl.limits[route]; !ok {
		rl.limits[route] = defaultRateLimit
	}
}

// rateDecision is the outcome of one call, for the x-ratelimit-* headers.
type rateDecision struct {
	allowed   bool
	limit     int
	remaining int
	reset     time.Time
}

func (rl *rateLimiter) allow(route string) rateDecision {
	l := rl.limits[route]
	win := rl.windows[route]
	now := rl.now()
	win.mu.Lock()
	defer win.mu.Unlock()
	if win.start.IsZero() || !now.Before(win.start.Add(l.Window)) {
		win.start, win.count = now, 0
	}
	reset := win.start.Add(l.Window)
	if win.count >= l.Limit {
		return rateDecision{allowed: false, limit: l.Limit, remaining: 0, reset: reset}
	}
	win.count++
	return rateDecision{allowed: true, limit: l.Limit, remaining: l.Limit - win.count, reset: reset}
}

// exhausted describes an injected 429: nothing left until the window ends.
func (rl *rateLimiter) exhausted(route string) rateDecision {
	l := rl.limits[route]
	return rateDecision{limit: l.Limit, remaining: 0, reset: rl.now().Add(l.Window)}
}
