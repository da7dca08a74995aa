package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mfaportal/auth0emu"
)

// sessionCookieName is the portal's session cookie (handlers/session.go).
const sessionCookieName = "__Host-mfaportal"

// signInResult is the outcome of signing in a batch of users.
type signInResult struct {
	total     int
	attempted int
	ok        int
	failed    int
	firstErr  error
	elapsed   time.Duration
	timedOut  bool
	cookies   []string // "name=value" of the session cookie, by user index; "" when failed or not kept
}

// cookieList returns the cookies of the users who signed in.
func (s signInResult) cookieList() []string {
	var out []string
	for _, c := range s.cookies {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// signInPlan says which portal to sign bench users 0..n-1 in to, how, and
// what to do with their session cookies.
type signInPlan struct {
	portal string        // the portal's base URL
	n      int           // users to sign in
	pool   int           // concurrent sign-ins
	limit  time.Duration // no new sign-in starts after this
	keep   bool          // keep the cookies (the load runs need them)
	visit  bool          // view GET /factors once with each new session
	peer   bool          // portal is the oauth2-proxy peer's address
}

// signInAll signs bench users 0..n-1 in through the real flow with a bounded
// pool of workers, and stops starting new sign-ins after the plan's limit.
func signInAll(ctx context.Context, e *env, plan signInPlan) signInResult {
	ctx, cancel := context.WithTimeout(ctx, plan.limit)
	defer cancel()
	n, pool, keep := plan.n, plan.pool, plan.keep
	transport := &http.Transport{MaxIdleConns: pool * 2, MaxIdleConnsPerHost: pool, IdleConnTimeout: 30 * time.Second}
	defer transport.CloseIdleConnections()
	viewer := &http.Client{Transport: transport, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	res := signInResult{total: n}
	if keep {
		res.cookies = make([]string, n)
	}
	var next, ok, failed atomic.Int64
	var errOnce sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for range min(pool, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				sign := signIn
				if plan.peer {
					sign = signInPeer
				}
				cookie, err := sign(ctx, e, plan.portal, transport, benchEmail(i))
				if err == nil && plan.visit {
					_, err = getOK(ctx, viewer, plan.portal+"/factors", cookie)
				}
				if err != nil {
					failed.Add(1)
					errOnce.Do(func() { res.firstErr = err })
					continue
				}
				ok.Add(1)
				if keep {
					res.cookies[i] = cookie
				}
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.ok, res.failed = int(ok.Load()), int(failed.Load())
	res.attempted = res.ok + res.failed
	res.timedOut = res.attempted < n
	return res
}

// signIn walks one user through the portal's /login, the tenant's login and
// OTP pages, and the portal's /callback, like a browser, and returns the
// session cookie the portal set.
func signIn(ctx context.Context, e *env, portal string, transport http.RoundTripper, email string) (string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", err
	}
	client := &http.Client{
		Jar: jar, Transport: transport, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := get(ctx, client, portal+"/login?return=%2Ffactors", "")
	if err != nil {
		return "", err
	}
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, e.tenantURL+"/authorize") {
		return "", fmt.Errorf("GET /login: want a redirect to the tenant, got %d", resp.StatusCode)
	}
	back, err := auth0emu.CompleteSignIn(ctx, client, loc, auth0emu.SignIn{Email: email, Password: benchPassword, MFAMethod: "otp"})
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(back.String(), portal+"/callback") {
		return "", errors.New("the tenant did not send the user back to the portal's callback")
	}
	resp, err = get(ctx, client, back.String(), "")
	if err != nil {
		return "", err
	}
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookieName && c.Value != "" {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", fmt.Errorf("GET /callback: status %d and no session cookie", resp.StatusCode)
}

// get sends a GET with an optional Cookie header and drains the body, so the
// connection goes back to the pool.
func get(ctx context.Context, client *http.Client, url, cookie string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, err
}
