package ratelimit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"mfaportal/internal/redistest"
	"mfaportal/kvstore"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

var regenerate = Rule{Name: "regenerate", Max: 3, Window: 10 * time.Minute}
var remove = Rule{Name: "remove", Max: 10, Window: 10 * time.Minute}

func TestLimiterInMemory(t *testing.T) {
	clk := &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	l := New(kvstore.NewMemory(clk.now, 0))
	ctx := context.Background()
	for i := 1; i <= regenerate.Max; i++ {
		if err := l.Allow(ctx, regenerate, "auth0|alice"); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		clk.advance(time.Minute)
	}
	var ex *ExceededError
	if err := l.Allow(ctx, regenerate, "auth0|alice"); !errors.As(err, &ex) || ex.Wait != regenerate.Window-3*time.Minute {
		t.Fatalf("over the limit: %v, want a wait until the window that began at the first attempt ends", err)
	}
	if err := l.Allow(ctx, regenerate, "auth0|bob"); err != nil {
		t.Error("bob was limited by alice's count")
	}
	if err := l.Allow(ctx, remove, "auth0|alice"); err != nil {
		t.Error("removals were limited by regenerations")
	}
	clk.advance(regenerate.Window)
	if err := l.Allow(ctx, regenerate, "auth0|alice"); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestLimiterSharedThroughRedis(t *testing.T) {
	srv := redistest.Start(t, "")
	a, b := New(kvstore.NewRedis(srv.Client)), New(kvstore.NewRedis(srv.Client))
	ctx := context.Background()
	for i := 1; i <= regenerate.Max; i++ {
		l := a
		if i%2 == 0 {
			l = b
		}
		if err := l.Allow(ctx, regenerate, "auth0|alice"); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	var ex *ExceededError
	if err := b.Allow(ctx, regenerate, "auth0|alice"); !errors.As(err, &ex) || ex.Wait <= regenerate.Window-time.Minute || ex.Wait > regenerate.Window {
		t.Errorf("over the limit through the other replica: %v; want a wait of about %s", err, regenerate.Window)
	}
}
