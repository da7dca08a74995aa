// Package authmethods is a user's authentication methods as the Management
// API states them, cached per user in the state store (Redis when
// configured, so replicas share it) for a short lifetime, and forgotten
// after every change the portal makes. A page view then costs at most one
// Management API call per user per lifetime.
package authmethods

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"sync"
	"time"

	"mfaportal/kvstore"
	"mfaportal/mfaapi"
)

// Lifetime is how long a user's list is reused. Changes made through the
// portal forget it at once; changes made elsewhere (Auth0's dashboard, a
// sign-in that records last use) show after at most this long.
const Lifetime = 60 * time.Second

// api is the Management API as this package uses it.
type api interface {
	ListAuthenticationMethods(ctx context.Context, userID string) ([]mfaapi.AuthMethod, error)
	UpdateAuthenticationMethod(ctx context.Context, userID, methodID string, u mfaapi.MethodUpdate) (mfaapi.AuthMethod, error)
	DeleteAuthenticationMethod(ctx context.Context, userID, methodID string) error
}

var _ api = (*mfaapi.Management)(nil)

// Cache wraps the Management API's method calls with the per-user list.
type Cache struct {
	api api
	kv  kvstore.Store
	// decoded remembers the last list decoded per key with the bytes it
	// came from: the state store (Redis shared by replicas, or memory)
	// stays the truth, and a view whose bytes are the same as last time
	// skips decoding them again. Bounded: decodedMax entries.
	mu      sync.Mutex
	decoded map[string]decodedList
}

type decodedList struct {
	raw     []byte
	methods []mfaapi.AuthMethod
}

// decodedMax bounds the decoded lists kept (about a kilobyte each).
const decodedMax = 1024

// New caches api's lists in kv.
func New(api api, kv kvstore.Store) *Cache { return &Cache{api: api, kv: kv} }

// decode is json.Unmarshal of raw, or the list decoded from the same
// bytes last time.
func (c *Cache) decode(key string, raw []byte) ([]mfaapi.AuthMethod, bool) {
	c.mu.Lock()
	d, ok := c.decoded[key]
	c.mu.Unlock()
	if ok && bytes.Equal(d.raw, raw) {
		return d.methods, true
	}
	var methods []mfaapi.AuthMethod
	if json.Unmarshal(raw, &methods) != nil {
		return nil, false
	}
	c.mu.Lock()
	if c.decoded == nil {
		c.decoded = make(map[string]decodedList, decodedMax)
	}
	if len(c.decoded) >= decodedMax {
		for k := range c.decoded { // any one: map order is random
			delete(c.decoded, k)
			break
		}
	}
	c.decoded[key] = decodedList{raw: raw, methods: methods}
	c.mu.Unlock()
	return methods, true
}

func key(userID string) string {
	sum := sha256.Sum256([]byte(userID))
	return "methods:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// Cached returns userID's methods when the cache holds them; it asks the
// Management API nothing. A failing state store reads as a miss. The list
// is shared with later calls: read it, never change it.
func (c *Cache) Cached(ctx context.Context, userID string) ([]mfaapi.AuthMethod, bool) {
	k := key(userID)
	vals, err := c.kv.Get(ctx, k)
	if err != nil || vals[0] == nil {
		return nil, false
	}
	return c.decode(k, vals[0])
}

// Fetch asks the Management API for userID's methods and caches the
// answer. A failing state store only costs the cache, never the answer.
func (c *Cache) Fetch(ctx context.Context, userID string) ([]mfaapi.AuthMethod, error) {
	methods, err := c.api.ListAuthenticationMethods(ctx, userID)
	if err != nil {
		return nil, err
	}
	if b, err := json.Marshal(methods); err == nil {
		_, _ = c.kv.Set(ctx, key(userID), b, Lifetime, kvstore.Always)
	}
	return methods, nil
}

// Forget drops userID's cached list, after a change made any other way
// (the MFA API, a recovery code). It reports whether it could: when it
// could not, the list may show the old state for up to Lifetime.
func (c *Cache) Forget(ctx context.Context, userID string) error {
	return c.kv.Delete(ctx, key(userID))
}

// Update changes a method and forgets the list.
func (c *Cache) Update(ctx context.Context, userID, methodID string, u mfaapi.MethodUpdate) error {
	_, err := c.api.UpdateAuthenticationMethod(ctx, userID, methodID, u)
	_ = c.Forget(ctx, userID) // also after a failure: it may have applied
	return err
}

// Delete removes a method and forgets the list.
func (c *Cache) Delete(ctx context.Context, userID, methodID string) error {
	err := c.api.DeleteAuthenticationMethod(ctx, userID, methodID)
	_ = c.Forget(ctx, userID)
	return err
}
