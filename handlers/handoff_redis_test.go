package handlers

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestRedisHandoffsAcrossReplicas: a pre-session opened and a code minted on
// one replica are redeemed on another, once, and only by their pre-session.
func TestRedisHandoffsAcrossReplicas(t *testing.T) {
	rdb := startRedis(t)
	keys := [][]byte{[]byte("0123456789abcdef0123456789abcdef")}
	a, err := newRedisHandoffs(keys, rdb)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := newRedisHandoffs(keys, rdb)
	ctx := context.Background()
	sess := newSession()
	sess.Sub, sess.AccessToken, sess.TokenExpiry = "auth0|alice", "token-value", time.Now().Add(10*time.Minute)

	pre := bindingOf(randomToken(32))
	if err := a.startPreSession(ctx, pre); err != nil {
		t.Fatal(err)
	}
	if open, err := b.preSessionOpen(ctx, pre); err != nil || !open {
		t.Fatalf("pre-session not visible on the other replica: %v %v", open, err)
	}
	code, ok, err := b.mint(ctx, pre, sess)
	if err != nil || !ok {
		t.Fatalf("mint: %v %v", ok, err)
	}
	if _, again, _ := a.mint(ctx, pre, sess); again {
		t.Error("a second code was minted for the same pre-session")
	}
	if raw, _ := rdb.Get(ctx, redisHandoffPrefix+bindingOf(code)).Result(); raw == "" || containsAny(raw, "token-value", "auth0|alice", code) {
		t.Errorf("the stored code is missing or not sealed: %q", raw)
	}
	if _, ok, _ := a.redeem(ctx, code, bindingOf(randomToken(32))); ok {
		t.Error("redeemed from another pre-session")
	}
	// That attempt spent the code.
	pre2 := bindingOf(randomToken(32))
	_ = a.startPreSession(ctx, pre2)
	code2, _, _ := a.mint(ctx, pre2, sess)
	got, ok, err := b.redeem(ctx, code2, pre2)
	if err != nil || !ok || got.Sub != "auth0|alice" || got.AccessToken != "token-value" {
		t.Fatalf("redeem on the other replica: %+v %v %v", got, ok, err)
	}
	if _, ok, _ := a.redeem(ctx, code2, pre2); ok {
		t.Error("a code was redeemed twice")
	}
	if _, ok, _ := b.redeem(ctx, code, pre); ok {
		t.Error("a code spent by a wrong attempt still works")
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
