package handlers

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
)

// startRedis runs a throw-away redis-server without persistence. Without one
// on PATH the test is skipped locally and fails in CI, which installs it.
func startRedis(t *testing.T) *redis.Client {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed; .ci/run installs Debian's redis-server")
		}
		t.Skip("redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), DisableIdentity: true})
	t.Cleanup(func() { rdb.Close() })
	deadline := time.Now().Add(5 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return rdb
}

func requestWith(cookies []*http.Cookie) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range cookies {
		if c.MaxAge >= 0 {
			req.AddCookie(c)
		}
	}
	return req
}

func TestRedisSessions(t *testing.T) {
	rdb := startRedis(t)
	ctx := context.Background()
	keys := [][]byte{[]byte(strings.Repeat("k", 32))}
	store, err := newRedisSessionStore(keys, time.Now, rdb)
	if err != nil {
		t.Fatal(err)
	}

	sess, err := store.regenerate(httptest.NewRequest(http.MethodGet, "/callback", nil))
	if err != nil {
		t.Fatal(err)
	}
	sess.Sub = "auth0|alice"
	sess.AccessToken = strings.Repeat("a", 1400)
	sess.TokenExpiry = time.Now().Add(10 * time.Minute).Truncate(time.Second)
	rec := httptest.NewRecorder()
	if err := store.save(rec, httptest.NewRequest(http.MethodGet, "/callback", nil), sess); err != nil {
		t.Fatal(err)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != sessionCookieName || !cookies[0].Secure || !cookies[0].HttpOnly ||
		cookies[0].SameSite != http.SameSiteLaxMode || cookies[0].Path != "/" || cookies[0].MaxAge != int(sessionCookieLifetime/time.Second) {
		t.Fatalf("cookie = %+v, want %s with the session cookie's attributes", cookies, sessionCookieName)
	}
	if raw, err := base64URLLen(cookies[0].Value); err != nil || raw < 16 {
		t.Errorf("cookie value %q is not an opaque id of at least 128 bits", cookies[0].Value)
	}

	// In Redis: one key named by the id's hash, sealed, expiring with the cookie.
	found, _ := rdb.Keys(ctx, redisSessionKeyPrefix+"*").Result()
	if len(found) != 1 || strings.Contains(found[0], cookies[0].Value) {
		t.Fatalf("keys = %v, want one, not containing the cookie's id", found)
	}
	if v, _ := rdb.Get(ctx, found[0]).Result(); strings.Contains(v, "aaaa") || strings.Contains(v, "alice") {
		t.Error("the Redis value holds the session fields in clear")
	}
	if ttl := rdb.TTL(ctx, found[0]).Val(); ttl <= sessionCookieLifetime-time.Minute || ttl > sessionCookieLifetime {
		t.Errorf("TTL = %s, want about %s", ttl, sessionCookieLifetime)
	}

	// Another store on the same Redis and keys (another replica) loads it.
	replica, _ := newRedisSessionStore(keys, time.Now, rdb)
	got, err := replica.load(requestWith(cookies))
	if err != nil || got == nil || got.Sub != sess.Sub || got.AccessToken != sess.AccessToken ||
		!got.TokenExpiry.Equal(sess.TokenExpiry) || got.CSRFToken != sess.CSRFToken || got.ID != sess.ID {
		t.Fatalf("replica loaded %+v, %v", got, err)
	}
	// Keys not configured on the replica: no session.
	other, _ := newRedisSessionStore([][]byte{[]byte(strings.Repeat("n", 32))}, time.Now, rdb)
	if us, err := other.load(requestWith(cookies)); us != nil || err != nil {
		t.Errorf("a store without the key loaded %+v, %v", us, err)
	}
	// A made-up id is no session.
	forged := []*http.Cookie{{Name: sessionCookieName, Value: strings.Repeat("A", 43)}}
	if us, err := replica.load(requestWith(forged)); us != nil || err != nil {
		t.Errorf("a forged id loaded %+v, %v", us, err)
	}

	// Sign-out on the replica ends it here too; a late save cannot revive it.
	if err := replica.destroy(httptest.NewRecorder(), requestWith(cookies), got); err != nil {
		t.Fatal(err)
	}
	if us, err := store.load(requestWith(cookies)); us != nil || err != nil {
		t.Errorf("a destroyed session loaded %+v, %v", us, err)
	}
	sess.Flash = flashRemoved
	if err := store.save(httptest.NewRecorder(), requestWith(cookies), sess); !errors.Is(err, errSessionEnded) {
		t.Errorf("saving a destroyed session: %v, want errSessionEnded", err)
	}
	if n := rdb.DBSize(ctx).Val(); n != 0 {
		t.Errorf("%d keys left after sign-out, want 0", n)
	}

	// Sign-in again replaces the previous session: the old key goes.
	first, _ := store.regenerate(httptest.NewRequest(http.MethodGet, "/", nil))
	rec = httptest.NewRecorder()
	if err := store.save(rec, httptest.NewRequest(http.MethodGet, "/", nil), first); err != nil {
		t.Fatal(err)
	}
	second, err := store.regenerate(requestWith(rec.Result().Cookies()))
	if err != nil || second.ID == first.ID {
		t.Fatalf("regenerate: %v, same id %v", err, second.ID == first.ID)
	}
	if us, _ := store.load(requestWith(rec.Result().Cookies())); us != nil {
		t.Error("the session before sign-in still loads")
	}
}

func base64URLLen(s string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return len(b), err
}

func TestRedisLimiterSharedAndAtomic(t *testing.T) {
	rdb := startRedis(t)
	ctx := context.Background()
	a, b := newRedisLimiter(rdb), newRedisLimiter(rdb)
	for i := 1; i <= maxRegenerationsPerWindow; i++ {
		l := a
		if i%2 == 0 {
			l = b
		}
		if wait, err := l.allow(ctx, actionRegenerate, "auth0|alice"); err != nil || wait != 0 {
			t.Fatalf("attempt %d: wait %s, err %v", i, wait, err)
		}
	}
	wait, err := b.allow(ctx, actionRegenerate, "auth0|alice")
	if err != nil || wait <= limitWindow-time.Minute || wait > limitWindow {
		t.Errorf("over the limit through the other replica: wait %s, err %v; want about %s", wait, err, limitWindow)
	}
	if wait, _ := a.allow(ctx, actionRemoveFactor, "auth0|alice"); wait != 0 {
		t.Error("removals were limited by regenerations")
	}
	key := redisLimitKeyPrefix + string(actionRegenerate) + ":auth0|alice"
	if ttl := rdb.TTL(ctx, key).Val(); ttl <= 0 {
		t.Errorf("counter TTL = %s, want it to expire", ttl)
	}
}

func TestRedisDownIsStoreDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DisableIdentity: true})
	defer rdb.Close()
	store, err := newRedisSessionStore([][]byte{[]byte(strings.Repeat("k", 32))}, time.Now, rdb)
	if err != nil {
		t.Fatal(err)
	}
	cookie := []*http.Cookie{{Name: sessionCookieName, Value: randomToken(redisSessionIDBytes)}}
	if _, err := store.load(requestWith(cookie)); !errors.Is(err, errSessionStoreDown) {
		t.Errorf("load: %v, want errSessionStoreDown", err)
	}
	if _, err := newRedisLimiter(rdb).allow(context.Background(), actionRegenerate, "auth0|alice"); !errors.Is(err, errSessionStoreDown) {
		t.Errorf("limiter: %v, want errSessionStoreDown", err)
	}
	p := &portal{}
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/factors", nil), httptest.NewRecorder())
	if pe := p.toPageError(c, storeDown("loading the session", errors.New("connection refused"))); pe.Status != http.StatusServiceUnavailable || !strings.Contains(pe.Heading, "temporarily unavailable") {
		t.Errorf("page = %d %q, want 503 temporarily unavailable", pe.Status, pe.Heading)
	}
}
