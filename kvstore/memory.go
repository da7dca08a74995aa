package kvstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"sync"
	"time"
)

// DefaultMemoryLimit is how many live keys a Memory store keeps at most.
// Each is small (a revocation, a spent token, a counter, a handoff code):
// a million is well under 200 MB and far more than one instance serves.
const DefaultMemoryLimit = 1 << 20

// Memory keeps the state in this process: right for a single instance. It
// is bounded: expired keys are swept as it grows, and when it holds limit
// live keys a write of a new key fails with ErrFull rather than growing.
type Memory struct {
	mu      sync.Mutex
	now     func() time.Time
	limit   int
	entries map[string]memoryEntry
	// sweepAt is the size at which the next write sweeps expired keys; it
	// doubles the live count after each sweep, so sweeping costs O(1)
	// amortised per write. A write also sweeps when the last sweep is
	// sweepEvery old, so keys that lapsed after a burst do not wait for
	// the store to double.
	sweepAt   int
	lastSweep time.Time
	epoch     string
}

// sweepEvery bounds how long lapsed keys stay, given any write.
const sweepEvery = time.Minute

type memoryEntry struct {
	value   []byte
	count   int64
	expires time.Time
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store on the clock now (nil: time.Now) that
// keeps at most limit live keys (0: DefaultMemoryLimit).
func NewMemory(now func() time.Time, limit int) *Memory {
	if now == nil {
		now = time.Now
	}
	if limit <= 0 {
		limit = DefaultMemoryLimit
	}
	epoch := make([]byte, 16)
	if _, err := rand.Read(epoch); err != nil {
		panic("kvstore: crypto/rand failed: " + err.Error())
	}
	return &Memory{now: now, limit: limit, entries: map[string]memoryEntry{}, sweepAt: 1024, epoch: string(epoch)}
}

// live returns the key's entry when it exists and has not expired; called
// with the lock held.
func (m *Memory) live(key string, now time.Time) (memoryEntry, bool) {
	e, ok := m.entries[key]
	if !ok {
		return e, false
	}
	if !now.Before(e.expires) {
		delete(m.entries, key)
		return e, false
	}
	return e, true
}

// room makes room for one new key; called with the lock held.
func (m *Memory) room(now time.Time) error {
	if len(m.entries) < m.sweepAt && len(m.entries) < m.limit && now.Sub(m.lastSweep) < sweepEvery {
		return nil
	}
	before := len(m.entries)
	for k, e := range m.entries {
		if !now.Before(e.expires) {
			delete(m.entries, k)
		}
	}
	if len(m.entries) < before/2 {
		// A Go map keeps the room it once needed: after a burst has
		// lapsed, move what is live into one sized for it.
		live := make(map[string]memoryEntry, len(m.entries))
		maps.Copy(live, m.entries)
		m.entries = live
	}
	m.sweepAt = max(1024, 2*len(m.entries))
	m.lastSweep = now
	if len(m.entries) >= m.limit {
		return fmt.Errorf("%w: %d live keys", ErrFull, len(m.entries))
	}
	return nil
}

func (m *Memory) Get(_ context.Context, keys ...string) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	out := make([][]byte, len(keys))
	for i, k := range keys {
		if e, ok := m.live(k, now); ok {
			out[i] = e.value
		}
	}
	return out, nil
}

func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration, mode SetMode) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("kvstore: no lifetime for %q", key)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	_, exists := m.live(key, now)
	if (mode == IfAbsent && exists) || (mode == IfPresent && !exists) {
		return false, nil
	}
	if !exists {
		if err := m.room(now); err != nil {
			return false, err
		}
	}
	// The caller's slice is copied: it may reuse its buffer.
	m.entries[key] = memoryEntry{value: append([]byte(nil), value...), expires: now.Add(ttl)}
	return true, nil
}

func (m *Memory) Take(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.live(key, m.now())
	if !ok {
		return nil, nil
	}
	delete(m.entries, key)
	return e.value, nil
}

func (m *Memory) Delete(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.entries, k)
	}
	return nil
}

func (m *Memory) Count(_ context.Context, key string, window time.Duration) (int64, time.Duration, error) {
	if window <= 0 {
		return 0, 0, fmt.Errorf("kvstore: no window for %q", key)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	e, ok := m.live(key, now)
	if !ok {
		if err := m.room(now); err != nil {
			return 0, 0, err
		}
		e = memoryEntry{expires: now.Add(window)}
	}
	e.count++
	m.entries[key] = e
	return e.count, e.expires.Sub(now), nil
}

// Epoch is random per Memory store: its state goes with the process.
func (m *Memory) Epoch() string { return m.epoch }

func (m *Memory) Ping(context.Context) error { return nil }

// Len is how many keys the store holds, expired ones not yet swept
// included; for tests and the benchmark's memory figures.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
