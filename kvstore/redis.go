package kvstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// keyPrefix namespaces the portal's keys in a shared Redis.
const keyPrefix = "mfaportal:"

// Redis keeps the state in Redis, shared by every replica and kept across
// restarts (as far as the Redis itself persists).
type Redis struct {
	rdb   redis.UniversalClient
	count *redis.Script
}

var _ Store = (*Redis)(nil)

// NewRedis uses rdb; every key it writes starts with "mfaportal:".
func NewRedis(rdb redis.UniversalClient) *Redis {
	return &Redis{rdb: rdb, count: redis.NewScript(countScript)}
}

// countScript makes count and expiry one atomic step: a crash between INCR
// and PEXPIRE cannot leave a counter that never expires.
const countScript = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`

// unavailable marks a Redis failure. go-redis errors name the address,
// never the password.
func unavailable(doing string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, doing, err)
}

func (s *Redis) Get(ctx context.Context, keys ...string) ([][]byte, error) {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = keyPrefix + k
	}
	vals, err := s.rdb.MGet(ctx, full...).Result()
	if err != nil {
		return nil, unavailable("reading", err)
	}
	out := make([][]byte, len(keys))
	for i, v := range vals {
		if str, ok := v.(string); ok {
			out[i] = []byte(str)
		}
	}
	return out, nil
}

func (s *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration, mode SetMode) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("kvstore: no lifetime for %q", key)
	}
	args := redis.SetArgs{TTL: ttl}
	switch mode {
	case IfAbsent:
		args.Mode = "NX"
	case IfPresent:
		args.Mode = "XX"
	}
	err := s.rdb.SetArgs(ctx, keyPrefix+key, value, args).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, unavailable("writing", err)
	}
	return true, nil
}

func (s *Redis) Take(ctx context.Context, key string) ([]byte, error) {
	v, err := s.rdb.GetDel(ctx, keyPrefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable("taking", err)
	}
	return v, nil
}

func (s *Redis) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = keyPrefix + k
	}
	if err := s.rdb.Del(ctx, full...).Err(); err != nil {
		return unavailable("deleting", err)
	}
	return nil
}

func (s *Redis) Count(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error) {
	if window <= 0 {
		return 0, 0, fmt.Errorf("kvstore: no window for %q", key)
	}
	res, err := s.count.Run(ctx, s.rdb, []string{keyPrefix + key}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, 0, unavailable("counting", err)
	}
	if len(res) != 2 {
		return 0, 0, unavailable("counting", fmt.Errorf("unexpected script reply %v", res))
	}
	return res[0], time.Duration(res[1]) * time.Millisecond, nil
}

// Epoch is constant: Redis outlives the process and every replica sees it.
func (s *Redis) Epoch() string { return "" }

func (s *Redis) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Dial connects to redisURL. It does not wait for Redis: the client dials on
// first use and redials after an outage by itself, and pages say
// "temporarily unavailable" meanwhile. Timeouts are short because every page
// waits on Redis. go-redis's own messages (its redials) go to logger.
func Dial(redisURL string, logger *slog.Logger) (redis.UniversalClient, error) {
	// go-redis logs through one process-wide logger; send its lines to ours,
	// as JSON like every other, instead of bare stderr.
	redis.SetLogger(redisLogger{log: logger})
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		// go-redis's message could quote the URL, which may hold a password.
		return nil, errors.New("kvstore: REDIS_URL is not usable by the Redis client")
	}
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = time.Second
	opts.WriteTimeout = time.Second
	opts.MaxRetries = 1
	opts.DialerRetries = 2 // while Redis is down, fail the page fast
	// Plain Redis (Debian's, a managed instance) needs neither client
	// identification nor Redis Enterprise's maintenance notifications; both
	// only add handshake noise in the logs of older servers.
	opts.DisableIdentity = true
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return redis.NewClient(opts), nil
}

// redisLogger passes go-redis's own messages (redials while Redis is down)
// to the portal's log. They name the server's address, never a password.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client", slog.String("detail", fmt.Sprintf(format, v...)))
}
