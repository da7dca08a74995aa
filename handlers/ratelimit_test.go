package handlers

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"mfaportal/mfaapi"
)

// settableClock is a clock a test moves forward.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *settableClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestMemoryLimiter(t *testing.T) {
	clock := &settableClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	l := newMemoryLimiter(clock.now)
	ctx := context.Background()
	allow := func(a limitedAction, sub string) time.Duration {
		t.Helper()
		wait, err := l.allow(ctx, a, sub)
		if err != nil {
			t.Fatal(err)
		}
		return wait
	}
	for i := 1; i <= maxRegenerationsPerWindow; i++ {
		if wait := allow(actionRegenerate, "auth0|alice"); wait != 0 {
			t.Fatalf("regeneration %d refused (wait %s)", i, wait)
		}
		clock.advance(time.Minute)
	}
	wait := allow(actionRegenerate, "auth0|alice")
	if want := limitWindow - maxRegenerationsPerWindow*time.Minute; wait != want {
		t.Errorf("over the limit: wait %s, want %s (until the window that began at the first attempt ends)", wait, want)
	}
	// Other users and other actions have their own counts.
	if wait := allow(actionRegenerate, "auth0|bob"); wait != 0 {
		t.Errorf("bob was limited by alice's count")
	}
	if wait := allow(actionRemoveFactor, "auth0|alice"); wait != 0 {
		t.Errorf("removals were limited by regenerations")
	}
	clock.advance(limitWindow)
	if wait := allow(actionRegenerate, "auth0|alice"); wait != 0 {
		t.Errorf("still limited after the window ended (wait %s)", wait)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.windows) != 1 {
		t.Errorf("ended windows were kept: %d entries, want 1", len(l.windows))
	}
}

// countingUpstream counts calls to Auth0, to prove a limited request makes none.
type countingUpstream struct {
	mu                     sync.Mutex
	lists, deletes, regens int
}

func (u *countingUpstream) ListAuthenticators(context.Context, string) ([]mfaapi.Authenticator, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lists++
	return []mfaapi.Authenticator{{ID: "totp|dev_1", AuthenticatorType: "otp", Active: true}}, nil
}

func (u *countingUpstream) DeleteAuthenticator(context.Context, string, string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.deletes++
	return nil
}

func (u *countingUpstream) RegenerateRecoveryCode(context.Context, string) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.regens++
	return "ABCDEFGHJKLMNPQRSTUVWXYZ", nil
}

func (u *countingUpstream) calls() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.lists + u.deletes + u.regens
}

func TestDestructiveActionsAreLimitedPerUser(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		max    int
		action string
	}{
		{name: "recovery code regeneration", path: "/recovery-code", max: maxRegenerationsPerWindow, action: "generate new recovery codes"},
		{name: "factor removal", path: "/factors/totp%7Cdev_1/delete", max: maxFactorRemovalsPerWindow, action: "remove sign-in methods"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &settableClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
			keys := [][]byte{bytes.Repeat([]byte{0x5a}, 32)}
			upstream := &countingUpstream{}
			e, err := New(Deps{
				SignIn:      NewOIDC(OIDCConfig{Issuer: "https://tenant.example.com/", ClientID: "portal-web", RedirectURL: "https://mfa.example.com/callback", Now: clock.now}),
				Factors:     upstream,
				Recovery:    upstream,
				SessionKeys: keys,
				PublicURL:   "https://mfa.example.com",
				Issuer:      "https://tenant.example.com/",
				Now:         clock.now,
			})
			if err != nil {
				t.Fatal(err)
			}
			cookie, sess := signedInCookie(t, keys, clock.now)
			post := func() *httptest.ResponseRecorder {
				form := url.Values{"csrf_token": {sess.CSRFToken}, "regen_nonce": {sess.RegenNonce}}
				req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				req.Header.Set("Cookie", cookie)
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				return rec
			}
			for i := 1; i <= tt.max; i++ {
				if rec := post(); rec.Code != http.StatusOK && rec.Code != http.StatusSeeOther {
					t.Fatalf("attempt %d: status %d, want it allowed", i, rec.Code)
				}
				clock.advance(time.Second)
			}
			before := upstream.calls()
			rec := post()
			if rec.Code != http.StatusTooManyRequests {
				t.Fatalf("attempt %d: status %d, want 429", tt.max+1, rec.Code)
			}
			body := rec.Body.String()
			for _, want := range []string{"done this too often", tt.action, "Nothing was changed", "Please wait 10 minutes"} {
				if !strings.Contains(body, want) {
					t.Errorf("the page does not say %q:\n%s", want, body)
				}
			}
			if got := rec.Header().Get("Retry-After"); got == "" || got == "0" {
				t.Errorf("Retry-After = %q, want the wait in seconds", got)
			}
			if upstream.calls() != before {
				t.Errorf("a limited request called Auth0 (%d calls)", upstream.calls()-before)
			}
			clock.advance(limitWindow)
			if rec := post(); rec.Code == http.StatusTooManyRequests {
				t.Errorf("still limited after the window")
			}
		})
	}
}

// signedInCookie is a cookie-mode session as /callback writes it.
func signedInCookie(t *testing.T, keys [][]byte, now func() time.Time) (string, *userSession) {
	t.Helper()
	store, err := newSessionStore(keys, now)
	if err != nil {
		t.Fatal(err)
	}
	sess := newSession()
	sess.Sub = "auth0|alice"
	sess.AccessToken = "mfa-token"
	sess.TokenExpiry = now().Add(time.Hour)
	sess.AuthTime = now()
	rec := httptest.NewRecorder()
	if err := store.save(rec, httptest.NewRequest(http.MethodGet, "/callback", nil), sess); err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookieName {
			return c.Name + "=" + c.Value, sess
		}
	}
	t.Fatal("no session cookie was written")
	return "", nil
}
