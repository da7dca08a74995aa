package handlers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Per-user limits on destructive actions. They are not about load (Auth0
// has its own limits) but about damage: a stolen session, a stuck script or
// a confused user should not be able to strip an account or burn through
// recovery codes quickly.
const (
	limitWindow                = 10 * time.Minute
	maxRegenerationsPerWindow  = 3
	maxFactorRemovalsPerWindow = 10
	// maxPreSessionsPerWindow bounds the iframe sign-ins one address may
	// start, so open pre-sessions cannot be piled up in memory or Redis. It
	// is generous: a whole office may share one address.
	maxPreSessionsPerWindow = 300

	redisLimitKeyPrefix = "mfaportal:limit:"
)

// limitedAction is a destructive action counted per user.
type limitedAction string

const (
	actionRegenerate   limitedAction = "regenerate-recovery-code"
	actionRemoveFactor limitedAction = "remove-factor"
	// actionStartPreSession is counted per client address, not per user:
	// nobody is signed in yet.
	actionStartPreSession limitedAction = "start-embed-sign-in"
)

// max is how many times a user may do the action per limitWindow.
func (a limitedAction) max() int {
	switch a {
	case actionRegenerate:
		return maxRegenerationsPerWindow
	case actionStartPreSession:
		return maxPreSessionsPerWindow
	}
	return maxFactorRemovalsPerWindow
}

// actionLimiter counts a user's attempts at an action in a fixed window that
// starts at the first attempt. allow counts this attempt and returns how long
// to wait when it is over the limit (zero when allowed).
type actionLimiter interface {
	allow(ctx context.Context, action limitedAction, sub string) (wait time.Duration, err error)
}

var (
	_ actionLimiter = (*memoryLimiter)(nil)
	_ actionLimiter = (*redisLimiter)(nil)
)

// limitExceeded is returned by a handler when the user is over a limit; the
// error page explains the wait.
type limitExceeded struct {
	action limitedAction
	wait   time.Duration
}

func (e *limitExceeded) Error() string {
	return fmt.Sprintf("limit of %d %s per %s reached; wait %s", e.action.max(), e.action, limitWindow, e.wait.Round(time.Second))
}

// checkLimit counts one attempt at action by the session's user.
func (p *portal) checkLimit(ctx context.Context, action limitedAction, sub string) error {
	wait, err := p.limits.allow(ctx, action, sub)
	if err != nil {
		return err
	}
	if wait > 0 {
		p.metrics.rateLimited(string(action))
		return &limitExceeded{action: action, wait: wait}
	}
	return nil
}

// memoryLimiter counts in this process: right for a single instance.
type memoryLimiter struct {
	mu      sync.Mutex
	now     func() time.Time
	windows map[string]limitWindowCount
}

type limitWindowCount struct {
	count int
	ends  time.Time
}

func newMemoryLimiter(now func() time.Time) *memoryLimiter {
	return &memoryLimiter{now: now, windows: map[string]limitWindowCount{}}
}

func (l *memoryLimiter) allow(_ context.Context, action limitedAction, sub string) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	key := string(action) + "\x00" + sub
	w, ok := l.windows[key]
	if !ok || !now.Before(w.ends) {
		w = limitWindowCount{ends: now.Add(limitWindow)}
		l.prune(now)
	}
	w.count++
	l.windows[key] = w
	if w.count > action.max() {
		return w.ends.Sub(now), nil
	}
	return 0, nil
}

// prune drops ended windows, so the map holds only users active in the last
// window. It runs when a window starts, which bounds its cost by the
// number of active users.
func (l *memoryLimiter) prune(now time.Time) {
	for k, w := range l.windows {
		if !now.Before(w.ends) {
			delete(l.windows, k)
		}
	}
}

// redisLimiter counts in Redis, so a limit reached through one replica holds
// on all of them. The script makes count and expiry one atomic step: a crash
// between INCR and PEXPIRE cannot leave a counter that never expires.
type redisLimiter struct {
	rdb    redis.UniversalClient
	script *redis.Script
}

const limitScript = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`

func newRedisLimiter(rdb redis.UniversalClient) *redisLimiter {
	return &redisLimiter{rdb: rdb, script: redis.NewScript(limitScript)}
}

func (l *redisLimiter) allow(ctx context.Context, action limitedAction, sub string) (time.Duration, error) {
	key := redisLimitKeyPrefix + string(action) + ":" + sub
	res, err := l.script.Run(ctx, l.rdb, []string{key}, limitWindow.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, storeDown("counting "+string(action), err)
	}
	if len(res) != 2 {
		return 0, storeDown("counting "+string(action), fmt.Errorf("unexpected script reply %v", res))
	}
	if int(res[0]) > action.max() {
		return time.Duration(res[1]) * time.Millisecond, nil
	}
	return 0, nil
}
