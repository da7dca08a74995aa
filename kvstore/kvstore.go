// Package kvstore is the small key-value store that holds the portal's
// server-side state: session records (with Redis), revocations, one-time
// tokens and counters. Memory serves one process; Redis is shared by
// replicas. Both honour the same contract (see contract_test.go), so the
// packages above them are written once.
package kvstore

import (
	"context"
	"errors"
	"time"
)

// Errors every implementation returns, wrapped with detail.
var (
	// ErrUnavailable: the store could not be reached or did not answer.
	ErrUnavailable = errors.New("kvstore: unavailable")
	// ErrFull: the memory store holds as many live keys as it may; nothing
	// was written. It bounds what a flood of requests can make it keep.
	ErrFull = errors.New("kvstore: full")
)

// SetMode says when Set writes.
type SetMode int

const (
	// Always writes whether or not the key exists.
	Always SetMode = iota
	// IfAbsent writes only a key that does not exist: the first of
	// concurrent writers wins, which is how a token is spent once.
	IfAbsent
	// IfPresent writes only a key that still exists, so a late write cannot
	// bring back what another request deleted.
	IfPresent
)

// Store is the contract both implementations keep. Every key expires: there
// is no write without a lifetime.
type Store interface {
	// Get returns the value of each key, nil where it is missing or expired.
	Get(ctx context.Context, keys ...string) ([][]byte, error)
	// Set stores value under key for ttl as mode allows, and reports
	// whether it wrote.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration, mode SetMode) (bool, error)
	// Take returns the key's value and deletes it in one step: of
	// concurrent callers, exactly one gets it. Nil when missing.
	Take(ctx context.Context, key string) ([]byte, error)
	// Delete removes the keys; missing ones are no error.
	Delete(ctx context.Context, keys ...string) error
	// Count adds one to the counter at key and returns the new count and
	// how long its window has left. The window starts at the first count and
	// lasts window; then the counter starts again from one.
	Count(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error)
	// Epoch names the life of the stored state: it changes whenever the
	// state is lost (a Memory store is new with every process; Redis keeps
	// one, ""). A seal that only this state can revoke must not outlive it,
	// so package session mixes the epoch into its keys.
	Epoch() string
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
}
