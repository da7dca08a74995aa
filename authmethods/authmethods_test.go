package authmethods

import (
	"context"
	"errors"
	"testing"
	"time"

	"mfaportal/internal/redistest"
	"mfaportal/kvstore"
	"mfaportal/mfaapi"
)

// countingAPI answers from a list it can change, counting the calls.
type countingAPI struct {
	methods []mfaapi.AuthMethod
	lists   int
	err     error
}

func (a *countingAPI) ListAuthenticationMethods(context.Context, string) ([]mfaapi.AuthMethod, error) {
	a.lists++
	return a.methods, a.err
}

func (a *countingAPI) UpdateAuthenticationMethod(_ context.Context, _, id string, u mfaapi.MethodUpdate) (mfaapi.AuthMethod, error) {
	for i := range a.methods {
		if a.methods[i].ID == id && u.Name != nil {
			a.methods[i].Name = *u.Name
		}
	}
	return mfaapi.AuthMethod{}, nil
}

func (a *countingAPI) DeleteAuthenticationMethod(context.Context, string, string) error {
	a.methods = nil
	return nil
}

// list is what a page view does: the cached list, else the Management
// API's.
func list(ctx context.Context, c *Cache, userID string) ([]mfaapi.AuthMethod, error) {
	if methods, ok := c.Cached(ctx, userID); ok {
		return methods, nil
	}
	return c.Fetch(ctx, userID)
}

func TestCache(t *testing.T) {
	stores := map[string]func(t *testing.T) kvstore.Store{
		"memory": func(*testing.T) kvstore.Store { return kvstore.NewMemory(nil, 0) },
		"redis":  func(t *testing.T) kvstore.Store { return kvstore.NewRedis(redistest.Start(t, "").Client) },
	}
	for name, store := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			api := &countingAPI{methods: []mfaapi.AuthMethod{{ID: "phone|dev_X", Type: "phone", Name: "Work",
				CreatedAt: time.Date(2024, 4, 10, 11, 0, 0, 0, time.UTC)}}}
			c := New(api, store(t))
			for range 3 {
				got, err := list(ctx, c, "auth0|alice")
				if err != nil || len(got) != 1 || got[0].Name != "Work" || !got[0].CreatedAt.Equal(api.methods[0].CreatedAt) {
					t.Fatalf("list: %+v %v", got, err)
				}
			}
			if api.lists != 1 {
				t.Errorf("%d Management calls for 3 views, want 1", api.lists)
			}
			if got, ok := c.Cached(ctx, "auth0|alice"); !ok || len(got) != 1 || api.lists != 1 {
				t.Errorf("Cached after a list: %+v, %v (%d calls)", got, ok, api.lists)
			}
			if got, ok := c.Cached(ctx, "auth0|bob"); ok || api.lists != 1 {
				t.Errorf("Cached for a user never listed: %+v, %v; it must ask nothing (%d calls)", got, ok, api.lists)
			}
			if _, err := list(ctx, c, "auth0|bob"); err != nil || api.lists != 2 {
				t.Errorf("another user shares alice's entry (%d calls)", api.lists)
			}
			name := "Desk"
			if err := c.Update(ctx, "auth0|alice", "phone|dev_X", mfaapi.MethodUpdate{Name: &name}); err != nil {
				t.Fatal(err)
			}
			if got, _ := list(ctx, c, "auth0|alice"); got[0].Name != "Desk" || api.lists != 3 {
				t.Errorf("after a rename the list is stale: %+v (%d calls)", got, api.lists)
			}
			if err := c.Delete(ctx, "auth0|alice", "phone|dev_X"); err != nil {
				t.Fatal(err)
			}
			if got, _ := list(ctx, c, "auth0|alice"); len(got) != 0 {
				t.Errorf("after a removal the list is stale: %+v", got)
			}
			api.methods = []mfaapi.AuthMethod{{ID: "totp|dev_Y", Type: "totp"}}
			c.Forget(ctx, "auth0|alice")
			if got, _ := list(ctx, c, "auth0|alice"); len(got) != 1 || got[0].ID != "totp|dev_Y" {
				t.Errorf("Forget kept the old list: %+v", got)
			}
			// Errors are not cached.
			api.err = errors.New("down")
			c.Forget(ctx, "auth0|alice")
			if _, err := list(ctx, c, "auth0|alice"); err == nil {
				t.Error("the error was hidden")
			}
			if _, ok := c.Cached(ctx, "auth0|alice"); ok {
				t.Error("a failed fetch left a list in the cache")
			}
			api.err = nil
			if _, err := list(ctx, c, "auth0|alice"); err != nil {
				t.Errorf("a failure was cached: %v", err)
			}
			// Fetch always asks, and refreshes the cache.
			api.methods = []mfaapi.AuthMethod{{ID: "email|dev_Z", Type: "email"}}
			calls := api.lists
			if got, err := c.Fetch(ctx, "auth0|alice"); err != nil || len(got) != 1 || got[0].ID != "email|dev_Z" || api.lists != calls+1 {
				t.Errorf("Fetch: %+v %v (%d calls, want %d)", got, err, api.lists, calls+1)
			}
			if got, ok := c.Cached(ctx, "auth0|alice"); !ok || got[0].ID != "email|dev_Z" {
				t.Errorf("Cached after Fetch: %+v, %v", got, ok)
			}
		})
	}
}
