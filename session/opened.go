package session

import (
	"crypto/sha256"
	"sync"
	"time"
)

// openedCache remembers what recent sealed sessions (cookies, and records
// read from Redis) opened to, so a page view does not pay again for what
// the last one verified: base64, HMAC, AES and JSON were a tenth of a
// view's CPU. It is keyed by the SHA-256 of the cookie's name (or record's
// key) and the whole sealed value, so only the exact value that opened
// finds its entry; everything a Load checks beyond the seal (the
// revocation list, the record's existence, the session's own expiry) is
// checked on every view.
// It is bounded in entries and in age (the seal's own age limit is checked
// again when an entry lapses).
type openedCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]openedEntry
}

type openedEntry struct {
	v      payload
	opened time.Time
}

const (
	// openedMax bounds the entries: about a kilobyte and a half each, so
	// at most about 1.5 MB, whatever the number of users.
	openedMax = 1024
	// openedFor is how long an entry is used before the seal is opened
	// again.
	openedFor = time.Minute
)

func openedKey[V string | []byte](name string, value V) [sha256.Size]byte {
	// On the stack for every cookie that fits one (4096 bytes at most).
	var buf [4096 + 64]byte
	b := append(buf[:0], name...)
	b = append(b, 0)
	b = append(b, value...)
	return sha256.Sum256(b)
}

func (c *openedCache) get(k [sha256.Size]byte, now time.Time) (payload, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || now.Sub(e.opened) >= openedFor || now.Before(e.opened) {
		return payload{}, false
	}
	return e.v, true
}

func (c *openedCache) put(k [sha256.Size]byte, v payload, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[[sha256.Size]byte]openedEntry, openedMax)
	}
	if len(c.entries) >= openedMax {
		for old := range c.entries { // any one: map order is random
			delete(c.entries, old)
			break
		}
	}
	c.entries[k] = openedEntry{v: v, opened: now}
}
