package kvstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mfaportal/internal/redistest"
)

// testContract is the one suite every Store passes. fresh returns an empty
// store; wait lets its clock (or the real one, for Redis) move on by d.
func testContract(t *testing.T, fresh func(t *testing.T) Store, wait func(d time.Duration)) {
	ctx := context.Background()

	t.Run("set, get, delete", func(t *testing.T) {
		s := fresh(t)
		if ok, err := s.Set(ctx, "a", []byte("1"), time.Minute, Always); !ok || err != nil {
			t.Fatalf("Set: %v %v", ok, err)
		}
		got, err := s.Get(ctx, "a", "missing")
		if err != nil || len(got) != 2 || string(got[0]) != "1" || got[1] != nil {
			t.Fatalf("Get = %q, %v; want [1 nil]", got, err)
		}
		if err := s.Delete(ctx, "a", "missing"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, "a"); got[0] != nil {
			t.Errorf("deleted key reads %q", got[0])
		}
	})

	t.Run("modes", func(t *testing.T) {
		s := fresh(t)
		if ok, _ := s.Set(ctx, "k", []byte("x"), time.Minute, IfPresent); ok {
			t.Error("IfPresent wrote a missing key")
		}
		if ok, _ := s.Set(ctx, "k", []byte("x"), time.Minute, IfAbsent); !ok {
			t.Error("IfAbsent did not write a missing key")
		}
		if ok, _ := s.Set(ctx, "k", []byte("y"), time.Minute, IfAbsent); ok {
			t.Error("IfAbsent overwrote")
		}
		if ok, _ := s.Set(ctx, "k", []byte("z"), time.Minute, IfPresent); !ok {
			t.Error("IfPresent did not write an existing key")
		}
		if got, _ := s.Get(ctx, "k"); string(got[0]) != "z" {
			t.Errorf("k = %q, want z", got[0])
		}
		if _, err := s.Set(ctx, "k", []byte("z"), 0, Always); err == nil {
			t.Error("a write without a lifetime was accepted")
		}
	})

	t.Run("expiry", func(t *testing.T) {
		s := fresh(t)
		s.Set(ctx, "short", []byte("x"), 50*time.Millisecond, Always)
		s.Set(ctx, "long", []byte("y"), time.Hour, Always)
		wait(120 * time.Millisecond)
		got, _ := s.Get(ctx, "short", "long")
		if got[0] != nil || string(got[1]) != "y" {
			t.Errorf("after expiry: %q", got)
		}
		if v, _ := s.Take(ctx, "short"); v != nil {
			t.Error("an expired key was taken")
		}
		if ok, _ := s.Set(ctx, "short", []byte("x"), time.Minute, IfAbsent); !ok {
			t.Error("an expired key counts as present")
		}
	})

	t.Run("take is once under concurrency", func(t *testing.T) {
		s := fresh(t)
		s.Set(ctx, "code", []byte("v"), time.Minute, Always)
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if v, err := s.Take(ctx, "code"); err == nil && string(v) == "v" {
					won.Add(1)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Errorf("%d takers got the value, want exactly 1", won.Load())
		}
	})

	t.Run("IfAbsent is once under concurrency", func(t *testing.T) {
		s := fresh(t)
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if ok, err := s.Set(ctx, "spent", []byte("1"), time.Minute, IfAbsent); ok && err == nil {
					won.Add(1)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Errorf("%d writers won, want exactly 1", won.Load())
		}
	})

	t.Run("count in a window", func(t *testing.T) {
		s := fresh(t)
		for want := int64(1); want <= 3; want++ {
			n, left, err := s.Count(ctx, "c", 100*time.Millisecond)
			if err != nil || n != want || left <= 0 || left > 100*time.Millisecond {
				t.Fatalf("count %d: n=%d left=%s err=%v", want, n, left, err)
			}
		}
		wait(150 * time.Millisecond)
		if n, _, _ := s.Count(ctx, "c", time.Minute); n != 1 {
			t.Errorf("after the window: n=%d, want 1", n)
		}
	})
}

// fakeClock is a clock the memory store's tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestMemoryContract(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	testContract(t, func(*testing.T) Store { return NewMemory(clock.now, 0) }, clock.advance)
}

func TestRedisContract(t *testing.T) {
	srv := redistest.Start(t, "")
	testContract(t, func(t *testing.T) Store {
		srv.Client.FlushAll(context.Background())
		return NewRedis(srv.Client)
	}, time.Sleep)
	if keys := srv.Keys("*"); len(keys) > 0 {
		for _, k := range keys {
			if len(k) < len(keyPrefix) || k[:len(keyPrefix)] != keyPrefix {
				t.Errorf("key %q is outside the mfaportal: namespace", k)
			}
		}
	}
}

func TestMemoryIsBounded(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	m := NewMemory(clock.now, 2000)
	ctx := context.Background()
	for i := range 2000 {
		if _, err := m.Set(ctx, string(rune(0x4e00+i)), nil, time.Minute, Always); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if _, err := m.Set(ctx, "one more", nil, time.Minute, Always); !errors.Is(err, ErrFull) {
		t.Fatalf("write over the limit: %v, want ErrFull", err)
	}
	if _, _, err := m.Count(ctx, "a counter", time.Minute); !errors.Is(err, ErrFull) {
		t.Fatalf("count over the limit: %v, want ErrFull", err)
	}
	// Existing keys can still be rewritten, and expired ones make room.
	if ok, err := m.Set(ctx, string(rune(0x4e00)), []byte("x"), time.Minute, Always); !ok || err != nil {
		t.Errorf("rewrite at the limit: %v %v", ok, err)
	}
	clock.advance(2 * time.Minute)
	if _, err := m.Set(ctx, "after expiry", nil, time.Minute, Always); err != nil {
		t.Errorf("write after the keys expired: %v", err)
	}
	if n := m.Len(); n > 1024 {
		t.Errorf("%d keys kept after the sweep, want the expired ones gone", n)
	}
}

func TestRedisDownIsUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DisableIdentity: true})
	defer rdb.Close()
	s := NewRedis(rdb)
	ctx := context.Background()
	if _, err := s.Get(ctx, "k"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Get: %v", err)
	}
	if _, err := s.Set(ctx, "k", nil, time.Minute, Always); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Set: %v", err)
	}
	if _, err := s.Take(ctx, "k"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Take: %v", err)
	}
	if _, _, err := s.Count(ctx, "k", time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Count: %v", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Ping: %v", err)
	}
}

// Keys that lapsed after a burst go at the next write a minute on, even
// though the store never grew to twice its size again.
func TestMemorySweepsLapsedKeysOverTime(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	m := NewMemory(clock.now, 0)
	ctx := context.Background()
	for i := range 5000 {
		if _, err := m.Set(ctx, fmt.Sprint("burst", i), nil, time.Minute, Always); err != nil {
			t.Fatal(err)
		}
	}
	clock.advance(sweepEvery + time.Second)
	if _, err := m.Set(ctx, "later", nil, time.Hour, Always); err != nil {
		t.Fatal(err)
	}
	if n := m.Len(); n != 1 {
		t.Errorf("%d keys after the burst lapsed, want 1", n)
	}
}
