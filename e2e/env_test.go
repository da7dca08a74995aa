// Package e2e runs the portal and the emulated tenant together on loopback
// and drives them as a browser, an attacker and a bad network would.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"mfaportal/app"
	"mfaportal/auth0emu"
	"mfaportal/emulated"
)

const (
	alice = "auth0|alice"
	bob   = "auth0|bob"
)

// testClock is a clock both the portal and the tenant read, so a test can
// make the 10-minute /mfa/ token expire without waiting.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lockedBuffer collects the portal's logs for the "no secrets in logs" checks.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is one emulated tenant and one portal, wired as `go run . dev` does.
type env struct {
	t         *testing.T
	tenant    *auth0emu.Tenant
	tenantURL string
	portalURL string
	clock     *testClock
	logs      *lockedBuffer
	// tap observes (and can fail) what reaches the tenant, when a test put
	// one in front of it.
	tap *upstreamTap
}

type envOptions struct {
	extraEnv map[string]string
}

// newEnv is the tenant with the demo users and the portal, as `go run . dev`
// wires them, on a test clock.
func newEnv(t *testing.T, opts ...envOptions) *env {
	t.Helper()
	spec := envSpec{extraEnv: map[string]string{}}
	for _, o := range opts {
		for k, v := range o.extraEnv {
			spec.extraEnv[k] = v
		}
	}
	return newEnvWith(t, spec)
}

// envSpec changes what newEnvWith builds compared with newEnv.
type envSpec struct {
	// users are the tenant's seed users; nil means the demo users.
	users []auth0emu.User
	// rateLimits are the tenant's per-route limits; they set the reset an
	// injected 429 announces.
	rateLimits map[string]auth0emu.RateLimit
	// realClock runs the tenant and the portal on time.Now, for faults whose
	// timing is checked against the wall clock (a 429's reset). env.clock is
	// then nil.
	realClock bool
	// front wraps the tenant's handler: everything the portal and the
	// browser send to the tenant's origin goes through it.
	front func(tenant http.Handler) http.Handler
	// extraEnv adds or overrides portal configuration variables.
	extraEnv map[string]string
}

// newEnvWith is newEnv with the tenant built from spec. The wiring is the
// same as newEnv's, which is `go run . dev`'s.
func newEnvWith(t *testing.T, spec envSpec) *env {
	t.Helper()
	now := time.Now
	var clock *testClock
	if !spec.realClock {
		clock = &testClock{t: time.Now()}
		now = clock.Now
	}
	tenantLn := listen(t)
	portalLn := listen(t)
	tenantURL := "http://" + tenantLn.Addr().String()
	portalURL := "http://" + portalLn.Addr().String()

	tenant, err := auth0emu.New(auth0emu.Options{BaseURL: tenantURL, Now: now, Users: spec.users, RateLimits: spec.rateLimits})
	if err != nil {
		t.Fatal(err)
	}
	// The robots here open pages far faster than a person: no view limit
	// (its own test sets one).
	vars := map[string]string{"UPSTREAM_TIMEOUT": "3s", "LOG_LEVEL": "debug", "VIEWS_PER_MINUTE": "1000000"}
	for k, v := range spec.extraEnv {
		vars[k] = v
	}
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	portal, err := emulated.Portal(context.Background(), tenant, portalURL, vars, app.Options{Logger: logger, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var tenantHandler http.Handler = tenant
	if spec.front != nil {
		tenantHandler = spec.front(tenant)
	}
	tenantSrv := &httptest.Server{Listener: tenantLn, Config: &http.Server{Handler: tenantHandler}}
	tenantSrv.Start()
	portalSrv := &httptest.Server{Listener: portalLn, Config: &http.Server{Handler: portal}}
	portalSrv.Start()
	t.Cleanup(func() {
		portalSrv.Close()
		tenantSrv.Close()
	})
	return &env{t: t, tenant: tenant, tenantURL: tenantURL, portalURL: portalURL, clock: clock, logs: logs}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// browser is a cookie-keeping HTTP client that follows redirects within the
// portal and stops where a real browser would hand over to Auth0's pages.
type browser struct {
	e   *env
	jar *cookiejar.Jar
	c   *http.Client
}

func (e *env) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{e: e, jar: jar}
	b.c = &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), e.portalURL) || len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// page is a response with its body read.
type page struct {
	status int
	url    *url.URL
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	return b.send(b.c, req)
}

// doOnce sends req without following any redirect.
func (b *browser) doOnce(req *http.Request) page {
	b.e.t.Helper()
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return b.send(&c, req)
}

func (b *browser) send(c *http.Client, req *http.Request) page {
	b.e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		b.e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, url: resp.Request.URL, header: resp.Header, body: string(body)}
}

func (b *browser) get(path string) page {
	req, _ := http.NewRequest(http.MethodGet, b.e.portalURL+path, nil)
	req.Header.Set("Sec-Fetch-Site", "none")
	return b.do(req)
}

// post submits a form the way the portal's own pages do (same origin).
func (b *browser) post(path string, form url.Values) page {
	return b.do(b.postRequest(path, form))
}

// postOnce is post without following the answer's redirect.
func (b *browser) postOnce(path string, form url.Values) page {
	return b.doOnce(b.postRequest(path, form))
}

func (b *browser) postRequest(path string, form url.Values) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, b.e.portalURL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.e.portalURL)
	return req
}

// getOnce is get without following the answer's redirect.
func (b *browser) getOnce(path string) page {
	req, _ := http.NewRequest(http.MethodGet, b.e.portalURL+path, nil)
	req.Header.Set("Sec-Fetch-Site", "none")
	return b.doOnce(req)
}

// signIn goes from a portal page through the tenant's sign-in and MFA pages
// and back, like a person would, and returns the page it lands on.
func (b *browser) signIn(path string, s auth0emu.SignIn) page {
	b.e.t.Helper()
	p := b.get(path)
	loc := p.header.Get("Location")
	if p.status != http.StatusFound || !strings.HasPrefix(loc, b.e.tenantURL+"/authorize") {
		b.e.t.Fatalf("GET %s: want a redirect to the tenant's /authorize, got %d %s", path, p.status, loc)
	}
	back, err := auth0emu.CompleteSignIn(context.Background(), b.c, loc, s)
	if err != nil {
		b.e.t.Fatalf("sign-in at the tenant: %v", err)
	}
	if !strings.HasPrefix(back.String(), b.e.portalURL+"/callback") {
		b.e.t.Fatalf("tenant sent us to %s, want the portal's callback", back)
	}
	req, _ := http.NewRequest(http.MethodGet, back.String(), nil)
	return b.do(req)
}

// signInOnly signs in and stops at the callback's redirect, without opening
// the page it leads to, so nothing that page would fetch is fetched yet.
func (b *browser) signInOnly(s auth0emu.SignIn) {
	b.e.t.Helper()
	login := b.getOnce("/login")
	back, err := auth0emu.CompleteSignIn(context.Background(), b.c, login.header.Get("Location"), s)
	if err != nil {
		b.e.t.Fatalf("sign-in at the tenant: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, back.String(), nil)
	if p := b.doOnce(req); p.status != http.StatusSeeOther {
		b.e.t.Fatalf("callback: %d, want 303", p.status)
	}
}

// regenerateQuietly opens the recovery page and regenerates, for use off
// the test's goroutine: it reports instead of failing the test.
func (b *browser) regenerateQuietly() (int, error) {
	req, _ := http.NewRequest(http.MethodGet, b.e.portalURL+"/recovery-code", nil)
	req.Header.Set("Sec-Fetch-Site", "none")
	resp, err := b.c.Do(req)
	if err != nil {
		return 0, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token, nonce := csrfField.FindSubmatch(body), regenNonceField.FindSubmatch(body)
	if token == nil || nonce == nil {
		return resp.StatusCode, fmt.Errorf("no form on /recovery-code (status %d)", resp.StatusCode)
	}
	resp, err = b.c.Do(b.postRequest("/recovery-code", url.Values{"csrf_token": {string(token[1])}, "regen_nonce": {string(nonce[1])}}))
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

var regenNonceField = regexp.MustCompile(`name="regen_nonce" value="([^"]+)"`)

func (b *browser) signInAlice(path string) page {
	return b.signIn(path, auth0emu.SignIn{Email: "alice@example.com", Password: "alice-demo-pass", MFAMethod: "otp"})
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf is the CSRF token on the last page the browser saw.
func csrf(t *testing.T, p page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf_token on page %s (status %d)", p.url, p.status)
	}
	return m[1]
}

func field(t *testing.T, p page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no %s on page %s", name, p.url)
	}
	return m[1]
}

// ids lists the tenant's authenticator ids for a user (active and not).
func (e *env) ids(userID string) []string {
	var out []string
	for _, a := range e.tenant.Authenticators(userID) {
		out = append(out, a.ID)
	}
	return out
}

func (e *env) idOf(userID, prefix string) string {
	e.t.Helper()
	for _, a := range e.tenant.Authenticators(userID) {
		if strings.HasPrefix(a.ID, prefix) && a.Active {
			return a.ID
		}
	}
	e.t.Fatalf("%s has no active authenticator %s*", userID, prefix)
	return ""
}
