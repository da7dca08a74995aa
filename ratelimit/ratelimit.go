// Package ratelimit counts attempts at an action per user (or per client
// address) in a fixed window, in the key-value store, so a limit reached
// through one replica holds on all of them.
package ratelimit

import (
	"context"
	"fmt"
	"time"

	"mfaportal/kvstore"
)

// Rule is one limit: at most Max attempts at Name per Window, the window
// starting at the first attempt.
type Rule struct {
	Name   string // a fixed name: it becomes a metric label
	Max    int
	Window time.Duration
}

// ExceededError is an attempt over a rule; the error page explains the
// wait.
type ExceededError struct {
	Rule Rule
	Wait time.Duration
}

func (e *ExceededError) Error() string {
	return fmt.Sprintf("ratelimit: %d %s per %s reached; wait %s", e.Rule.Max, e.Rule.Name, e.Rule.Window, e.Wait.Round(time.Second))
}

// Limiter counts in a key-value store.
type Limiter struct {
	kv kvstore.Store
}

// New counts in kv.
func New(kv kvstore.Store) *Limiter { return &Limiter{kv: kv} }

// Allow counts one attempt at rule by who and returns an *ExceededError
// when it is over the limit, or the store's error when it cannot count.
func (l *Limiter) Allow(ctx context.Context, rule Rule, who string) error {
	n, left, err := l.kv.Count(ctx, "limit:"+rule.Name+":"+who, rule.Window)
	if err != nil {
		return err
	}
	if n > int64(rule.Max) {
		return &ExceededError{Rule: rule, Wait: left}
	}
	return nil
}
